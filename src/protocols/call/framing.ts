/**
 * The wire of the call protocol, as pure functions. A stream carries frames:
 *
 *   type (u8) | call id (u32 BE) | payload length (u32 BE) | payload
 *
 * A request or answer is a header frame (JSON: everything but file bytes, with each file's
 * size) followed by one chunk frame per slice of each file, in order. File bytes are never
 * JSON. Frames of different calls interleave freely; a call's own frames stay in order.
 */
import { concat } from 'uint8arrays/concat'
import { WasmeshError, knownCode } from '../../errors.ts'
import { isPlainObject } from '../../validation.ts'
import { MAX_FRAME_PAYLOAD_BYTES } from './constants.ts'
import { CallNotStarted } from './errors.ts'
import type { CallAnswer, CallRequest } from './messages.ts'
import type { ErrorCode } from '../../errors.ts'

export const FRAME_HEAD_BYTES = 9

/** caller → host: `request` (then its file chunks), `cancel`; host → caller: `answer` (then chunks) or `error`. */
export const FrameType = {
  request: 1,
  answer: 2,
  error: 3,
  chunk: 4,
  cancel: 5
} as const
export type FrameType = typeof FrameType[keyof typeof FrameType]

export interface Frame {
  type: FrameType
  id: number
  /** the payload as it arrived, in pieces (not copied) */
  parts: Uint8Array[]
  length: number
}

/** A peer sent something no correct peer sends: its stream is dropped. */
export class FramingError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'FramingError'
  }
}

/** Frame head for a payload of `length` bytes (sent right before the payload). */
export function frameHead (type: FrameType, id: number, length: number): Uint8Array {
  const head = new Uint8Array(FRAME_HEAD_BYTES)
  writeHead(head, type, id, length)
  return head
}

/** A whole frame in one buffer (for headers and control frames, which are small). */
export function encodeFrame (type: FrameType, id: number, payload?: Uint8Array): Uint8Array {
  const length = payload?.byteLength ?? 0
  if (length > MAX_FRAME_PAYLOAD_BYTES) {
    throw new WasmeshError('too-large', `a call header of ${length} bytes is more than the protocol's ${MAX_FRAME_PAYLOAD_BYTES}`, { size: length, limit: MAX_FRAME_PAYLOAD_BYTES })
  }
  const frame = new Uint8Array(FRAME_HEAD_BYTES + length)
  writeHead(frame, type, id, length)
  if (payload !== undefined) frame.set(payload, FRAME_HEAD_BYTES)
  return frame
}

function writeHead (buf: Uint8Array, type: FrameType, id: number, length: number): void {
  buf[0] = type
  buf[1] = id >>> 24
  buf[2] = id >>> 16
  buf[3] = id >>> 8
  buf[4] = id
  buf[5] = length >>> 24
  buf[6] = length >>> 16
  buf[7] = length >>> 8
  buf[8] = length
}

const FRAME_TYPES = new Set<number>(Object.values(FrameType))

/**
 * Cuts frames out of the bytes of a stream, however they were split on the way. Keeps the
 * received buffers rather than copying them: a chunk's payload is views into them.
 */
export class FrameDecoder {
  readonly #maxPayload: number
  #parts: Uint8Array[] = []
  #buffered = 0
  #type = 0
  #id = 0
  /** payload length of the frame whose head was read; -1 while waiting for a head */
  #want = -1

  constructor (maxPayload = MAX_FRAME_PAYLOAD_BYTES) {
    this.#maxPayload = maxPayload
  }

  get buffered (): number {
    return this.#buffered
  }

  push (data: Uint8Array | Iterable<Uint8Array>): void {
    if (data instanceof Uint8Array) {
      if (data.byteLength > 0) this.#parts.push(data)
      this.#buffered += data.byteLength
      return
    }
    for (const part of data) {
      if (part.byteLength === 0) continue
      this.#parts.push(part)
      this.#buffered += part.byteLength
    }
  }

