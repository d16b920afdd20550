/**
 * Bridged calls between peers: one long-lived stream per caller and host, many calls in flight
 * on it by id, files streamed in chunks both ways. What a call means is the node's business: it
 * sets the handler that answers inbound calls.
 *
 * @example
 * ```ts
 * const node = await createLibp2p({ ..., services: { call: callService() } })
 * node.services.call.handle(async (req, ctx) => ({ kind: 'value', value: 42 }))
 * const answer = await node.services.call.call(peerId, req)
 * ```
 */
import { CallTransport } from './call-service.ts'
import type { CallAnswer, CallRequest } from './messages.ts'
import type { ComponentLogger, Startable } from '@libp2p/interface'
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal'

export interface CallContext {
  /** the caller */
  peerId: string
  /** aborts at the budget, when the caller cancels, or when the caller goes away */
  signal: AbortSignal
}

/** Answers an inbound call; a throw goes back to the caller (a WasmeshError as it is). */
export type CallHandler = (req: CallRequest, ctx: CallContext) => Promise<CallAnswer>

export interface CallServiceInit {
  /** File bytes one call may carry, all files together, either direction (default 256 MiB). */
  maxFileBytes?: number
  /** Largest request or answer header, i.e. everything but file bytes (default 64 KiB, at most 1 MiB). */
  maxHeaderBytes?: number
  /** File bytes per chunk frame sent (default 256 KiB, 1 KiB to 1 MiB). */
  chunkBytes?: number
  /**
   * Runs before a stream to a peer is opened (once per channel, not per call): the node tells
   * libp2p where a peer known only from its announcement listens.
   */
  beforeOpen?: (peerId: string) => Promise<void>
  /** Dial plus stream open to a peer (default 3000 ms). */
  openTimeoutMs?: number
  /** Streams of the protocol per connection (defaults 4 and 4: one is used per direction). */
  maxInboundStreams?: number
  maxOutboundStreams?: number
}

export interface CallComponents {
  connectionManager: ConnectionManager
  registrar: Registrar
  logger: ComponentLogger
}

export interface CallService extends Startable {
  /** sets what answers inbound calls (the node sets it once) */
  handle (handler: CallHandler): void
  /** sends a call to a peer and waits for its answer; rejects with WasmeshError */
  call (peerId: string, req: CallRequest, opts?: { signal?: AbortSignal }): Promise<CallAnswer>
}

/** libp2p service factory: `services: { call: callService() }`. */
export function callService (init: CallServiceInit = {}): (components: CallComponents) => CallService {
  return (components) => new CallTransport(components, init)
}

export { CallTransport } from './call-service.ts'
export { CallNotStarted, notStarted } from './errors.ts'
export { CALL_PROTOCOL, DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_HEADER_BYTES, DEFAULT_CHUNK_BYTES, DEFAULT_OPEN_TIMEOUT_MS } from './constants.ts'
export type { CallAnswer, CallFile, CallRequest } from './messages.ts'
