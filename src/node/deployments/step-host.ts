import { constants } from 'node:fs'
import { mkdir, open as openFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { WasmeshError } from '../../errors.ts'
import { DEFAULT_MAX_FILE_BYTES } from '../../protocols/call/constants.ts'
import type { CallAnswer, CallFile } from '../../protocols/call/messages.ts'
import { outputMount } from '../../wasm/describe/description.ts'
import type { FunctionDescription, MountDescription } from '../../wasm/describe/description.ts'
import type { CoreValType } from '../../wasm/module-info.ts'
import { coerceArgs } from '../../wasm/runtime/index.ts'
import type { GuestInstance, GuestOutcome, WasmRuntime } from '../../wasm/runtime/index.ts'


export interface StepHostInit {
  runtime: WasmRuntime
  /** the module's bytes (prepare() is cached by hash, so this is cheap the second time) */
  bytes: Uint8Array
  function: string
  /** the function's description, if the module has one for it */
  description?: FunctionDescription
  /** this step's folder (created if missing, emptied first); the guest sees it as "/" */
  dir: string
  /** deployment-stage files, by mount name, written into dir before the guest starts */
  deploymentFiles: Array<{ mount: string, bytes: Uint8Array }>
  /** the deployment's config, as the guest's environment */
  env?: Record<string, string>
  /** most bytes an output file may have (default: the call protocol's file limit, 256 MiB) */
  maxOutputBytes?: number
}

/**
 * One deployment step hosted on this node: one guest instance kept alive across calls (so a
 * stateful module keeps its state) and a folder that is the guest's "/", holding the
 * deployment-stage files for good and each call's execution-stage and output files for the
 * length of that call.
 */
export class StepHost {
  readonly dir: string
  private readonly fn: string
  private readonly description: FunctionDescription | undefined
  private readonly results: readonly CoreValType[] | undefined
  private readonly params: readonly CoreValType[] | undefined
  private readonly instance: GuestInstance
  private readonly deploymentMounts: ReadonlySet<string>
  private readonly maxOutputBytes: number
  /** calls that use the folder, one at a time: their files share it */
  private folderQueue: Promise<unknown> = Promise.resolve()
  private closed = false

  private constructor (init: StepHostInit, instance: GuestInstance, results: readonly CoreValType[] | undefined, params: readonly CoreValType[] | undefined) {
    this.dir = init.dir
    this.fn = init.function
    this.description = init.description
    this.results = results
    this.params = params
    this.instance = instance
    this.deploymentMounts = new Set(init.deploymentFiles.map(f => f.mount))
    this.maxOutputBytes = init.maxOutputBytes ?? DEFAULT_MAX_FILE_BYTES
  }

  /** prepares the module, writes the deployment-stage files and starts the guest (link errors surface here) */
  static async open (init: StepHostInit): Promise<StepHost> {
    const prepared = await init.runtime.prepare(init.bytes)
    const exported = prepared.info.exports.find(e => e.name === init.function && e.kind === 'function')
    const signature = exported?.kind === 'function' ? exported.signature : undefined
    if (init.description === undefined && signature !== undefined && signature.results.length > 1) {
      throw new WasmeshError('bad-request', `function "${init.function}" returns ${signature.results.length} values; a step answers with at most one (describe it with "result": null or an output mount)`, { function: init.function })
    }
    assertMountNames(init.deploymentFiles.map(f => f.mount), 'deployment')
    // the host removes and reads at these names: `..` or `a/b` would reach outside the folder
    const unsafe = init.description?.mounts.find(m => !isSafeMountName(m.name))
    if (unsafe !== undefined) throw new WasmeshError('bad-request', `mount name ${JSON.stringify(unsafe.name)} of function "${init.function}" is not a plain file name`, { mount: unsafe.name })
    await rm(init.dir, { recursive: true, force: true })
    await mkdir(init.dir, { recursive: true })
    try {
      for (const file of init.deploymentFiles) await writeFile(join(init.dir, file.mount), file.bytes, { flag: 'wx' })
      const instance = await init.runtime.instantiate(prepared, { env: init.env ?? {}, preopens: [{ guest: '/', host: init.dir }] })
      try {
        // a component's functions are only known once it runs
        const functions = await instance.start()
        if (!functions.includes(init.function)) throw new WasmeshError('not-found', `the module exports no function "${init.function}"`, { function: init.function })
      } catch (err) {
        instance.close()
        throw err
      }
      return new StepHost(init, instance, signature?.results, signature?.params)
    } catch (err) {
      await rm(init.dir, { recursive: true, force: true })
      throw err
    }
  }

  /**
   * Calls the step's function with user-level arguments and execution-stage files. Arguments
   * and files are checked before anything is written or run.
   */
  async call (args: ReadonlyArray<number | string>, files: readonly CallFile[], timeoutMs?: number): Promise<CallAnswer> {
    if (this.closed) throw new WasmeshError('not-found', 'the step is no longer hosted here')
    const values = this.params === undefined ? args : coerceArgs(this.params, args, this.fn)
    assertExecutionFiles(files, this.description, this.deploymentMounts)
    const output = this.description === undefined ? undefined : outputMount(this.description)
    if (files.length === 0 && output === undefined) {
      // the folder is not touched: straight to the instance, which serialises calls itself
      return answerOf(await this.instance.call(this.fn, values, timeoutMs), this.fn, this.description, this.results)
    }
    return await this.inFolder(async () => await this.callWithFiles(values, files, output, timeoutMs))
  }

  /** closes the instance and removes the folder */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.instance.close()
    // calls in the folder fail now (the instance is closed) and clean up after themselves
    await this.folderQueue
    // the guest's worker may still be letting go of files it had open
    await rm(this.dir, { recursive: true, force: true, maxRetries: 3 })
  }

  private async callWithFiles (values: readonly unknown[], files: readonly CallFile[], output: MountDescription | undefined, timeoutMs: number | undefined): Promise<CallAnswer> {
    if (this.closed) throw new WasmeshError('not-found', 'the step is no longer hosted here')
    const written: string[] = []
    try {
      // an output left from an earlier call must never pass for this one's
      if (output !== undefined) await this.remove(output.name)
      for (const file of files) {
        await this.remove(file.mount)
        written.push(file.mount)
        // `wx`: never through whatever the guest may have put there since
        await writeFile(join(this.dir, file.mount), file.bytes, { flag: 'wx' })
      }
      const outcome = await this.instance.call(this.fn, values, timeoutMs)
      const bytes = output === undefined ? undefined : await readOutput(join(this.dir, output.name), output.name, this.maxOutputBytes)
      return answerOf(outcome, this.fn, this.description, this.results, bytes)
    } finally {
      for (const mount of written) await this.remove(mount)
      if (output !== undefined) await this.remove(output.name)
    }
  }

  /** removes whatever is at a mount (a file, or a directory or link the guest made) */
  private async remove (mount: string): Promise<void> {
    await rm(join(this.dir, mount), { recursive: true, force: true })
  }

  private async inFolder<T> (task: () => Promise<T>): Promise<T> {
    const next = this.folderQueue.then(task, task)
    this.folderQueue = next.catch(() => {})
    return await next
  }
}

