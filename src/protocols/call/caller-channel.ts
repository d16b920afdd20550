import { WasmeshError } from '../../errors.ts'
import { CallStream } from './call-stream.ts'
import { FileReceiver } from './file-receiver.ts'
import { FrameType, FramingError, decodeAnswerHead, decodeError, encodeFrame, encodeRequestHead, joinParts } from './framing.ts'
import { checkAnswerFile, checkHeader } from './limits.ts'
import type { Frame } from './framing.ts'
import type { CallLimits } from './limits.ts'
import type { CallRequest } from './messages.ts'
import type { OutgoingCall } from './outgoing-call.ts'
import type { Logger, Stream } from '@libp2p/interface'

/**
 * The caller's end of the one stream to a peer: numbers each call, sends its request (header,
 * then file chunks), and routes answers back by id from a single reader. When the stream ends,
 * every call on it fails as `unavailable` — they went out, so they may have run.
 */
export class CallerChannel {
  readonly peerId: string
  readonly #limits: CallLimits
  readonly #log: Logger
  readonly #stream: CallStream
  readonly #calls = new Map<number, OutgoingCall>()
  #nextId = 1

  constructor (peerId: string, stream: Stream, limits: CallLimits, log: Logger, onEnd: (channel: CallerChannel) => void) {
    this.peerId = peerId
    this.#limits = limits
    this.#log = log
    this.#stream = new CallStream(stream, {
      other: 'peer',
      onFrame: frame => { this.#onFrame(frame) },
      onBroken: err => { log.error('dropping the call stream to %s - %e', peerId, err) },
      onEnd: reason => {
        onEnd(this)
        this.#failAll(reason)
      }
    })
  }

  /** Whether a new call can go out on it (else open another). */
  get usable (): boolean {
    return this.#stream.usable
  }

  /** Sends the request; the call settles through its own promise. */
  send (call: OutgoingCall, req: CallRequest): void {
    const remaining = call.remainingMs()
    if (remaining <= 0) return // its timer is about to fire
    const id = this.#nextId
    this.#nextId = (this.#nextId % 0xffffffff) + 1
    let frame: Uint8Array
    try {
      frame = encodeFrame(FrameType.request, id, encodeRequestHead(req, Math.ceil(remaining)))
    } catch (err) {
      call.reject(err instanceof WasmeshError ? err : new WasmeshError('bad-request', `the call cannot be encoded: ${(err as Error).message}`))
      return
    }
    this.#calls.set(id, call)
    call.onSettle = () => { this.#calls.delete(id) }
    call.onCancel = () => { this.#stream.writer.control(FrameType.cancel, id) }
    this.#stream.writer.queue(frame)
    if (req.files.some(f => f.bytes.byteLength > 0)) void this.#upload(call, id, req)
  }

  async #upload (call: OutgoingCall, id: number, req: CallRequest): Promise<void> {
    const files = req.files.map(f => f.bytes)
    const done = await this.#stream.writer.sendChunks(id, files, this.#limits.chunkBytes, () => call.settled, call.stopped)
    // Settled by the host's answer (an error, before all chunks came): it has forgotten the call.
    if (!done) this.#log.trace('stopped sending the files of call %d to %s', id, this.peerId)
  }

  /** Fails every call on the stream and closes it (service stop). */
  async close (reason: string, signal: AbortSignal): Promise<void> {
    await this.#stream.close(reason, signal)
  }

  #onFrame (frame: Frame): void {
    const call = this.#calls.get(frame.id)
    switch (frame.type) {
      case FrameType.answer: {
        // Unknown ids are calls this side gave up on: what was in flight still arrives.
        if (call === undefined) return
        if (call.answerFile !== undefined) return this.#fail(call, new WasmeshError('internal', `${this.peerId} answered the call twice`))
        const tooBig = checkHeader(frame.length, this.#limits.maxHeaderBytes, 'answer')
        if (tooBig !== undefined) return this.#fail(call, tooBig)
        let head
        try {
          head = decodeAnswerHead(joinParts(frame.parts, frame.length))
        } catch (err) {
          return this.#fail(call, new WasmeshError('internal', `${this.peerId} sent a malformed answer: ${(err as Error).message}`))
        }
        if (head.kind !== 'file') return call.resolve(head)
        const overLimit = checkAnswerFile(head.file.size, this.#limits.maxFileBytes)
        if (overLimit !== undefined) return this.#fail(call, overLimit)
        const receiver = new FileReceiver([head.file])
        if (receiver.done) return call.resolve({ kind: 'file', file: receiver.files[0] })
        call.answerFile = { mount: head.file.mount, mediaType: head.file.mediaType, receiver }
        return
      }
      case FrameType.chunk: {
        if (call === undefined) return
        const receiver = call.answerFile?.receiver
        if (receiver === undefined) return this.#fail(call, new WasmeshError('internal', `${this.peerId} sent file bytes before an answer`))
        try {
          receiver.add(frame.parts, frame.length)
        } catch (err) {
          return this.#fail(call, new WasmeshError('internal', `${this.peerId} sent a malformed answer: ${(err as Error).message}`))
        }
        if (receiver.done) call.resolve({ kind: 'file', file: receiver.files[0] })
        return
      }
      case FrameType.error: {
        if (call === undefined) return
        const tooBig = checkHeader(frame.length, this.#limits.maxHeaderBytes, 'error')
        call.reject(tooBig ?? decodeError(joinParts(frame.parts, frame.length)))
        return
      }
      default:
        throw new FramingError(`a host sent a frame of type ${frame.type}`)
    }
  }

  /** Fails one call for a fault of the host's answer, and tells the host to stop sending it. */
  #fail (call: OutgoingCall, err: WasmeshError): void {
    call.cancel(err)
  }

  /** The stream is over: every call on it went out, so it may have run. */
  #failAll (reason: string): void {
    const calls = [...this.#calls.values()]
    this.#calls.clear()
    for (const call of calls) {
      call.reject(new WasmeshError('unavailable', `the call to ${this.peerId} was cut off: ${reason}`, { peerId: this.peerId }))
    }
  }
}
