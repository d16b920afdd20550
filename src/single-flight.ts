/**
 * Runs a task never twice at once. Calls made while it runs coalesce into one more run after
 * it, so the newest state is always acted on, and a burst of calls costs at most two runs.
 */
export class SingleFlight {
  readonly #task: () => Promise<void>
  readonly #more: () => boolean
  #inFlight?: Promise<void>
  #again = false

  /** `more` says whether a coalesced run is still wanted (false once its owner stops) */
  constructor (task: () => Promise<void>, more: () => boolean = () => true) {
    this.#task = task
    this.#more = more
  }

  /** Runs the task, or has it run once more after the run under way; settles when that is done. */
  async run (): Promise<void> {
    if (this.#inFlight !== undefined) {
      this.#again = true
      return await this.#inFlight
    }
    this.#inFlight = (async () => {
      try {
        do {
          this.#again = false
          await this.#task()
        } while (this.#again && this.#more())
      } finally {
        // Here, not in a .finally() on the promise: a call in the hop between would be lost.
        this.#inFlight = undefined
      }
    })()
    return await this.#inFlight
  }

  /** Settles once no run is under way; never rejects. */
  async settled (): Promise<void> {
    await this.#inFlight?.catch(() => {})
  }
}
