import { Worker } from 'node:worker_threads'
import type { Reply, WorkerInit, WorkerNotice, WorkerRequest } from './worker-protocol.ts'
import { WasmeshError } from '../src/errors.ts'

/** Longest a thread may take to answer one request (creating a share of a big mesh is the slowest). */
const REQUEST_TIMEOUT_MS = 300_000

/** The simulation's threads, each running a share of the nodes (sim/worker.ts), asked by request id. */
export class SimThreads {
  readonly #workers: Worker[]
  readonly #pending = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void, timer: NodeJS.Timeout }>()
  #next = 0
  #failed?: Error
  #closing = false

  constructor (count: number, init: (worker: number) => WorkerInit) {
    this.#workers = Array.from({ length: count }, (_, i) => {
      const w = new Worker(new URL('./worker.ts', import.meta.url), { workerData: init(i) })
      w.on('message', (reply: Reply) => { this.#settle(reply) })
      w.on('error', (err) => { this.#fail(new Error(`simulation thread ${i} failed: ${err.stack ?? err.message}`)) })
      w.on('exit', (code) => { if (code !== 0 && !this.#closing) this.#fail(new Error(`simulation thread ${i} exited with code ${code}`)) })
      return w
    })
  }

  async request<T> (worker: number, req: WorkerRequest): Promise<T> {
    if (this.#failed !== undefined) throw this.#failed
    const id = this.#next++
    return await new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id)
        reject(new WasmeshError('timeout', `simulation thread ${worker} did not answer ${req.op} within ${REQUEST_TIMEOUT_MS} ms`))
      }, REQUEST_TIMEOUT_MS)
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer })
      this.#workers[worker].postMessage({ ...req, id })
    })
  }

  async all<T> (req: WorkerRequest): Promise<T[]> {
    return await Promise.all(this.#workers.map(async (_, i) => await this.request<T>(i, req)))
  }

  notify (worker: number, notice: WorkerNotice): void {
    this.#workers[worker].postMessage(notice)
  }

  /** Ends the threads and their nodes at once: nothing of a simulated mesh outlives its run. */
  async close (): Promise<void> {
    this.#closing = true
    await Promise.allSettled(this.#workers.map(async w => await w.terminate()))
  }

  #settle (reply: Reply): void {
    const pending = this.#pending.get(reply.id)
    if (pending === undefined) return
    this.#pending.delete(reply.id)
    clearTimeout(pending.timer)
    if (reply.ok) pending.resolve(reply.value)
    else pending.reject(new WasmeshError(reply.code as any, reply.message))
  }

  #fail (err: Error): void {
    this.#failed = err
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer)
      p.reject(err)
    }
    this.#pending.clear()
  }
}
