import { FrameType, encodeFrame, frameHead, joinParts } from './framing.ts'
import type { Stream } from '@libp2p/interface'

/**
 * Writes frames to one stream. Small frames queued in one tick leave in one `send()` (one muxer
 * frame, one socket write) — what makes many calls in flight cheap. File chunks go out at once
 * after whatever is queued, and wait for the stream to drain when it is full.
 */
export class FrameWriter {
  readonly #stream: Stream
  readonly #onError: (err: Error) => void
  #queue: Uint8Array[] = []
  #queuedBytes = 0
  #drained?: PromiseWithResolvers<void>
  #closed = false

  constructor (stream: Stream, onError: (err: Error) => void) {
    this.#stream = stream
    this.#onError = onError
    // Our own drain promise: the stream's onDrain() keeps resolving after its first drain.
    stream.addEventListener('drain', () => {
      const drained = this.#drained
      this.#drained = undefined
      drained?.resolve()
    })
    stream.addEventListener('close', () => {
      this.#closed = true
      const drained = this.#drained
      this.#drained = undefined
      drained?.reject(new Error('stream closed'))
    })
  }

  /** Queues a whole frame; it leaves with the others of this tick. */
  queue (frame: Uint8Array): void {
    if (this.#closed) return
    this.#queue.push(frame)
    this.#queuedBytes += frame.byteLength
    if (this.#queue.length === 1) queueMicrotask(this.#flush)
  }

  control (type: FrameType, id: number): void {
    this.queue(encodeFrame(type, id))
  }

  /**
   * Sends the bytes as chunk frames of call `id`, after what is queued, waiting for the stream
   * to drain when it is full. Returns false if `stopped()` said to give up (or the stream closed)
   * before the last chunk went out.
   */
  async sendChunks (id: number, files: Uint8Array[], chunkBytes: number, stopped: () => boolean, onStop: Promise<unknown>): Promise<boolean> {
    for (const bytes of files) {
      for (let offset = 0; offset < bytes.byteLength; offset += chunkBytes) {
        while (this.#stream.writableNeedsDrain && !this.#closed && !stopped()) {
          this.#drained ??= Promise.withResolvers()
          await Promise.race([this.#drained.promise, onStop]).catch(() => {})
        }
        if (this.#closed || stopped()) return false
        const chunk = bytes.subarray(offset, offset + chunkBytes)
        this.#flush()
        // Head and payload in two sends of one synchronous block: nothing can come between them.
        // Both always go: a send that returns false has still buffered its bytes.
        this.#send(frameHead(FrameType.chunk, id, chunk.byteLength))
        this.#send(chunk)
        if (this.#closed) return false
      }
    }
    return true
  }

  readonly #flush = (): void => {
    if (this.#queue.length === 0) return
    const frames = this.#queue
    const bytes = this.#queuedBytes
    this.#queue = []
    this.#queuedBytes = 0
    this.#send(joinParts(frames, bytes))
  }

  /** false when the stream is full (the bytes are buffered) or closed */
  #send (bytes: Uint8Array): boolean {
    if (this.#closed) return false
    try {
      return this.#stream.send(bytes)
    } catch (err) {
      this.#closed = true
      this.#onError(err as Error)
      return false
    }
  }
}
