import { realpathSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { exportedMemory, type WasmInstance, type WasmMemory } from '../engine.ts'
import { WasmeshError } from '../../errors.ts'
import { errnoOf } from './errno.ts'
import { WasiExit } from './exit.ts'
import { FdTable, type OpenFd } from './fd-table.ts'
import { GuestMemory } from './memory-view.ts'
import type { WasiContext, WasiFunction } from './context.ts'
import { ALL_RIGHTS, DIR_RIGHTS, FILETYPE, STDIN_RIGHTS, STDOUT_RIGHTS } from './rights.ts'
import { WASI_PREVIEW1_SIGNATURES } from './signatures.ts'
import { processFunctions } from './process-functions.ts'
import { clockRandomFunctions } from './clock-random.ts'
import { fdFunctions } from './fd-functions.ts'
import { pathFunctions } from './path-functions.ts'

/** a host directory the guest sees under `guest` (e.g. '/data', or '/' as wasmtime's `--dir ./data::/`) */
export interface Preopen { guest: string, host: string }

export interface WasiOptions {
  /** argv, program name first */
  args?: readonly string[]
  env?: Readonly<Record<string, string>>
  /** fds 3, 4, ... in this order; a relative host path is taken from the working directory */
  preopens?: readonly Preopen[]
  /** the whole of stdin (default empty) */
  stdin?: Uint8Array
  /**
   * stdout's bytes, one call per non-empty iovec of each fd_write, as a view of guest memory
   * that is only valid during the call: copy what you keep (default: discarded)
   */
  stdout?: (bytes: Uint8Array) => void
  stderr?: (bytes: Uint8Array) => void
  /** blocks this thread for poll_oneoff's clocks; default Atomics.wait on a private Int32Array */
  sleep?: (ms: number) => void
}

type Imports = { wasi_snapshot_preview1: Record<string, (...args: any[]) => unknown> }

/**
 * A sandboxed WASI preview 1 for one guest instance, entirely synchronous (guests run on
 * worker threads that the runtime may terminate at any time). The guest sees its preopens
 * and nothing else of the host: see confined-path.ts.
 */
export class Wasi {
  readonly imports: Imports
  private readonly mem = new GuestMemory()
  private readonly fds = new FdTable()
  private exitCode: number | undefined

  constructor (options: WasiOptions = {}) {
    this.fds.set(0, stdio('stdin', STDIN_RIGHTS))
    this.fds.set(1, stdio('stdout', STDOUT_RIGHTS))
    this.fds.set(2, stdio('stderr', STDOUT_RIGHTS))
    resolvePreopens(options.preopens ?? []).forEach((preopen, i) => this.fds.set(3 + i, preopenFd(preopen)))
    const ctx: WasiContext = {
      mem: this.mem,
      fds: this.fds,
      args: [...(options.args ?? [])],
      env: Object.entries(options.env ?? {}),
      stdin: options.stdin ?? new Uint8Array(0),
      stdout: options.stdout ?? (() => {}),
      stderr: options.stderr ?? (() => {}),
      sleep: options.sleep ?? defaultSleep
    }
    const functions: Record<string, WasiFunction> = {
      ...processFunctions(ctx),
      ...clockRandomFunctions(ctx),
      ...fdFunctions(ctx),
      ...pathFunctions(ctx)
    }
    const wrapped: Record<string, (...args: any[]) => unknown> = {}
    for (const name of Object.keys(WASI_PREVIEW1_SIGNATURES)) {
      const fn = functions[name]
      wrapped[name] = (...args: any[]): unknown => this.call(fn, args)
    }
    this.imports = { wasi_snapshot_preview1: wrapped }
  }

  /** every import goes through here: only WasiExit may leave, anything else becomes an errno */
  private call (fn: WasiFunction, args: any[]): unknown {
    if (this.exitCode !== undefined) throw new WasiExit(this.exitCode)
    try {
      return fn(...args)
    } catch (err) {
      if (err instanceof WasiExit) {
        this.exitCode = err.code
        throw err
      }
      return errnoOf(err)
    }
  }

  attach (memory: WasmMemory): void {
    this.mem.memory = memory
  }

  /** run a command: `_start`, returning its exit code (0 when it returns) */
  start (instance: WasmInstance): number {
    this.attachExports(instance)
    const start = instance.exports._start
    if (typeof start !== 'function') throw new WasmeshError('invalid-module', 'a WASI command must export _start')
    try {
      start()
    } catch (err) {
      if (err instanceof WasiExit) return err.code
      // a guest that caught the exit (exception handling) and then failed has still exited
      if (this.exitCode !== undefined) return this.exitCode
      throw err
    }
    return this.exitCode ?? 0
  }

  /** set up a reactor: `_initialize`, if it has one */
  initialize (instance: WasmInstance): void {
    this.attachExports(instance)
    const init = instance.exports._initialize
    if (typeof init === 'function') init()
  }

  close (): void {
    this.fds.closeAll()
  }

  /** a module without a memory export can still run: imports that need memory answer EFAULT */
  private attachExports (instance: WasmInstance): void {
    const memory = exportedMemory(instance)
    if (memory !== undefined) this.attach(memory)
  }
}

function stdio (kind: 'stdin' | 'stdout' | 'stderr', rights: bigint): OpenFd {
  return { kind, filetype: FILETYPE.CHARACTER_DEVICE, flags: 0, rightsBase: rights, rightsInheriting: 0n, root: '', parts: [], hostFd: -1, position: 0 }
}

/**
 * Checks preopens and gives their hosts as real paths, so a root is never a symlink that
 * could later be re-pointed: `bad-request` for an empty or NUL-bearing path, a host that is
 * not a directory, or one preopen inside another (the guest could rename the inner one's
 * root away through the outer one and put a symlink leading out in its place; the same
 * directory twice is fine). The runtime calls it before starting a worker, Wasi again.
 */
export function resolvePreopens (preopens: readonly Preopen[]): Preopen[] {
  const resolved = preopens.map(resolvePreopen)
  for (const a of resolved) {
    for (const b of resolved) {
      if (a.host !== b.host && (b.host === '/' || a.host.startsWith(`${b.host}/`))) {
        throw new WasmeshError('bad-request', `cannot preopen ${a.host} and ${b.host} together: one is inside the other`, { field: 'dir' })
      }
    }
  }
  return resolved
}

function resolvePreopen (preopen: Preopen): Preopen {
  if (typeof preopen.guest !== 'string' || preopen.guest === '' || preopen.guest.includes('\0')) {
    throw new WasmeshError('bad-request', `bad guest path for a preopen: ${JSON.stringify(preopen.guest)}`, { field: 'dir' })
  }
  if (typeof preopen.host !== 'string' || preopen.host === '' || preopen.host.includes('\0')) {
    throw new WasmeshError('bad-request', `bad host directory for a preopen: ${JSON.stringify(preopen.host)}`, { field: 'dir' })
  }
  try {
    const host = realpathSync(resolve(preopen.host))
    if (!statSync(host).isDirectory()) throw new Error('not a directory')
    return { guest: preopen.guest, host }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new WasmeshError('bad-request', `cannot preopen ${preopen.host}: ${code === 'ENOENT' ? 'no such directory' : (err as Error).message}`, { field: 'dir' })
  }
}

/** a preopen already resolved by resolvePreopens */
function preopenFd (preopen: Preopen): OpenFd {
  return {
    kind: 'dir',
    filetype: FILETYPE.DIRECTORY,
    flags: 0,
    rightsBase: DIR_RIGHTS,
    rightsInheriting: ALL_RIGHTS,
    root: preopen.host,
    parts: [],
    hostFd: -1,
    position: 0,
    preopen: preopen.guest
  }
}

/** blocks this thread; the runtime passes an interruptible sleep instead */
function defaultSleep (ms: number): void {
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}
