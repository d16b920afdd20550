/** How figures read in the summary table and the HTML report: one place, so both say the same. */

export function formatMs (ms: number | null, none = 'n/a'): string {
  if (ms === null || !Number.isFinite(ms)) return none
  if (ms >= 1000) return `${(ms / 1000).toFixed(ms >= 100_000 ? 0 : ms >= 10_000 ? 1 : 2)} s`
  if (ms >= 100) return `${Math.round(ms)} ms`
  if (ms >= 10) return `${ms.toFixed(1)} ms`
  return `${ms.toFixed(2)} ms`
}

export function formatPercent (fraction: number): string {
  return `${(fraction * 100).toFixed(1)} %`
}

export function formatBytesPerS (bytes: number): string {
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(2)} MB/s`
  if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(1)} kB/s`
  return `${Math.round(bytes)} B/s`
}

/** Fixed to one decimal, without a needless ".0" on large numbers. */
export function formatNumber (n: number): string {
  return Math.abs(n) >= 100 ? String(Math.round(n)) : n.toFixed(1)
}

/** Steps joined by arrows, the nodes of a step by commas. */
export function formatPlacement (placement: string[][]): string {
  return placement.length === 0 ? '-' : placement.map(step => step.join(',')).join(' → ')
}

/** Report text on one line (errors may hold newlines). */
export function oneLine (text: string): string {
  return text.replace(/\s+/g, ' ').trim()
}
