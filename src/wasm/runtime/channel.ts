/**
 * The shared-memory channel between the node and a guest's worker. A numeric call needs no
 * message at all: the node writes the function's index and the arguments into shared
 * slots, flips REQ and notifies; the worker, blocked in Atomics.wait, runs the call, writes
 * the result and flips RESP. That round trip costs a few µs where postMessage costs ~15.
 * Anything larger (instantiation, strings, captured output, errors) travels as a message on
 * a MessagePort next to the signal, read synchronously with receiveMessageOnPort.
 */

/** Int32 word indices */
export const REQ = 0
export const RESP = 1
/** set by the node to cut a guest's sleep short before terminating it */
export const CANCEL = 2
/** flipped by the node when it has answered a skill read */
export const SKILL = 3
export const OP = 4
export const FN = 5
export const ARGC = 6
export const STATUS = 7
export const RESULT_TAG = 8
export const ARG_TAGS = 16

export const MAX_FAST_ARGS = 16

/**
 * How long each side polls before it blocks. On a VM, a thread blocked in a futex lets its
 * vCPU halt, and waking a halted vCPU costs 50-100 µs (measured here: a call's p50 went from
 * ~6 µs to ~95 µs whenever the other core was idle). Polling briefly keeps back-to-back calls
 * on the fast side; a numeric call finishes well inside the node's window.
 */
export const NODE_SPIN_MS = 0.03
export const WORKER_SPIN_MS = 0.2
const WORDS = ARG_TAGS + MAX_FAST_ARGS
const SLOTS_AT = WORDS * 4

/** REQ values */
export const IDLE = 0
export const PENDING = 1
/** RESP values */
export const WAITING = 0
export const READY = 1
/** set by the node itself when the worker died, to wake its own wait */
export const DEAD = 2
/** set by the node's timer when the request overran its limit */
export const OVERRAN = 3

/** OP values */
export const OP_CALL = 1
export const OP_MESSAGE = 2

/** STATUS values: the result is in slot 0, or a message on the port holds it */
export const IN_SLOT = 0
export const IN_MESSAGE = 1

/** tags of a slot's value */
export const TAG_VOID = 0
export const TAG_NUMBER = 1
export const TAG_BIGINT = 2

export interface Channel {
  buffer: SharedArrayBuffer
  words: Int32Array
  numbers: Float64Array
  bigints: BigInt64Array
}

export function createChannel (buffer = new SharedArrayBuffer(SLOTS_AT + MAX_FAST_ARGS * 8)): Channel {
  return {
    buffer,
    words: new Int32Array(buffer, 0, WORDS),
    numbers: new Float64Array(buffer, SLOTS_AT, MAX_FAST_ARGS),
    bigints: new BigInt64Array(buffer, SLOTS_AT, MAX_FAST_ARGS)
  }
}

export type Scalar = number | bigint

/** whether the values fit the slots (numbers and 64-bit integers, few enough) */
export function fitsSlots (values: readonly unknown[]): values is Scalar[] {
  if (values.length > MAX_FAST_ARGS) return false
  for (const v of values) {
    if (typeof v !== 'number' && (typeof v !== 'bigint' || BigInt.asIntN(64, v) !== v)) return false
  }
  return true
}

export function writeSlot (c: Channel, i: number, value: Scalar): void {
  if (typeof value === 'bigint') {
    c.words[ARG_TAGS + i] = TAG_BIGINT
    c.bigints[i] = value
  } else {
    c.words[ARG_TAGS + i] = TAG_NUMBER
    c.numbers[i] = value
  }
}

export function readSlot (c: Channel, i: number): Scalar {
  return c.words[ARG_TAGS + i] === TAG_BIGINT ? c.bigints[i] : c.numbers[i]
}

/** the call's result into slot 0, if it fits one; false if it has to go as a message */
export function writeResult (c: Channel, value: unknown): boolean {
  if (value === undefined) {
    c.words[RESULT_TAG] = TAG_VOID
    return true
  }
  if (typeof value === 'number') {
    c.words[RESULT_TAG] = TAG_NUMBER
    c.numbers[0] = value
    return true
  }
  if (typeof value === 'bigint' && BigInt.asIntN(64, value) === value) {
    c.words[RESULT_TAG] = TAG_BIGINT
    c.bigints[0] = value
    return true
  }
  return false
}

export function readResult (c: Channel): Scalar | undefined {
  const tag = c.words[RESULT_TAG]
  return tag === TAG_VOID ? undefined : tag === TAG_BIGINT ? c.bigints[0] : c.numbers[0]
}
