import { FrameWriter } from './frame-writer.ts'
import { FrameDecoder, decodeFrames } from './framing.ts'
import type { Frame } from './framing.ts'
import type { Stream } from '@libp2p/interface'

/** What one end of a call stream does with it (CallerChannel, HostChannel). */
export interface CallStreamEnd {
  /** each whole frame, in order; a throw (a frame this end never takes) breaks the stream */
  onFrame: (frame: Frame) => void
  /** once, when the stream is over for whatever reason: fail or forget the calls on it */
  onEnd: (reason: string) => void
  /** the other end sent bytes that are not frames: nothing later on the stream can be trusted */
  onBroken: (err: Error) => void
  /** how the other end is named in reasons: "peer", "caller" */
  other: string
}

/**
 * The life of one call stream, the same at both ends: frames in through one decoder, frames out
 * through one writer, and a single end (the other end closed, the stream failed, garbage came,
 * a write failed, or this side stopped) after which nothing more is read or sent.
 */
export class CallStream {
  readonly writer: FrameWriter
  readonly #stream: Stream
  readonly #decoder = new FrameDecoder()
  readonly #owner: CallStreamEnd
  #ended = false

  constructor (stream: Stream, owner: CallStreamEnd) {
    this.#stream = stream
    this.#owner = owner
    this.writer = new FrameWriter(stream, err => { this.#end(`could not write to the stream: ${err.message}`) })
    stream.addEventListener('message', evt => { this.#onData(evt.data) })
    // The other end closes its side only when it is done with the stream (it stopped, or ended it).
    stream.addEventListener('remoteCloseWrite', () => { this.#end(`the ${owner.other} closed the stream`) })
    stream.addEventListener('close', evt => { this.#end(evt.error !== undefined ? `the stream failed: ${evt.error.message}` : 'the stream closed') })
  }

  /** Whether a new call can go out on it. */
  get usable (): boolean {
    return !this.#ended && this.#stream.status === 'open' && this.#stream.writeStatus === 'writable'
  }

  /** Ends it once; by default also closes this side (a stream the other end half-closed takes no more calls). */
  #end (reason: string, closeStream = true): void {
    if (this.#ended) return
    this.#ended = true
    this.#owner.onEnd(reason)
    if (closeStream && this.#stream.status === 'open' && this.#stream.writeStatus === 'writable') {
      this.#stream.close().catch(err => { this.#stream.abort(err as Error) })
    }
  }

  /** Ends it and closes the stream gracefully, or aborts it if that fails (service stop). */
  async close (reason: string, signal: AbortSignal): Promise<void> {
    this.#end(reason, false)
    try {
      await this.#stream.close({ signal })
    } catch (err) {
      this.#stream.abort(err as Error)
    }
  }

  #onData (data: Uint8Array | Iterable<Uint8Array>): void {
    if (this.#ended) return
    try {
      decodeFrames(this.#decoder, data, this.#owner.onFrame)
    } catch (err) {
      this.#owner.onBroken(err as Error)
      this.#end(`the ${this.#owner.other} broke the protocol: ${(err as Error).message}`, false)
      this.#stream.abort(err as Error)
    }
  }
}
