/**
 * A seeded random number generator (mulberry32): the same seed gives the same topology, skills
 * and events on every run. Not for anything secret.
 */
export class Rng {
  #state: number

  constructor (seed: number) {
    this.#state = seed >>> 0
  }

  /** A number in [0, 1). */
  next (): number {
    this.#state = (this.#state + 0x6D2B79F5) >>> 0
    let t = this.#state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  /** An integer in [0, n). */
  int (n: number): number {
    return Math.floor(this.next() * n)
  }

  pick<T> (items: readonly T[]): T {
    return items[this.int(items.length)]
  }

  /** `k` distinct items (all of them if fewer), in random order. */
  sample<T> (items: readonly T[], k: number): T[] {
    const a = [...items]
    const n = Math.min(k, a.length)
    for (let i = 0; i < n; i++) {
      const j = i + this.int(a.length - i);
      [a[i], a[j]] = [a[j], a[i]]
    }
    return a.slice(0, n)
  }
}
