import { WasmeshError } from '../../errors.ts'
import { fitsSlots } from './channel.ts'
import { coerceArgs } from './coerce-args.ts'
import type { CoreValType } from '../module-info.ts'
import type { GuestThread } from './guest-thread.ts'
import type { CapturedOutput, GuestResponse, InstantiateRequest } from './messages.ts'

/** What a call or run gives back. */
export interface GuestOutcome {
  /** the function's result (undefined for none); absent if the guest exited */
  value?: unknown
  /** set if the guest exited (proc_exit, wasi:cli/exit, or a command's end) */
  exitCode?: number
  stdout: Uint8Array
  stderr: Uint8Array
  /** true if output was cut at the node's limit */
  truncated: boolean
}

export interface GuestInstanceOptions {
  /** a worker thread to run the guest on (a fresh or a spare one) */
  newThread: () => GuestThread
  timeoutMs: number
  startTimeoutMs: number
  /** parameter types of a core module's exported functions, to check and convert arguments */
  signatures?: ReadonlyMap<string, readonly CoreValType[]>
  /** told once when the instance is closed */
  onClose?: () => void
}

const EMPTY = new Uint8Array(0)

/**
 * One guest kept alive across calls (a deployment step on this node), so a stateful module
 * keeps its state between calls. Calls into it are serialised; different instances run in
 * parallel, each on its own worker. After a trap the guest is instantiated afresh (its
 * state may be broken); after a timeout its worker was terminated, and the next call
 * starts a new one.
 */
export class GuestInstance {
  private readonly request: InstantiateRequest
  private readonly options: GuestInstanceOptions
  private thread: GuestThread | undefined
  private functions: string[] = []
  private instantiated = false
  /** instantiated and not called since */
  private fresh = false
  private queue: Promise<unknown> = Promise.resolve()
  private closed = false

  constructor (request: InstantiateRequest, options: GuestInstanceOptions) {
    this.request = request
    this.options = options
  }

  /** instantiates now (rather than on the first call), so link errors and start traps surface here */
  async start (): Promise<readonly string[]> {
    return await this.serialised(async () => {
      await this.ready()
      return this.functions
    })
  }

  /**
   * Calls an export. A core module's arguments may be given as users write them (numbers,
   * numeric strings, BigInts): they are made into the export's parameter types first, and
   * anything else is `bad-request` before the guest sees it.
   */
  async call (fn: string, rawArgs: readonly unknown[], timeoutMs = this.options.timeoutMs): Promise<GuestOutcome> {
    const params = this.options.signatures?.get(fn)
    const args = params === undefined ? rawArgs : coerceArgs(params, rawArgs, fn)
    return await this.serialised(async () => {
      const thread = await this.ready()
      this.fresh = false
      const index = this.functions.indexOf(fn)
      if (index < 0) throw new WasmeshError('not-found', `the module exports no function "${fn}"`)
      const response = fitsSlots(args)
        ? await this.guarded(thread.call(index, args, timeoutMs))
        : await this.guarded(thread.request({ type: 'call', fn, args: [...args] }, timeoutMs))
      return this.outcome(response)
    })
  }

  /** runs the module as a command (`_start`), on a fresh instance as `wasmtime run` does */
  async run (timeoutMs = this.options.timeoutMs): Promise<GuestOutcome> {
    return await this.serialised(async () => {
      if (!this.fresh) this.instantiated = false
      const thread = await this.ready()
      this.fresh = false
      return this.outcome(await this.guarded(thread.request({ type: 'run' }, timeoutMs)))
    })
  }

  get running (): boolean {
    return this.thread?.alive === true
  }

  close (): void {
    if (this.closed) return
    this.closed = true
    this.options.onClose?.()
    this.thread?.terminate('closed')
    this.thread = undefined
  }

  private async ready (): Promise<GuestThread> {
    if (this.closed) throw new WasmeshError('not-found', 'the instance was closed')
    if (this.thread?.alive === true && this.instantiated) return this.thread
    if (this.thread?.alive !== true) this.thread = this.options.newThread()
    const response = await this.guarded(this.thread.request(this.request, this.options.startTimeoutMs))
    if (response.type !== 'instantiated') {
      this.instantiated = false
      throw failure(response)
    }
    this.functions = response.functions
    this.instantiated = true
    this.fresh = true
    return this.thread
  }

  /**
   * A guest that trapped, exited, ran out of time or lost a host call is made anew before the
   * next request (its state may be half-updated); one that was only given bad arguments
   * never ran, and keeps its state.
   */
  private async guarded (pending: Promise<GuestResponse>): Promise<GuestResponse> {
    try {
      const response = await pending
      if (response.type === 'exited' || (response.type === 'failed' && response.code !== 'bad-request')) this.instantiated = false
      return response
    } catch (err) {
      this.instantiated = false
      throw err
    }
  }

  private outcome (response: GuestResponse): GuestOutcome {
    if (response.type === 'failed' || response.type === 'instantiated') throw failure(response)
    const output = outputOf(response.output)
    return response.type === 'exited' ? { exitCode: response.code, ...output } : { value: response.value, ...output }
  }

  private async serialised<T> (task: () => Promise<T>): Promise<T> {
    const next = this.queue.then(task, task)
    this.queue = next.catch(() => {})
    return await next
  }
}

function outputOf (output: CapturedOutput | undefined): Omit<GuestOutcome, 'value' | 'exitCode'> {
  return output === undefined ? { stdout: EMPTY, stderr: EMPTY, truncated: false } : output
}

function failure (response: GuestResponse): WasmeshError {
  if (response.type === 'failed') {
    const stderr = response.output?.stderr
    const details = stderr !== undefined && stderr.length > 0 ? { stderr: new TextDecoder().decode(stderr.subarray(-2048)) } : undefined
    return new WasmeshError(response.code, response.message, details)
  }
  if (response.type === 'exited') return new WasmeshError('trap', `the guest exited with code ${response.code} while starting`)
  return new WasmeshError('internal', `unexpected answer ${response.type}`)
}
