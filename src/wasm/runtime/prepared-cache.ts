/**
 * A small LRU of values being made (promises), keyed by content hash: the same bytes are
 * validated, capped, compiled (and for a component transpiled) once per node, however many
 * instances use them. A failed make is not kept.
 */
export class PreparedCache<T> {
  private readonly entries = new Map<string, Promise<T>>()
  private readonly capacity: number

  constructor (capacity: number) {
    this.capacity = capacity
  }

  async get (key: string, make: () => Promise<T>): Promise<T> {
    let entry = this.entries.get(key)
    if (entry !== undefined) {
      // most recently used last
      this.entries.delete(key)
      this.entries.set(key, entry)
      return await entry
    }
    entry = make()
    this.entries.set(key, entry)
    entry.catch(() => { if (this.entries.get(key) === entry) this.entries.delete(key) })
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string
      this.entries.delete(oldest)
    }
    return await entry
  }

  get size (): number {
    return this.entries.size
  }
}
