import { Buffer } from 'node:buffer'
import { WasmeshError, isWasmeshError } from '../../errors.ts'
import { engine, type ImportObject, type WasmModule } from '../engine.ts'
import { ComponentExit } from './component-exit.ts'
import { exportPath, kebab, lowerCamel, skillOfImport, wasiInterface } from './names.ts'
import type { ComponentSkillFunctions } from './component-skills.ts'
import type { TranspiledComponent } from './transpile.ts'
import { wasiInterfaces, type WasiHost } from './wasi-imports.ts'

export { ComponentExit }

/** what the node gives one component instance */
export interface ComponentHost extends WasiHost {
  /** the host functions of a skill's interface, by jco's (camelCase) or WIT (kebab) names; undefined if the node lacks the skill */
  skill: (name: string) => ComponentSkillFunctions | undefined
}

export interface ComponentInstance {
  /** the exported functions by path (names.ts): jco's own functions, called directly, values WIT-level */
  functions: ReadonlyMap<string, (...args: unknown[]) => unknown>
}

type Bindings = (getCoreModule: (name: string) => WasmModule, imports: Record<string, object>,
  instantiateCore: (module: WasmModule, imports: ImportObject) => unknown) => Record<string, unknown>

const bindingsCache = new Map<string, Promise<Bindings>>()

/**
 * Instantiates a transpiled component: WASI 0.2 from wasi-imports.ts, skills from the host,
 * core modules compiled by `compile` (where the runtime applies its limits). Runs on the
 * guest's worker thread (or any thread: nothing here is shared between instances).
 * Throws WasmeshError('unsatisfiable') naming the first import the node cannot give,
 * ComponentExit if the component exits while starting, WasmeshError('trap') if it traps.
 */
export async function instantiateComponent (t: TranspiledComponent, compile: (name: string, bytes: Uint8Array) => WasmModule, host: ComponentHost): Promise<ComponentInstance> {
  const imports = componentImports(t.imports, host)
  const modules = new Map<string, WasmModule>()
  for (const [name, bytes] of Object.entries(t.coreModules)) modules.set(name, compile(name, bytes))
  const instantiate = await loadBindings(t.js)
  let root: Record<string, unknown>
  try {
    root = instantiate(name => {
      const module = modules.get(name)
      if (module === undefined) throw new WasmeshError('invalid-module', `the component's bindings ask for a core module ${name} it does not have`)
      return module
    }, imports, (module, importObject) => new engine.Instance(module, importObject))
  } catch (err) {
    throw startError(err)
  }
  return { functions: exportedFunctions(root, t.exports) }
}

/** The import object for jco's bindings. Each interface is checked as the bindings read it (see `strict`). */
export function componentImports (specifiers: readonly string[], host: ComponentHost): Record<string, object> {
  const wasi = wasiInterfaces(host)
  const imports: Record<string, object> = {}
  for (const specifier of specifiers) {
    const w = wasiInterface(specifier)
    if (w !== undefined) {
      const found = wasi.get(`${w.pkg}/${w.iface}`)
      if (found === undefined) throw new WasmeshError('unsatisfiable', `the component imports ${specifier}, which wasmesh does not offer to components`)
      imports[specifier] = strict(specifier, found)
      continue
    }
    const skill = skillOfImport(specifier)
    const functions = skill === undefined ? undefined : host.skill(skill)
    if (skill === undefined || functions === undefined) {
      throw new WasmeshError('unsatisfiable', `the component imports ${specifier}, but this node has no skill ${skill ?? specifier}`, { skill: skill ?? specifier })
    }
    imports[specifier] = strict(specifier, camelKeys(functions))
  }
  return imports
}

/**
 * The interface as a view that throws 'unsatisfiable' when the bindings read a function it
 * lacks. jco's bindings read every import once, while instantiating, so a missing function is
 * found then rather than at its first call, and calls pay nothing for the check.
 */
function strict (specifier: string, iface: object): object {
  return new Proxy(iface, {
    get (target, key, receiver) {
      if (typeof key === 'string' && !Reflect.has(target, key)) {
        throw new WasmeshError('unsatisfiable', `the component imports ${specifier}#${kebab(key)}, which this node does not offer`)
      }
      return Reflect.get(target, key, receiver)
    }
  })
}

function camelKeys (functions: ComponentSkillFunctions): ComponentSkillFunctions {
  const out: ComponentSkillFunctions = {}
  for (const [name, fn] of Object.entries(functions)) out[lowerCamel(name)] = fn
  return out
}

function loadBindings (js: string): Promise<Bindings> {
  let bindings = bindingsCache.get(js)
  if (bindings === undefined) {
    // the source imports nothing, so it loads from a data: URL without touching the file system
    const url = `data:text/javascript;base64,${Buffer.from(js).toString('base64')}`
    bindings = import(url).then((m: { instantiate?: unknown }) => {
      if (typeof m.instantiate !== 'function') throw new WasmeshError('internal', 'the transpiled component exports no instantiate()')
      return m.instantiate as Bindings
    })
    bindingsCache.set(js, bindings)
  }
  return bindings
}

function startError (err: unknown): Error {
  if (err instanceof ComponentExit || isWasmeshError(err)) return err
  const message = err instanceof Error ? err.message : String(err)
  if (err instanceof engine.RuntimeError) return new WasmeshError('trap', `the component trapped while starting: ${message}`)
  if (err instanceof engine.LinkError) return new WasmeshError('unsatisfiable', `the component cannot be linked: ${message}`)
  return new WasmeshError('internal', `the component could not be instantiated: ${message}`)
}

/** the listed exports, found in jco's instance object by the names.ts naming */
function exportedFunctions (root: Record<string, unknown>, paths: readonly string[]): Map<string, (...args: unknown[]) => unknown> {
  const wanted = new Set(paths)
  const functions = new Map<string, (...args: unknown[]) => unknown>()
  const add = (instanceKey: string | undefined, fnKey: string, fn: unknown): void => {
    const path = exportPath(instanceKey, fnKey)
    if (typeof fn === 'function' && wanted.has(path) && !functions.has(path)) functions.set(path, fn as (...args: unknown[]) => unknown)
  }
  for (const [key, value] of Object.entries(root)) {
    if (typeof value === 'function') add(undefined, key, value)
    else if (typeof value === 'object' && value !== null) {
      for (const [fnKey, fn] of Object.entries(value)) add(key, fnKey, fn)
    }
  }
  const missing = paths.filter(p => !functions.has(p))
  if (missing.length > 0) throw new WasmeshError('internal', `the transpiled component lacks exports ${missing.join(', ')}`)
  return functions
}