/** A mount name is one path segment of the step's folder, never a way out of it. */
export function isSafeMountName (name: string): boolean {
  return typeof name === 'string' && name !== '' && name !== '.' && name !== '..' &&
    !name.includes('/') && !name.includes('\0') && Buffer.byteLength(name) <= 255
}

function assertMountNames (names: readonly string[], stage: 'deployment' | 'execution'): void {
  const seen = new Set<string>()
  for (const name of names) {
    if (!isSafeMountName(name)) throw new WasmeshError('bad-request', `mount name ${JSON.stringify(name)} is not a plain file name`, { mount: name })
    if (seen.has(name)) throw new WasmeshError('bad-request', `${stage}-stage file "${name}" is given more than once`, { mount: name })
    seen.add(name)
  }
}

/**
 * Pure: throws the `bad-request` for execution-stage files that do not fit the function: a
 * name that is no plain file name or given twice, a mount the function does not read at
 * execution (or, undescribed, one that holds a deployment-stage file), a mount it needs that
 * has no file.
 */
export function assertExecutionFiles (files: readonly CallFile[], description: FunctionDescription | undefined, deploymentMounts: ReadonlySet<string>): void {
  const names = files.map(f => f.mount)
  assertMountNames(names, 'execution')
  if (description === undefined) {
    const taken = names.find(name => deploymentMounts.has(name))
    if (taken !== undefined) throw new WasmeshError('bad-request', `mount "${taken}" holds a deployment-stage file; it cannot be given with a call`, { mount: taken })
    return
  }
  const wanted = description.mounts.filter(m => m.stage === 'execution').map(m => m.name)
  const unexpected = names.find(name => !wanted.includes(name))
  if (unexpected !== undefined) throw new WasmeshError('bad-request', `mount "${unexpected}" is not an execution-stage mount of the function`, { mount: unexpected })
  const missing = wanted.find(name => !names.includes(name))
  if (missing !== undefined) throw new WasmeshError('bad-request', `execution-stage mount "${missing}" needs its file`, { mount: missing })
}