  /** The next complete frame, or undefined until more bytes come; throws FramingError on garbage. */
  next (): Frame | undefined {
    if (this.#want < 0) {
      if (this.#buffered < FRAME_HEAD_BYTES) return undefined
      const head = joinParts(this.#take(FRAME_HEAD_BYTES), FRAME_HEAD_BYTES)
      const type = head[0]
      const id = ((head[1] << 24) | (head[2] << 16) | (head[3] << 8) | head[4]) >>> 0
      const length = ((head[5] << 24) | (head[6] << 16) | (head[7] << 8) | head[8]) >>> 0
      if (!FRAME_TYPES.has(type)) throw new FramingError(`unknown frame type ${type}`)
      if (length > this.#maxPayload) throw new FramingError(`frame of ${length} bytes is over the limit of ${this.#maxPayload}`)
      this.#type = type
      this.#id = id
      this.#want = length
    }
    if (this.#buffered < this.#want) return undefined
    const length = this.#want
    this.#want = -1
    return { type: this.#type as FrameType, id: this.#id, parts: this.#take(length), length }
  }

  #take (n: number): Uint8Array[] {
    const out: Uint8Array[] = []
    this.#buffered -= n
    while (n > 0) {
      const first = this.#parts[0]
      if (first.byteLength <= n) {
        out.push(first)
        this.#parts.shift()
        n -= first.byteLength
      } else {
        out.push(first.subarray(0, n))
        this.#parts[0] = first.subarray(n)
        n = 0
      }
    }
    return out
  }
}

/** The pieces as one buffer (no copy when there is one piece). */
export function joinParts (parts: Uint8Array[], length: number): Uint8Array {
  return parts.length === 1 ? parts[0] : concat(parts, length)
}

/** Feeds received bytes to the decoder and hands on every whole frame; throws a FramingError on garbage. */
export function decodeFrames (decoder: FrameDecoder, data: Uint8Array | Iterable<Uint8Array>, onFrame: (frame: Frame) => void): void {
  decoder.push(data)
  for (let frame = decoder.next(); frame !== undefined; frame = decoder.next()) onFrame(frame)
}

// Headers: JSON of everything but file bytes.

/** A file as its header describes it; its bytes follow in chunk frames. */
export interface FileHead {
  mount: string
  mediaType: string
  size: number
}

export interface RequestHead extends Omit<CallRequest, 'files'> {
  files: FileHead[]
}

export type AnswerHead =
  | { kind: 'value', value: number | string }
  | { kind: 'file', file: FileHead }
  | { kind: 'none' }

/** What an error frame carries. */
export interface ErrorBody {
  code: ErrorCode
  message: string
  details?: Record<string, unknown>
  /** the host refused the call before running any of it */
  notStarted?: true
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** The request's header with `budgetMs` as what remains of it now. */
export function encodeRequestHead (req: CallRequest, budgetMs: number): Uint8Array {
  const head: RequestHead = {
    deployment: req.deployment,
    step: req.step,
    version: req.version,
    args: req.args,
    budgetMs,
    files: req.files.map(fileHead)
  }
  return encoder.encode(JSON.stringify(head))
}

/** Parses and checks a request header; throws a `bad-request` WasmeshError naming what is wrong. */
export function decodeRequestHead (bytes: Uint8Array): RequestHead {
  const v = parseObject(bytes, 'request')
  if (typeof v.deployment !== 'string') throw badRequest('deployment must be a string')
  if (!isCount(v.step)) throw badRequest('step must be a non-negative integer')
  if (!isCount(v.version)) throw badRequest('version must be a non-negative integer')
  if (!Array.isArray(v.args) || !v.args.every(isArg)) throw badRequest('args must be an array of numbers and strings')
  if (typeof v.budgetMs !== 'number' || !Number.isFinite(v.budgetMs) || v.budgetMs <= 0) throw badRequest('budgetMs must be a positive number')
  if (!Array.isArray(v.files)) throw badRequest('files must be an array')
  const files = v.files.map((f, i) => checkFileHead(f, `files.${i}`))
  return { deployment: v.deployment, step: v.step, version: v.version, args: v.args, budgetMs: v.budgetMs, files }
}

/** The answer's header; throws an `internal` WasmeshError when a handler returned no valid answer. */
export function encodeAnswerHead (answer: CallAnswer): Uint8Array {
  let head: AnswerHead
  switch (answer?.kind) {
    case 'value':
      if (!isArg(answer.value)) throw new WasmeshError('internal', 'the answer value is not a finite number or a string')
      head = { kind: 'value', value: answer.value }
      break
    case 'file':
      if (!(answer.file?.bytes instanceof Uint8Array) || typeof answer.file.mount !== 'string' || typeof answer.file.mediaType !== 'string') {
        throw new WasmeshError('internal', 'the answer file is malformed')
      }
      head = { kind: 'file', file: fileHead(answer.file) }
      break
    case 'none':
      head = { kind: 'none' }
      break
    default:
      throw new WasmeshError('internal', 'the handler returned no valid answer')
  }
  return encoder.encode(JSON.stringify(head))
}

export function decodeAnswerHead (bytes: Uint8Array): AnswerHead {
  const v = parseObject(bytes, 'answer')
  switch (v.kind) {
    case 'value':
      if (!isArg(v.value)) throw badRequest('answer value must be a number or a string')
      return { kind: 'value', value: v.value }
    case 'file':
      return { kind: 'file', file: checkFileHead(v.file, 'file') }
    case 'none':
      return { kind: 'none' }
    default:
      throw badRequest('answer kind must be value, file or none')
  }
}

/** How an error travels: a WasmeshError as it is, anything else as `internal` with its message. */
export function errorBody (err: unknown): ErrorBody {
  if (err instanceof WasmeshError) {
    const body: ErrorBody = { code: err.code, message: err.message }
    if (err.details !== undefined) body.details = err.details
    if (err instanceof CallNotStarted) body.notStarted = true
    return body
  }
  return { code: 'internal', message: err instanceof Error ? err.message : String(err) }
}

/** The error's frame payload, shortened (details dropped, message cut) to fit in `maxBytes`. */
export function encodeErrorBody (body: ErrorBody, maxBytes = MAX_FRAME_PAYLOAD_BYTES): Uint8Array {
  let bytes: Uint8Array | undefined
  try {
    bytes = encoder.encode(JSON.stringify(body))
  } catch {} // details that are not JSON (cycles, bigints) are left out below
  if (bytes !== undefined && bytes.byteLength <= maxBytes) return bytes
  const short: ErrorBody = { code: body.code, message: body.message.slice(0, 1024) }
  if (body.notStarted === true) short.notStarted = true
  return encoder.encode(JSON.stringify(short))
}

/** The error a caller rejects with, as the host threw it (a CallNotStarted stays one). */
export function decodeError (bytes: Uint8Array): WasmeshError {
  let v: Record<string, unknown>
  try {
    v = parseObject(bytes, 'error')
  } catch {
    return new WasmeshError('internal', 'the peer sent a malformed error')
  }
  const message = typeof v.message === 'string' ? v.message : 'the peer sent an error without a message'
  const details = isPlainObject(v.details) ? v.details : undefined
  if (v.notStarted === true) return new CallNotStarted(message, details)
  return new WasmeshError(knownCode(v.code), message, details)
}

function fileHead (file: CallRequest['files'][number]): FileHead {
  return { mount: file.mount, mediaType: file.mediaType, size: file.bytes.byteLength }
}

function checkFileHead (f: unknown, where: string): FileHead {
  if (!isPlainObject(f)) throw badRequest(`${where} must be an object`)
  if (typeof f.mount !== 'string') throw badRequest(`${where}.mount must be a string`)
  if (typeof f.mediaType !== 'string') throw badRequest(`${where}.mediaType must be a string`)
  if (!isCount(f.size)) throw badRequest(`${where}.size must be a non-negative integer`)
  return { mount: f.mount, mediaType: f.mediaType, size: f.size }
}

function parseObject (bytes: Uint8Array, what: string): Record<string, unknown> {
  let v: unknown
  try {
    v = JSON.parse(decoder.decode(bytes))
  } catch {
    throw badRequest(`the ${what} header is not JSON`)
  }
  if (!isPlainObject(v)) throw badRequest(`the ${what} header is not an object`)
  return v
}

function badRequest (message: string): WasmeshError {
  return new WasmeshError('bad-request', `malformed call: ${message}`)
}

function isCount (v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0
}

function isArg (v: unknown): v is number | string {
  return typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))
}
