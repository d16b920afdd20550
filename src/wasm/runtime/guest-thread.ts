import module from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads'
import type { MessagePort } from 'node:worker_threads'
import { WasmeshError } from '../../errors.ts'
import {
  ARGC, CANCEL, DEAD, FN, IN_SLOT, NODE_SPIN_MS, OP, OP_CALL, OP_MESSAGE, OVERRAN, PENDING, READY, REQ, RESP, STATUS, WAITING,
  createChannel, readResult, writeSlot
} from './channel.ts'
import type { Channel, Scalar } from './channel.ts'
import type { GuestRequest, GuestResponse } from './messages.ts'
import { serveSkillReads } from './skill-bridge.ts'
import type { SkillProvider } from '../skills/providers/index.ts'
import type { GuestWorkerData } from './guest-worker.ts'

const WORKER_URL = new URL('./guest-worker.ts', import.meta.url)

/**
 * A worker compiles its TypeScript afresh (type stripping runs swc as wasm: ~45 ms of a
 * ~90 ms start). Node's compile cache keeps the stripped code, but a worker only uses it if
 * its environment names the directory: the main thread's enableCompileCache() does not carry
 * over. With it a worker starts in about half the time.
 */
function workerEnv (): NodeJS.ProcessEnv {
  return { ...process.env, NODE_COMPILE_CACHE: module.getCompileCacheDir() ?? join(tmpdir(), 'node-compile-cache') }
}

/**
 * The node's handle on one guest's worker thread: one request at a time (the caller
 * serialises), each under a time limit. A request that overruns gets its sleeps cancelled
 * and the worker terminated, and answers `timeout`; the thread is then dead and a new one
 * must be made. A worker that dies by itself (out of heap, a crash) answers `trap`.
 */
export class GuestThread {
  private readonly worker: Worker
  private readonly channel: Channel
  private readonly port: MessagePort
  private readonly stopSkills = new AbortController()
  private deathReason: string | undefined

  constructor (providers: ReadonlyMap<string, SkillProvider>, heapMib: number) {
    this.channel = createChannel()
    const requests = new MessageChannel()
    const skills = new MessageChannel()
    this.port = requests.port1
    const data: GuestWorkerData = { buffer: this.channel.buffer, port: requests.port2, skillPort: skills.port2 }
    this.worker = new Worker(WORKER_URL, {
      workerData: data,
      transferList: [requests.port2, skills.port2],
      resourceLimits: { maxOldGenerationSizeMb: heapMib },
      env: workerEnv(),
      // a guest writes through its own sinks; nothing of the worker's console reaches the node's
      stdout: true,
      stderr: true
    })
    // nothing of ours writes there, but a library might: drain it rather than let it pile up
    this.worker.stdout.resume()
    this.worker.stderr.resume()
    this.worker.on('error', err => { this.die(`worker failed: ${err.message}`) })
    this.worker.on('exit', code => { this.die(`worker exited with code ${code}`) })
    serveSkillReads(this.channel, skills.port1, providers, this.stopSkills.signal)
    // idle guests do not keep the process alive; a request in flight does (see exchange)
    skills.port1.unref()
    this.worker.unref()
  }

  get alive (): boolean {
    return this.deathReason === undefined
  }

  /** a request that travels as a message */
  async request (request: GuestRequest, timeoutMs: number): Promise<GuestResponse> {
    this.port.postMessage(request)
    return await this.exchange(OP_MESSAGE, timeoutMs)
  }

  /** the fast path: a function by index, numbers in; undefined result slots mean void */
  async call (fn: number, args: readonly Scalar[], timeoutMs: number): Promise<GuestResponse> {
    const c = this.channel
    c.words[FN] = fn
    c.words[ARGC] = args.length
    for (let i = 0; i < args.length; i++) writeSlot(c, i, args[i])
    return await this.exchange(OP_CALL, timeoutMs)
  }

  terminate (reason = 'terminated'): void {
    if (this.deathReason === undefined) this.deathReason = reason
    Atomics.store(this.channel.words, CANCEL, 1)
    Atomics.notify(this.channel.words, CANCEL)
    this.stopSkills.abort()
    this.port.close()
    void this.worker.terminate()
  }

  private async exchange (op: number, timeoutMs: number): Promise<GuestResponse> {
    if (this.deathReason !== undefined) throw new WasmeshError('internal', `the guest's worker is gone (${this.deathReason})`)
    const words = this.channel.words
    words[OP] = op
    Atomics.store(words, RESP, WAITING)
    Atomics.store(words, REQ, PENDING)
    Atomics.notify(words, REQ)
    const until = performance.now() + NODE_SPIN_MS
    while (Atomics.load(words, RESP) === WAITING && performance.now() < until);
    if (Atomics.load(words, RESP) === READY) return this.response()
    // waitAsync's own timeout costs ~60 µs a call (a delayed platform task); a timer that
    // wakes the wait costs ~1 µs. Whoever moves RESP off WAITING first wins.
    const timer = Number.isFinite(timeoutMs)
      ? setTimeout(() => {
        if (Atomics.compareExchange(words, RESP, WAITING, OVERRAN) === WAITING) Atomics.notify(words, RESP)
      }, timeoutMs)
      : undefined
    const wait = Atomics.waitAsync(words, RESP, WAITING)
    if (wait.async) {
      // a pending waitAsync alone would let the process exit under it
      this.worker.ref()
      await wait.value
      this.worker.unref()
    }
    clearTimeout(timer)
    const state = Atomics.load(words, RESP)
    if (state === READY) return this.response()
    if (state === DEAD) throw new WasmeshError('trap', `the guest's worker stopped: ${this.deathReason ?? 'unknown reason'}`)
    this.terminate(`timed out after ${timeoutMs} ms`)
    throw new WasmeshError('timeout', `the call ran past its time limit of ${timeoutMs} ms and was stopped`, { limitMs: timeoutMs })
  }

  private response (): GuestResponse {
    const c = this.channel
    if (c.words[STATUS] === IN_SLOT) return { type: 'returned', value: readResult(c) }
    const message = receiveMessageOnPort(this.port)?.message as GuestResponse | undefined
    if (message === undefined) throw new WasmeshError('internal', 'the guest answered without a message')
    return message
  }

  private die (reason: string): void {
    if (this.deathReason === undefined) this.deathReason = reason
    this.stopSkills.abort()
    // wake a request waiting on this worker
    if (Atomics.compareExchange(this.channel.words, RESP, WAITING, DEAD) === WAITING) Atomics.notify(this.channel.words, RESP)
  }
}
