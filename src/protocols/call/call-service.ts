import { setMaxListeners } from 'node:events'
import { peerIdFromString } from '@libp2p/peer-id'
import { WasmeshError } from '../../errors.ts'
import { CallerChannel } from './caller-channel.ts'
import { CALL_PROTOCOL, CLOSE_TIMEOUT_MS, MAX_BUDGET_MS } from './constants.ts'
import { CallNotStarted } from './errors.ts'
import { HostChannel } from './host-channel.ts'
import { lazyWindowUpdates } from './lazy-window.ts'
import { callLimits } from './limits.ts'
import { OutgoingCall } from './outgoing-call.ts'
import type { CallComponents, CallHandler, CallService, CallServiceInit } from './index.ts'
import type { CallLimits } from './limits.ts'
import type { CallAnswer, CallRequest } from './messages.ts'
import type { Connection, Logger, PeerId, Stream } from '@libp2p/interface'

/**
 * The call transport: one outbound stream per remote peer, opened by the first call to it and
 * reused by every call after (reopened when it ends), and the inbound streams of the peers
 * calling this node, answered by the handler the node set.
 */
export class CallTransport implements CallService {
  readonly #components: CallComponents
  readonly #limits: CallLimits
  readonly #log: Logger
  readonly #channels = new Map<string, CallerChannel>()
  readonly #opening = new Map<string, Promise<CallerChannel>>()
  readonly #hosted = new Set<HostChannel>()
  #handler?: CallHandler
  #stopping = new AbortController()
  #started = false

  readonly #beforeOpen?: (peerId: string) => Promise<void>

  constructor (components: CallComponents, init: CallServiceInit = {}) {
    this.#components = components
    this.#beforeOpen = init.beforeOpen
    this.#limits = callLimits(init)
    this.#log = components.logger.forComponent('wasmesh:call')
  }

  readonly [Symbol.toStringTag] = 'wasmesh:call'

  handle (handler: CallHandler): void {
    this.#handler = handler
  }

  async start (): Promise<void> {
    await this.#components.registrar.handle(CALL_PROTOCOL, this.#onStream, {
      maxInboundStreams: this.#limits.maxInboundStreams,
      maxOutboundStreams: this.#limits.maxOutboundStreams
    })
    this.#stopping = new AbortController()
    // every stream being opened listens to it
    setMaxListeners(Infinity, this.#stopping.signal)
    this.#started = true
  }

  async stop (): Promise<void> {
    this.#started = false
    this.#stopping.abort()
    await this.#components.registrar.unhandle(CALL_PROTOCOL)
    const signal = AbortSignal.timeout(CLOSE_TIMEOUT_MS)
    const closing = [
      ...[...this.#channels.values()].map(async channel => { await channel.close('the call service stopped', signal) }),
      ...[...this.#hosted].map(async channel => { await channel.close('the call service stopped', signal) })
    ]
    this.#channels.clear()
    this.#hosted.clear()
    await Promise.all(closing)
  }

  async call (peerId: string, req: CallRequest, opts: { signal?: AbortSignal } = {}): Promise<CallAnswer> {
    if (!this.#started) throw new CallNotStarted('the call service is not running')
    const budgetMs = req.budgetMs
    if (typeof budgetMs !== 'number' || Number.isNaN(budgetMs)) throw new WasmeshError('bad-request', 'budgetMs must be a number')
    if (budgetMs <= 0) throw new WasmeshError('timeout', `the call to ${peerId} has no budget left`, { peerId, budgetMs })
    const call = new OutgoingCall(peerId, Math.min(budgetMs, MAX_BUDGET_MS), opts.signal)
    const channel = this.#channels.get(peerId)
    if (channel?.usable === true) {
      channel.send(call, req)
    } else if (!call.settled) {
      this.#open(peerId).then(
        channel => { if (!call.settled) channel.send(call, req) },
        err => { call.reject(err) }
      )
    }
    return await call.promise
  }

  /** The stream to the peer, opened once however many calls wait for it. */
  #open (peerId: string): Promise<CallerChannel> {
    let opening = this.#opening.get(peerId)
    if (opening === undefined) {
      opening = this.#openChannel(peerId).finally(() => { this.#opening.delete(peerId) })
      this.#opening.set(peerId, opening)
    }
    return opening
  }

  async #openChannel (peerId: string): Promise<CallerChannel> {
    let peer: PeerId
    try {
      peer = peerIdFromString(peerId)
    } catch {
      throw new WasmeshError('bad-request', `not a peer id: ${peerId}`)
    }
    // Not tied to any one call's signal: the calls waiting for it share it.
    const signal = AbortSignal.any([this.#stopping.signal, AbortSignal.timeout(this.#limits.openTimeoutMs)])
    let stream: Stream
    try {
      await this.#beforeOpen?.(peerId)
      stream = await this.#components.connectionManager.openStream(peer, CALL_PROTOCOL, { signal, negotiateFully: true })
    } catch (err) {
      throw new CallNotStarted(`peer ${peerId} unreachable: ${(err as Error).message}`, { peerId })
    }
    if (!this.#started) {
      stream.abort(new Error('the call service stopped'))
      throw new CallNotStarted('the call service stopped')
    }
    lazyWindowUpdates(stream)
    const channel = new CallerChannel(peerId, stream, this.#limits, this.#log, ended => {
      if (this.#channels.get(peerId) === ended) this.#channels.delete(peerId)
    })
    this.#channels.set(peerId, channel)
    return channel
  }

  readonly #onStream = (stream: Stream, connection: Connection): void => {
    if (!this.#started || stream.status !== 'open') {
      stream.abort(new Error('the call service is not running'))
      return
    }
    lazyWindowUpdates(stream)
    const channel = new HostChannel(connection.remotePeer.toString(), stream, this.#limits, this.#log, () => this.#handler, ended => {
      this.#hosted.delete(ended)
    })
    this.#hosted.add(channel)
  }
}
