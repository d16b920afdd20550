import { WasmeshError, isWasmeshError } from '../../errors.ts'
import type { ErrorCode } from '../../errors.ts'
import { engine, exportedMemory } from '../engine.ts'
import type { WasmInstance, WasmMemory } from '../engine.ts'
import { Wasi, WasiExit } from '../wasi/index.ts'
import { ComponentExit } from '../component/component-exit.ts'
import { skillImports } from '../skills/host/index.ts'
import type { SkillHostContext } from '../skills/host/context.ts'
import { OutputSink } from './output-sink.ts'
import type { GuestResponse, InstantiateRequest } from './messages.ts'

/** What the worker needs from its surroundings to build a guest. */
export interface GuestSurroundings {
  /** blocks the thread for up to ms, returning early once the node cancels the call */
  sleep: (ms: number) => void
  /** a skill reading, answered by the node's providers */
  read: (skill: string, quantity: string) => Uint8Array | number
}

/**
 * One instantiated guest on its worker: a core module linked to WASI preview 1 and the
 * granted skills, or a component. It runs one request at a time, synchronously, and turns
 * every way a guest can end (return, proc_exit, trap, host error) into a GuestResponse.
 */
export interface Guest {
  /** callable functions, in the order the node addresses them by index */
  readonly functions: readonly string[]
  readonly output: OutputSink
  invoke: (index: number, args: unknown[]) => unknown
  /** runs the command (`_start`), returning its exit code */
  run: () => number
  /** releases what the guest holds on the host (its open files) */
  close: () => void
}

export async function instantiateGuest (request: InstantiateRequest, around: GuestSurroundings): Promise<Guest> {
  const output = new OutputSink(request.environment.stdio, request.maxOutputBytes)
  return request.code.kind === 'core'
    ? instantiateCore(request, request.code.module, output, around)
    : await instantiateComponentGuest(request, output, around)
}

function instantiateCore (request: InstantiateRequest, module: object, output: OutputSink, around: GuestSurroundings): Guest {
  const { args, env, preopens } = request.environment
  const wasi = new Wasi({ args, env, preopens, stdout: output.stdout, stderr: output.stderr, sleep: around.sleep })
  const started = performance.now()
  let instance: WasmInstance | undefined
  let memory: WasmMemory | undefined
  const context: SkillHostContext = {
    memory: () => {
      if (memory === undefined) throw new WasmeshError('trap', 'the guest exports no memory')
      return memory
    },
    guestExport: name => instance?.exports[name],
    read: around.read,
    stdout: output.stdout,
    sleep: around.sleep,
    millis: () => Math.floor(performance.now() - started)
  }
  instance = new engine.Instance(module, { ...wasi.imports, ...skillImports(request.skills, context) })
  memory = exportedMemory(instance)
  if (memory !== undefined) wasi.attach(memory)
  const exports = instance.exports
  if (typeof exports._initialize === 'function' && typeof exports._start !== 'function') wasi.initialize(instance)
  const names = Object.keys(exports).filter(name => typeof exports[name] === 'function')
  const functions = names.map(name => exports[name] as (...a: unknown[]) => unknown)
  const ready = instance
  return {
    functions: names,
    output,
    invoke: (index, args) => functions[index](...args),
    run: () => {
      if (typeof exports._start !== 'function') throw new WasmeshError('not-found', 'the module exports no _start: it is not a command (use --invoke FN)')
      return wasi.start(ready)
    },
    close: () => { wasi.close() }
  }
}

async function instantiateComponentGuest (request: InstantiateRequest, output: OutputSink, around: GuestSurroundings): Promise<Guest> {
  if (request.code.kind !== 'component') throw new WasmeshError('internal', 'not a component')
  // loaded on first use: core guests never pay for jco's glue and the WASI 0.2 shim
  const { instantiateComponent } = await import('../component/instantiate.ts')
  const { componentSkill } = await import('../component/component-skills.ts')
  const coreModules = request.code.coreModules
  const started = performance.now()
  const context: SkillHostContext = {
    memory: () => { throw new WasmeshError('trap', 'component skills do not reach guest memory') },
    guestExport: () => undefined,
    read: around.read,
    stdout: output.stdout,
    sleep: around.sleep,
    millis: () => Math.floor(performance.now() - started)
  }
  const granted = new Set(request.skills)
  const instance = await instantiateComponent(request.code.transpiled, name => {
    const module = coreModules[name]
    if (module === undefined) throw new WasmeshError('internal', `core module ${name} missing`)
    return module
  }, {
    args: request.environment.args,
    env: request.environment.env,
    stdout: output.stdout,
    stderr: output.stderr,
    skill: name => granted.has(name) ? componentSkill(name, context) : undefined
  })
  const names = [...instance.functions.keys()]
  const functions = names.map(name => instance.functions.get(name) as (...a: unknown[]) => unknown)
  return {
    functions: names,
    output,
    invoke: (index, args) => functions[index](...args),
    run: () => {
      const run = instance.functions.get('wasi:cli/run#run')
      if (run === undefined) throw new WasmeshError('not-found', 'the component exports no wasi:cli/run: it is not a command (use --invoke FN)')
      try {
        run()
      } catch (err) {
        // `run: func() -> result`: jco throws its ComponentError for `err`, which wasmtime reports as exit code 1
        if (err instanceof Error && err.constructor.name === 'ComponentError') return 1
        throw err
      }
      return 0
    },
    close: () => {}
  }
}

/** the response for a guest that threw `err` */
export function failureOf (err: unknown, output?: OutputSink): GuestResponse {
  // the ways a guest exits, carrying its code: WASI preview 1's proc_exit, wasi:cli/exit
  if (err instanceof WasiExit || err instanceof ComponentExit) return { type: 'exited', code: err.code, output: output?.take() }
  const { code, message } = classify(err)
  return { type: 'failed', code, message, output: output?.take() }
}

function classify (err: unknown): { code: ErrorCode, message: string } {
  if (isWasmeshError(err)) return { code: err.code, message: err.message }
  if (err instanceof engine.LinkError) return { code: 'unsatisfiable', message: err.message.replace(/^WebAssembly\.Instance\(\): /, '') }
  if (err instanceof engine.RuntimeError) return { code: 'trap', message: err.message }
  // stack overflow in the guest (or its glue) surfaces as a RangeError
  if (err instanceof RangeError) return { code: 'trap', message: err.message }
  // arguments the guest's signature cannot take (core arguments are checked on the node's side
  // first; this is a component's bindings refusing a value)
  if (err instanceof TypeError) return { code: 'bad-request', message: `bad arguments: ${err.message}` }
  return { code: 'trap', message: `host function failed: ${err instanceof Error ? err.message : String(err)}` }
}
