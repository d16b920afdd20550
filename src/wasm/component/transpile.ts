import { WasmeshError } from '../../errors.ts'
import { exportPath } from './names.ts'

/**
 * A component made JavaScript: jco's bindings plus the core modules they instantiate. It is
 * plain data (structured-cloneable), made once on the main thread and handed to the guest's
 * worker, where instantiate.ts loads `js` and compiles `coreModules` under the runtime's limits.
 *
 * The transpiler is jco 1.12.0's (the `@bytecodealliance/jco-1.12` alias), not the project's
 * jco 1.35: from 1.13 on, every exported function runs jco's async task machinery (task objects,
 * a `process.env` read per debug-log line) even when the component is synchronous, and a call to
 * a one-instruction export costs ~2.7 µs against ~5-10 ns for the same core export. 1.12's output
 * calls the core export directly (~5-10 ns) and runs WASI 0.2 components on preview2-shim 0.26.
 * No option of 1.35 or of jco-transpile 0.15 removes that cost (measured: bench/component-call.ts,
 * README.md in this folder).
 */
export interface TranspiledComponent {
  /** ESM source (instantiation mode `sync`): exports `instantiate(getCoreModule, imports, instantiateCore?)` and imports nothing */
  js: string
  /** core module name → bytes, as `getCoreModule` is asked for them */
  coreModules: Record<string, Uint8Array>
  /** the import specifiers `instantiate` reads from its `imports` argument, e.g. `wasi:cli/stdout`, `wasmesh:skills/dht` */
  imports: string[]
  /** exported functions, named as names.ts says: `add`, `local:calc/ops#mul` */
  exports: string[]
}

interface GenerateOptions {
  name: string
  noTypescript: boolean
  instantiation: { tag: 'sync' }
  noNodejsCompat: boolean
  base64Cutoff: number
}

interface Generated {
  files: Array<[string, Uint8Array]>
  imports: string[]
  exports: Array<[string, 'function' | 'instance']>
}

type Generate = (component: Uint8Array, options: GenerateOptions) => Promise<Generated>

let generator: Promise<Generate> | undefined

function loadGenerator (): Promise<Generate> {
  // loaded on first use: the bindgen component takes ~150 ms to compile, and most nodes never see a component
  generator ??= import('@bytecodealliance/jco-1.12/component').then(m => m.generate as unknown as Generate)
  return generator
}

const DEFAULT_NAME = 'component'

const utf8 = new TextDecoder()

/** Transpiles a component. Throws WasmeshError('invalid-module') if jco cannot. */
export async function transpileComponent (bytes: Uint8Array, name?: string): Promise<TranspiledComponent> {
  const generate = await loadGenerator()
  const fileName = safeName(name)
  let generated: Generated
  try {
    generated = await generate(bytes, {
      name: fileName,
      // the types are how the functions of exported interfaces are found (see exportedFunctions)
      noTypescript: false,
      instantiation: { tag: 'sync' },
      // the output runs on the guest's worker with everything passed in: nothing Node-specific
      noNodejsCompat: true,
      // never inline a core module as base64: the runtime compiles every one, under its limits
      base64Cutoff: 0
    })
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    throw new WasmeshError('invalid-module', `cannot transpile component: ${message.replace(/\s*\n\s*/g, ': ')}`)
  }
  const files = new Map(generated.files)
  const js = files.get(`${fileName}.js`)
  if (js === undefined) throw new WasmeshError('internal', `jco produced no ${fileName}.js`)
  const coreModules: Record<string, Uint8Array> = {}
  for (const [path, content] of files) if (path.endsWith('.wasm')) coreModules[path] = content
  return {
    js: utf8.decode(js),
    coreModules,
    imports: [...generated.imports],
    exports: exportedFunctions(generated.exports, files)
  }
}

/** a file name for jco: the component's name when it is a plain word, else `component` */
function safeName (name: string | undefined): string {
  return name !== undefined && /^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(name) ? name : DEFAULT_NAME
}

/**
 * The paths of the exported functions. jco lists world-level functions by JS name, and
 * exported interfaces by key, sometimes twice (`local:calc/ops` and its alias `ops`); the
 * functions of an interface are in the declaration file jco writes for it, headed
 * `@module Interface NAME`. An alias of an interface that is also exported by its full name
 * is left out, so each function has one path.
 */
export function exportedFunctions (exports: ReadonlyArray<readonly [string, 'function' | 'instance']>, files: ReadonlyMap<string, Uint8Array>): string[] {
  const declarations = interfaceDeclarations(files)
  const instances = exports.filter(([, kind]) => kind === 'instance').map(([key]) => key)
  const paths: string[] = []
  for (const [key, kind] of exports) {
    if (kind === 'function') {
      paths.push(exportPath(undefined, key))
      continue
    }
    const declared = findDeclaration(declarations, key)
    if (declared === undefined) continue
    const isAlias = !key.includes(':') && instances.some(other => other !== key && other.includes(':') && findDeclaration(declarations, other) === declared)
    if (isAlias) continue
    for (const fn of declared.functions) paths.push(exportPath(key, fn))
  }
  return paths.sort()
}

interface InterfaceDeclaration { name: string, functions: string[] }

function interfaceDeclarations (files: ReadonlyMap<string, Uint8Array>): InterfaceDeclaration[] {
  const found: InterfaceDeclaration[] = []
  for (const [path, content] of files) {
    if (!path.endsWith('.d.ts')) continue
    const text = utf8.decode(content)
    const header = /@module Interface (\S+)/.exec(text)
    if (header === null) continue
    const functions = [...text.matchAll(/^export function ([A-Za-z_$][\w$]*)\s*\(/gm)].map(m => m[1])
    found.push({ name: header[1], functions })
  }
  return found
}

/** the declaration of an exported interface by jco's key: the full name, with or without version, or a plain name */
function findDeclaration (declarations: InterfaceDeclaration[], key: string): InterfaceDeclaration | undefined {
  const unversioned = (name: string): string => name.replace(/@[^/]*$/, '')
  const plain = (name: string): string => unversioned(name).replace(/^.*\//, '')
  return declarations.find(d => d.name === key) ??
    declarations.find(d => unversioned(d.name) === unversioned(key)) ??
    (key.includes(':') ? undefined : declarations.find(d => plain(d.name) === key))
}