/** an output file's bytes, or undefined if the guest wrote none; never through a link, never past `max` */
async function readOutput (path: string, mount: string, max: number): Promise<Uint8Array | undefined> {
  let handle
  try {
    handle = await openFile(path, constants.O_RDONLY | constants.O_NOFOLLOW)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return undefined
    if (code === 'ELOOP') throw new WasmeshError('trap', `the function's output "${mount}" is a link, not a file`, { mount })
    throw err
  }
  try {
    const stat = await handle.stat()
    if (!stat.isFile()) throw new WasmeshError('trap', `the function's output "${mount}" is not a file`, { mount })
    const tooLarge = (): WasmeshError => new WasmeshError('too-large', `the function's output "${mount}" is over the limit of ${max} bytes`, { mount, limit: max })
    if (stat.size > max) throw tooLarge()
    const bytes = await handle.readFile()
    if (bytes.length > max) throw tooLarge()
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)
  } finally {
    await handle.close()
  }
}

/**
 * Pure: the answer of a guest outcome. With a description: its output mount's file (`output`,
 * the bytes read back, undefined if the guest wrote none), else its number result, else none.
 * Without one: the export's result (`results`, its types, undefined for a component), or none.
 * A guest that exited with 0 answered nothing (or its output file); any other code is a trap.
 */
export function answerOf (outcome: GuestOutcome, fn: string, description: FunctionDescription | undefined, results: readonly CoreValType[] | undefined, output?: Uint8Array): CallAnswer {
  if (outcome.exitCode !== undefined && outcome.exitCode !== 0) {
    const stderr = outcome.stderr.length > 0 ? { stderr: new TextDecoder().decode(outcome.stderr.subarray(-2048)) } : {}
    throw new WasmeshError('trap', `the guest exited with code ${outcome.exitCode}`, { exitCode: outcome.exitCode, ...stderr })
  }
  const mount = description === undefined ? undefined : outputMount(description)
  if (mount !== undefined) {
    if (output === undefined) throw new WasmeshError('trap', `the function wrote no output file ${mount.name}`, { mount: mount.name })
    return { kind: 'file', file: { mount: mount.name, mediaType: mount.mediaType, bytes: output } }
  }
  if (outcome.exitCode !== undefined || outcome.value === undefined) return { kind: 'none' }
  if (description !== undefined && description.result === null) return { kind: 'none' }
  if (description === undefined && results !== undefined && results.length === 0) return { kind: 'none' }
  return { kind: 'value', value: answerValue(outcome.value, fn) }
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)
const MIN_SAFE = -MAX_SAFE

/**
 * A returned number as the answer carries it: an integer past 2^53 as its decimal string (a
 * JSON number would lose digits), NaN and the infinities as strings too (JSON has none;
 * call arguments take them back), anything else as the number it is.
 */
export function answerValue (value: unknown, fn: string): number | string {
  if (typeof value === 'bigint') return value >= MIN_SAFE && value <= MAX_SAFE ? Number(value) : value.toString()
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value)
  if (typeof value === 'boolean') return value ? 1 : 0
  const kind = Array.isArray(value) ? `${value.length} values` : `a ${value === null ? 'null' : typeof value}`
  throw new WasmeshError('bad-request', `function "${fn}" answered ${kind}; a step answers with one number, a file or nothing (describe it with "result": null)`, { function: fn })
}

/**
 * Pure: what one step's answer gives the next step: a value becomes its only argument, a
 * file its execution-stage file (the next function's first execution-stage mount, or the
 * file's own mount name when it has none), nothing gives nothing.
 */
export function nextInput (answer: CallAnswer, next: FunctionDescription | undefined): { args: Array<number | string>, files: CallFile[] } {
  switch (answer.kind) {
    case 'value':
      return { args: [answer.value], files: [] }
    case 'file': {
      const mount = next?.mounts.find(m => m.stage === 'execution')?.name ?? answer.file.mount
      return { args: [], files: [{ mount, mediaType: answer.file.mediaType, bytes: answer.file.bytes }] }
    }
    case 'none':
      return { args: [], files: [] }
  }
}
