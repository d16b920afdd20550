import type { LatencySummary } from './types.ts'

/**
 * Fixed-bucket latency histogram. Every worker counts its own and posts `toJSON()` to the main
 * thread, which merges them: fixed bounds make merging exact and the data small (63 numbers),
 * unlike keeping every sample.
 *
 * Quantiles are read from the buckets: the upper bound of the bucket holding the quantile,
 * capped by the exact maximum (so never above it). With 10 buckets per decade that is at most
 * ~26 % above the true value. Count and maximum are exact.
 */

/** Upper bounds (inclusive), 10 per decade from 0.1 ms to 100 s, then 120 s; an overflow bucket follows. */
export const BOUNDS_MS: readonly number[] = Object.freeze([
  ...Array.from({ length: 61 }, (_, i) => Number((0.1 * 10 ** (i / 10)).toPrecision(3))),
  120_000
])

/** Plain data (structured-clone and JSON safe): `counts` has one more entry than `boundsMs`, the overflow. */
export interface HistogramData {
  boundsMs: number[]
  counts: number[]
  count: number
  /** exact; null when empty */
  maxMs: number | null
}

export class LatencyHistogram {
  private readonly counts: number[]
  private count = 0
  private max: number | null = null

  constructor (data?: HistogramData) {
    this.counts = new Array<number>(BOUNDS_MS.length + 1).fill(0)
    if (data !== undefined) this.merge(data)
  }

  /** Negative values (clock skew between workers) count as 0; NaN is not counted. */
  add (ms: number): void {
    if (Number.isNaN(ms)) return
    const v = Math.max(0, ms)
    this.counts[bucketOf(v)]++
    this.count++
    if (this.max === null || v > this.max) this.max = v
  }

  merge (other: HistogramData): void {
    if (!sameBounds(other.boundsMs) || other.counts.length !== BOUNDS_MS.length + 1) {
      throw new Error('cannot merge a histogram with other bucket bounds')
    }
    for (let i = 0; i < this.counts.length; i++) this.counts[i] += other.counts[i]
    this.count += other.count
    if (other.maxMs !== null && (this.max === null || other.maxMs > this.max)) this.max = other.maxMs
  }

  toJSON (): HistogramData {
    return { boundsMs: [...BOUNDS_MS], counts: [...this.counts], count: this.count, maxMs: this.max }
  }

  /** The bucket-read value at quantile q (0..1); null when empty. */
  quantile (q: number): number | null {
    if (this.count === 0 || this.max === null) return null
    const rank = Math.min(this.count, Math.max(1, Math.ceil(q * this.count)))
    let seen = 0
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]
      if (seen >= rank) return i < BOUNDS_MS.length ? Math.min(BOUNDS_MS[i], this.max) : this.max
    }
    return this.max
  }

  summary (): LatencySummary {
    return {
      count: this.count,
      p50Ms: this.quantile(0.5),
      p99Ms: this.quantile(0.99),
      maxMs: this.max,
      histogram: this.counts.map((count, i) => ({ leMs: i < BOUNDS_MS.length ? BOUNDS_MS[i] : Infinity, count }))
    }
  }
}

function bucketOf (ms: number): number {
  // binary search for the first bound >= ms
  let lo = 0
  let hi = BOUNDS_MS.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (BOUNDS_MS[mid] >= ms) hi = mid
    else lo = mid + 1
  }
  return lo
}

function sameBounds (bounds: number[]): boolean {
  return bounds.length === BOUNDS_MS.length && bounds.every((b, i) => b === BOUNDS_MS[i])
}
