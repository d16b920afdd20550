import { WasmeshError } from '../../errors.ts'
import { CallNotStarted, notStarted } from '../../protocols/call/index.ts'
import { pickHost } from './placement.ts'
import { nextInput } from './step-host.ts'
import type { CallAnswer, CallFile, CallRequest } from '../../protocols/call/messages.ts'
import type { CallContext } from '../../protocols/call/index.ts'
import type { DeploymentRecord } from '../../protocols/deploy/index.ts'
import type { DeploymentBook } from './deployment-book.ts'
import type { HostedSteps } from './hosted-steps.ts'

export interface CallRouterContext {
  self: string
  book: DeploymentBook
  steps: HostedSteps
  /** whether a peer can be called now */
  usable: (peerId: string) => boolean
  /** the longest one guest call may run (the runtime's limit) */
  guestTimeoutMs: number
  /** sends a call to a peer over the call protocol */
  send: (peerId: string, req: CallRequest, signal: AbortSignal) => Promise<CallAnswer>
}

/** A call as it enters the mesh at this node. */
export interface Entry {
  deployment: string
  /** the module as the deployment names it (name or CID) */
  module: string
  function: string
  args: Array<number | string>
  files: CallFile[]
  timeoutMs: number
  signal?: AbortSignal
}

/**
 * Carries calls through the mesh: a call entering here goes to a host of its step (this node
 * if it is one); each host runs its step and hands the answer straight to a host of the next
 * step; the last answer comes back along the chain. A host that surely did not start a call
 * is replaced by another replica, once.
 */
export class CallRouter {
  readonly #ctx: CallRouterContext
  #turn = 0

  constructor (ctx: CallRouterContext) {
    this.#ctx = ctx
  }

  async call (entry: Entry): Promise<CallAnswer> {
    const record = this.#ctx.book.find(entry.deployment)
    const index = record.steps.findIndex(s => (s.module === entry.module || s.cid === entry.module) && s.function === entry.function)
    if (index < 0) {
      throw new WasmeshError('not-found', `deployment ${record.id} has no step ${entry.module}/${entry.function} (steps: ${record.steps.map(s => `${s.module}/${s.function}`).join(', ')})`)
    }
    const deadline = Date.now() + entry.timeoutMs
    // One signal for the call, which the caller's abort is forwarded to: AbortSignal.any() and
    // the listeners on a composite signal cost more per call (profiled on a bridging node).
    const abort = new AbortController()
    const timer = setTimeout(() => { abort.abort(new WasmeshError('timeout', `the call ran past its deadline of ${entry.timeoutMs} ms`)) }, entry.timeoutMs)
    const callerLeft = (): void => { abort.abort(entry.signal?.reason) }
    if (entry.signal?.aborted === true) callerLeft()
    else entry.signal?.addEventListener('abort', callerLeft, { once: true })
    try {
      return await this.#route(record, index, entry.args, entry.files, deadline, abort.signal)
    } finally {
      clearTimeout(timer)
      entry.signal?.removeEventListener('abort', callerLeft)
    }
  }

  /** Answers a call a peer sent: runs the step here, then the rest of the chain. */
  readonly handle = async (req: CallRequest, ctx: CallContext): Promise<CallAnswer> => {
    const record = this.#ctx.book.get(req.deployment)
    if (record === undefined || !this.#ctx.steps.hosts(req.deployment, req.step)) {
      throw new CallNotStarted(`this node does not run step ${req.step} of deployment ${req.deployment}`)
    }
    return await this.#runHere(record, req.step, req.args, req.files, Date.now() + req.budgetMs, ctx.signal)
  }

  async #route (record: DeploymentRecord, index: number, args: Array<number | string>, files: CallFile[], deadline: number, signal: AbortSignal): Promise<CallAnswer> {
    const hosts = record.steps[index].peers
    const turn = this.#turn++
    const first = pickHost(hosts, this.#ctx.self, this.#ctx.usable, turn)
    if (first === undefined) throw this.#noHost(record, index)
    try {
      return await this.#attempt(first, record, index, args, files, deadline, signal)
    } catch (err) {
      if (!notStarted(err)) throw err
      const second = pickHost(hosts, this.#ctx.self, this.#ctx.usable, turn, first)
      if (second === undefined) throw this.#noHost(record, index, err as Error)
      return await this.#attempt(second, record, index, args, files, deadline, signal)
    }
  }

  async #attempt (peerId: string, record: DeploymentRecord, index: number, args: Array<number | string>, files: CallFile[], deadline: number, signal: AbortSignal): Promise<CallAnswer> {
    if (peerId === this.#ctx.self) {
      if (!this.#ctx.steps.hosts(record.id, index)) throw new CallNotStarted(`this node no longer runs step ${index} of ${record.id}`)
      return await this.#runHere(record, index, args, files, deadline, signal)
    }
    const budgetMs = deadline - Date.now()
    if (budgetMs <= 0) throw new WasmeshError('timeout', `the call ran past its deadline before step ${index}`)
    return await this.#ctx.send(peerId, { deployment: record.id, step: index, version: record.version, args, files, budgetMs }, signal)
  }

  async #runHere (record: DeploymentRecord, index: number, args: Array<number | string>, files: CallFile[], deadline: number, signal: AbortSignal): Promise<CallAnswer> {
    const host = await this.#ctx.steps.get(record.id, index)
    if (host === undefined) throw new CallNotStarted(`step ${index} of ${record.id} is not running here`)
    const budgetMs = deadline - Date.now()
    if (budgetMs <= 0 || signal.aborted) throw new WasmeshError('timeout', `the call ran past its deadline before step ${index}`)
    const answer = await untilAborted(host.call(args, files, Math.min(budgetMs, this.#ctx.guestTimeoutMs)), signal)
    const next = index + 1
    if (next >= record.steps.length) return answer
    // The newest record: placement may have changed while this step ran.
    const current = this.#ctx.book.get(record.id) ?? record
    const input = nextInput(answer, current.steps[next].description ?? undefined)
    try {
      return await this.#route(current, next, input.args, input.files, deadline, signal)
    } catch (err) {
      // This step has run: whoever called it must not run it again on another replica.
      if (notStarted(err)) throw new WasmeshError('unavailable', (err as Error).message)
      throw err
    }
  }

  #noHost (record: DeploymentRecord, index: number, cause?: Error): WasmeshError {
    const step = record.steps[index]
    return new WasmeshError('unavailable',
      `no reachable peer runs step ${index} (${step.module}/${step.function}) of ${record.id}${record.status === 'degraded' ? ' (the deployment is degraded)' : ''}${cause !== undefined ? `: ${cause.message}` : ''}`)
  }
}

/** The promise, or the signal's reason (a WasmeshError) if it aborts first. */
async function untilAborted<T> (promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) throw abortError(signal)
  let onAbort: (() => void) | undefined
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => { reject(abortError(signal)) }
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([promise, aborted])
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort)
  }
}

function abortError (signal: AbortSignal): WasmeshError {
  return signal.reason instanceof WasmeshError ? signal.reason : new WasmeshError('unavailable', 'the caller went away')
}
