import { WasmeshError } from '../../errors.ts'
import type { FileReceiver } from './file-receiver.ts'
import type { CallAnswer } from './messages.ts'

/**
 * One call on its way, from `call()` to its answer: owns the budget timer and the caller's
 * signal, and settles once. `onCancel` (set once the request went out) tells the host to stop.
 */
export class OutgoingCall {
  readonly peerId: string
  readonly budgetMs: number
  readonly promise: Promise<CallAnswer>
  settled = false
  /** set once the request is queued on a stream */
  onCancel?: () => void
  /** set once an answer header of kind `file` arrived */
  answerFile?: { mount: string, mediaType: string, receiver: FileReceiver }
  readonly #resolve: (answer: CallAnswer) => void
  readonly #reject: (err: Error) => void
  readonly #startedAt = performance.now()
  readonly #timer: NodeJS.Timeout
  readonly #signal?: AbortSignal
  #stopped?: PromiseWithResolvers<void>
  #onSettle?: () => void

  constructor (peerId: string, budgetMs: number, signal?: AbortSignal) {
    this.peerId = peerId
    this.budgetMs = budgetMs
    const { promise, resolve, reject } = Promise.withResolvers<CallAnswer>()
    this.promise = promise
    this.#resolve = resolve
    this.#reject = reject
    this.#timer = setTimeout(this.#onTimeout, budgetMs)
    if (signal !== undefined) {
      this.#signal = signal
      if (signal.aborted) this.#onAbort()
      else signal.addEventListener('abort', this.#onAbort, { once: true })
    }
  }

  /** What remains of the budget now, in ms. */
  remainingMs (): number {
    return this.budgetMs - (performance.now() - this.#startedAt)
  }

  /** Resolves when the call settles: lets a file upload stop waiting for a drain. */
  get stopped (): Promise<void> {
    if (this.#stopped === undefined) {
      this.#stopped = Promise.withResolvers()
      if (this.settled) this.#stopped.resolve()
    }
    return this.#stopped.promise
  }

  /** Run once when the call settles, however (the stream forgets its id). */
  set onSettle (fn: () => void) {
    this.#onSettle = fn
  }

  resolve (answer: CallAnswer): void {
    if (!this.#settle()) return
    this.#resolve(answer)
  }

  reject (err: Error): void {
    if (!this.#settle()) return
    this.#reject(err)
  }

  /** Rejects for a reason of this side, and tells the host to stop if the request went out. */
  cancel (err: Error): void {
    if (this.settled) return
    const onCancel = this.onCancel
    this.reject(err)
    onCancel?.()
  }

  #settle (): boolean {
    if (this.settled) return false
    this.settled = true
    clearTimeout(this.#timer)
    this.#signal?.removeEventListener('abort', this.#onAbort)
    this.#stopped?.resolve()
    this.#onSettle?.()
    return true
  }

  readonly #onTimeout = (): void => {
    this.cancel(new WasmeshError('timeout', `the call to ${this.peerId} ran out of its ${this.budgetMs} ms budget`, { peerId: this.peerId, budgetMs: this.budgetMs }))
  }

  readonly #onAbort = (): void => {
    const reason: unknown = this.#signal?.reason
    this.cancel(reason instanceof WasmeshError ? reason : new WasmeshError('unavailable', `the call to ${this.peerId} was cancelled`, { peerId: this.peerId }))
  }
}
