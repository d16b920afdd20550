import { WasmeshError } from '../../errors.ts'
import {
  DEFAULT_CHUNK_BYTES, DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_HEADER_BYTES, DEFAULT_OPEN_TIMEOUT_MS,
  MAX_CALLS_PER_STREAM, MAX_FRAME_PAYLOAD_BYTES, MAX_INBOUND_STREAMS, MAX_OUTBOUND_STREAMS, MIN_CHUNK_BYTES,
  STREAM_FILE_BYTES_FACTOR
} from './constants.ts'
import { CallNotStarted } from './errors.ts'
import type { CallServiceInit } from './index.ts'

export type CallLimits = Required<Omit<CallServiceInit, 'beforeOpen'>>

/** The service's options with their defaults, chunks and headers kept within the protocol's frame size. */
export function callLimits (init: CallServiceInit = {}): CallLimits {
  return {
    maxFileBytes: init.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
    maxHeaderBytes: Math.min(init.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES, MAX_FRAME_PAYLOAD_BYTES),
    chunkBytes: Math.max(MIN_CHUNK_BYTES, Math.min(init.chunkBytes ?? DEFAULT_CHUNK_BYTES, MAX_FRAME_PAYLOAD_BYTES)),
    openTimeoutMs: init.openTimeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS,
    maxInboundStreams: init.maxInboundStreams ?? MAX_INBOUND_STREAMS,
    maxOutboundStreams: init.maxOutboundStreams ?? MAX_OUTBOUND_STREAMS
  }
}

/** What a host already holds for one caller's stream. */
export interface StreamLoad {
  callsInFlight: number
  /** declared file bytes of the calls in flight */
  fileBytes: number
}

/**
 * Whether a host takes a request whose files total `fileBytes`: too big for one call is the
 * caller's fault (`too-large`); too much at once from this peer is a busy host, which ran
 * nothing (CallNotStarted, so the caller may go elsewhere).
 */
export function admitRequest (load: StreamLoad, fileBytes: number, maxFileBytes: number): WasmeshError | undefined {
  if (fileBytes > maxFileBytes) {
    return new WasmeshError('too-large', `the call's files total ${fileBytes} bytes, more than the ${maxFileBytes} this node takes`, { size: fileBytes, limit: maxFileBytes })
  }
  if (load.callsInFlight >= MAX_CALLS_PER_STREAM) {
    return new CallNotStarted(`busy: ${load.callsInFlight} calls from this peer are in flight already`)
  }
  if (load.fileBytes + fileBytes > maxFileBytes * STREAM_FILE_BYTES_FACTOR) {
    return new CallNotStarted(`busy: ${load.fileBytes} bytes of files from this peer are in flight already`)
  }
  return undefined
}

/** The answer file's size check on the caller's side. */
export function checkAnswerFile (size: number, maxFileBytes: number): WasmeshError | undefined {
  if (size <= maxFileBytes) return undefined
  return new WasmeshError('too-large', `the answer file of ${size} bytes is more than the ${maxFileBytes} this node takes`, { size, limit: maxFileBytes })
}

/** A header frame over this node's limit fails its call (the stream goes on). */
export function checkHeader (length: number, maxHeaderBytes: number, what: string): WasmeshError | undefined {
  if (length <= maxHeaderBytes) return undefined
  return new WasmeshError('too-large', `the ${what} header of ${length} bytes is more than the ${maxHeaderBytes} this node takes`, { size: length, limit: maxHeaderBytes })
}
