/** Figures the benchmarks share. */

export const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/** the values in ascending order (a copy) */
export const ascending = (xs: number[]): number[] => [...xs].sort((a, b) => a - b)

/** nearest-rank percentile (p from 0 to 100) of values sorted ascending */
export function percentile (sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1))]
}

/** the middle value (the mean of the two middle ones for an even count) */
export function median (xs: number[]): number {
  const s = ascending(xs)
  const m = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2
}
