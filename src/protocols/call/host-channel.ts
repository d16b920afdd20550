import { WasmeshError } from '../../errors.ts'
import { MAX_BUDGET_MS } from './constants.ts'
import { CallNotStarted } from './errors.ts'
import { CallStream } from './call-stream.ts'
import { FileReceiver } from './file-receiver.ts'
import { FrameType, FramingError, decodeRequestHead, encodeAnswerHead, encodeErrorBody, encodeFrame, errorBody, joinParts } from './framing.ts'
import { admitRequest, checkHeader } from './limits.ts'
import type { Frame, RequestHead } from './framing.ts'
import type { CallHandler } from './index.ts'
import type { CallLimits } from './limits.ts'
import type { CallAnswer } from './messages.ts'
import type { Logger, Stream } from '@libp2p/interface'

/** A call being received, run or answered. */
interface InboundCall {
  id: number
  head: RequestHead
  controller: AbortController
  timer: NodeJS.Timeout
  /** while its files arrive */
  receiver?: FileReceiver
  fileBytes: number
  /** the handler returned or threw: its signal no longer needs aborting */
  handled: boolean
  /** resolves when the call is over, so an answer upload stops waiting for a drain */
  over: PromiseWithResolvers<void>
}

/**
 * The host's end of a caller's stream: assembles each request (header, then its files), runs
 * the handler with a signal that aborts at the budget, on cancel and when the caller goes away,
 * and sends back the answer or the error. A broken frame drops the stream; a bad call fails alone.
 */
export class HostChannel {
  readonly peerId: string
  readonly #limits: CallLimits
  readonly #log: Logger
  readonly #handler: () => CallHandler | undefined
  readonly #stream: CallStream
  readonly #calls = new Map<number, InboundCall>()
  #fileBytes = 0

  constructor (peerId: string, stream: Stream, limits: CallLimits, log: Logger, handler: () => CallHandler | undefined, onEnd: (channel: HostChannel) => void) {
    this.peerId = peerId
    this.#limits = limits
    this.#log = log
    this.#handler = handler
    this.#stream = new CallStream(stream, {
      other: 'caller',
      onFrame: frame => { this.#onFrame(frame) },
      onBroken: err => { log.error('dropping the call stream from %s - %e', peerId, err) },
      onEnd: reason => {
        onEnd(this)
        const gone = new WasmeshError('unavailable', `the caller went away: ${reason}`)
        for (const call of [...this.#calls.values()]) this.#forget(call, gone)
      }
    })
  }

  /** Aborts every call and closes the stream (service stop). */
  async close (reason: string, signal: AbortSignal): Promise<void> {
    await this.#stream.close(reason, signal)
  }

  #onFrame (frame: Frame): void {
    switch (frame.type) {
      case FrameType.request:
        return this.#onRequest(frame)
      case FrameType.chunk: {
        // Unknown: a call this side refused or gave up on, whose chunks were already on the way.
        const call = this.#calls.get(frame.id)
        if (call?.receiver === undefined) return
        try {
          call.receiver.add(frame.parts, frame.length)
        } catch (err) {
          return this.#finish(call, err)
        }
        if (call.receiver.done) this.#run(call)
        return
      }
      case FrameType.cancel: {
        const call = this.#calls.get(frame.id)
        if (call === undefined) return
        this.#forget(call, new WasmeshError('unavailable', 'the caller cancelled the call'))
        return
      }
      default:
        throw new FramingError(`a caller sent a frame of type ${frame.type}`)
    }
  }

  #onRequest (frame: Frame): void {
    const { id } = frame
    if (this.#calls.has(id)) throw new FramingError(`call id ${id} reused while in flight`)
    const tooBig = checkHeader(frame.length, this.#limits.maxHeaderBytes, 'request')
    if (tooBig !== undefined) return this.#sendError(id, tooBig)
    let head: RequestHead
    try {
      head = decodeRequestHead(joinParts(frame.parts, frame.length))
    } catch (err) {
      return this.#sendError(id, err)
    }
    let fileBytes = 0
    for (const file of head.files) fileBytes += file.size
    const refused = admitRequest({ callsInFlight: this.#calls.size, fileBytes: this.#fileBytes }, fileBytes, this.#limits.maxFileBytes)
    if (refused !== undefined) return this.#sendError(id, refused)
    const call: InboundCall = {
      id,
      head,
      controller: new AbortController(),
      timer: setTimeout(() => {
        this.#finish(call, new WasmeshError('timeout', `the call ran out of its ${head.budgetMs} ms budget`, { budgetMs: head.budgetMs }))
      }, Math.min(head.budgetMs, MAX_BUDGET_MS)),
      fileBytes,
      handled: false,
      over: Promise.withResolvers()
    }
    this.#calls.set(id, call)
    this.#fileBytes += fileBytes
    const receiver = new FileReceiver(head.files)
    if (receiver.done) this.#run(call, receiver)
    else call.receiver = receiver
  }

  #run (call: InboundCall, receiver = call.receiver): void {
    call.receiver = undefined
    const handler = this.#handler()
    if (handler === undefined) return this.#finish(call, new CallNotStarted('this node takes no calls yet'))
    const { head } = call
    const req = {
      deployment: head.deployment,
      step: head.step,
      version: head.version,
      args: head.args,
      files: receiver?.files ?? [],
      budgetMs: head.budgetMs
    }
    let answer: Promise<CallAnswer>
    try {
      answer = handler(req, { peerId: this.peerId, signal: call.controller.signal })
    } catch (err) {
      call.handled = true
      return this.#finish(call, err)
    }
    Promise.resolve(answer).then(
      answer => { call.handled = true; this.#answer(call, answer) },
      err => { call.handled = true; this.#finish(call, err) }
    )
  }

  #answer (call: InboundCall, answer: CallAnswer): void {
    if (this.#calls.get(call.id) !== call) return // cancelled, timed out or cut off: nobody waits
    let head: Uint8Array
    try {
      head = encodeFrame(FrameType.answer, call.id, encodeAnswerHead(answer))
    } catch (err) {
      return this.#finish(call, err)
    }
    this.#stream.writer.queue(head)
    if (answer.kind !== 'file' || answer.file.bytes.byteLength === 0) return this.#forget(call)
    void this.#stream.writer.sendChunks(call.id, [answer.file.bytes], this.#limits.chunkBytes, () => this.#calls.get(call.id) !== call, call.over.promise)
      .then(() => { if (this.#calls.get(call.id) === call) this.#forget(call) })
  }

  /** Ends the call with an error to the caller (unless it is over already). */
  #finish (call: InboundCall, err: unknown): void {
    if (this.#calls.get(call.id) !== call) return
    this.#forget(call, err instanceof WasmeshError ? err : new WasmeshError('internal', 'the call failed'))
    this.#sendError(call.id, err)
  }

  /** Drops the call's state; `reason` aborts its handler's signal. */
  #forget (call: InboundCall, reason?: WasmeshError): void {
    if (this.#calls.get(call.id) !== call) return
    this.#calls.delete(call.id)
    this.#fileBytes -= call.fileBytes
    clearTimeout(call.timer)
    call.receiver = undefined
    call.over.resolve()
    if (reason !== undefined && !call.handled) call.controller.abort(reason)
  }

  #sendError (id: number, err: unknown): void {
    if (!(err instanceof WasmeshError)) this.#log('call %d from %s failed - %e', id, this.peerId, err)
    this.#stream.writer.queue(encodeFrame(FrameType.error, id, encodeErrorBody(errorBody(err))))
  }
}
