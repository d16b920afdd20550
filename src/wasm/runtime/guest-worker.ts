/**
 * The entry of a guest's worker thread. It blocks on the shared channel, runs what the node
 * asks, answers, and blocks again; it never needs its event loop except to await a
 * component's instantiation. The node terminates it when a call overruns.
 */
import { receiveMessageOnPort, workerData } from 'node:worker_threads'
import type { MessagePort } from 'node:worker_threads'
import { WasmeshError } from '../../errors.ts'
import {
  ARGC, CANCEL, FN, IN_MESSAGE, IN_SLOT, IDLE, OP, OP_CALL, PENDING, READY, REQ, RESP, STATUS, WORKER_SPIN_MS,
  createChannel, readSlot, writeResult
} from './channel.ts'
import { failureOf, instantiateGuest } from './guest.ts'
import type { Guest } from './guest.ts'
import type { GuestRequest, GuestResponse } from './messages.ts'
import { workerSkillRead } from './skill-bridge.ts'

export interface GuestWorkerData {
  buffer: SharedArrayBuffer
  port: MessagePort
  skillPort: MessagePort
}

const { buffer, port, skillPort } = workerData as GuestWorkerData
const channel = createChannel(buffer)
const words = channel.words
const around = {
  sleep: (ms: number) => { if (ms > 0) Atomics.wait(words, CANCEL, 0, ms) },
  read: workerSkillRead(channel, skillPort)
}
let guest: Guest | undefined

for (;;) {
  awaitRequest()
  Atomics.store(words, REQ, IDLE)
  if (words[OP] === OP_CALL) {
    callFromSlots()
  } else {
    const request = receiveMessageOnPort(port)?.message as GuestRequest | undefined
    const response = request === undefined
      ? { type: 'failed', code: 'internal', message: 'request lost' } satisfies GuestResponse
      : await handle(request)
    port.postMessage(response)
    words[STATUS] = IN_MESSAGE
  }
  Atomics.store(words, RESP, READY)
  Atomics.notify(words, RESP)
}

/** polls for a moment (the next call often follows at once), then blocks */
function awaitRequest (): void {
  const until = performance.now() + WORKER_SPIN_MS
  while (Atomics.load(words, REQ) !== PENDING) {
    if (performance.now() > until) Atomics.wait(words, REQ, IDLE)
  }
}

/** the fast path: function index and numbers in, number out; a message only if there is more to say */
function callFromSlots (): void {
  const g = guest
  if (g === undefined) {
    port.postMessage({ type: 'failed', code: 'internal', message: 'no guest instantiated' } satisfies GuestResponse)
    words[STATUS] = IN_MESSAGE
    return
  }
  const argc = words[ARGC]
  const args = new Array(argc)
  for (let i = 0; i < argc; i++) args[i] = readSlot(channel, i)
  let response: GuestResponse
  try {
    const value = g.invoke(words[FN], args)
    const output = g.output.take()
    if (output === undefined && writeResult(channel, value)) {
      words[STATUS] = IN_SLOT
      return
    }
    response = { type: 'returned', value, output }
  } catch (err) {
    response = failureOf(err, g.output)
  }
  port.postMessage(response)
  words[STATUS] = IN_MESSAGE
}

async function handle (request: GuestRequest): Promise<GuestResponse> {
  if (request.type === 'instantiate') {
    guest?.close()
    guest = undefined
    try {
      guest = await instantiateGuest(request, around)
      // what a start function printed belongs to no call
      guest.output.take()
      return { type: 'instantiated', functions: [...guest.functions] }
    } catch (err) {
      return failureOf(err)
    }
  }
  const g = guest
  if (g === undefined) return { type: 'failed', code: 'internal', message: 'no guest instantiated' }
  try {
    if (request.type === 'run') return { type: 'exited', code: g.run(), output: g.output.take() }
    const index = g.functions.indexOf(request.fn)
    if (index < 0) throw new WasmeshError('not-found', `the module exports no function "${request.fn}"`)
    return { type: 'returned', value: g.invoke(index, request.args), output: g.output.take() }
  } catch (err) {
    return failureOf(err, g.output)
  }
}
