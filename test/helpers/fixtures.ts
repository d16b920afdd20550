import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import { join, relative } from 'node:path'
import { promisify } from 'node:util'
import { engine } from '../../src/wasm/engine.ts'
import asc from 'assemblyscript/asc'
import { componentEmbed, componentNew, parse } from '@bytecodealliance/jco'

/**
 * WebAssembly test fixtures, built from the sources under test/fixtures (no binaries are
 * checked in): WAT with jco's wasm-tools, AssemblyScript with asc, the component with
 * jco's componentEmbed + componentNew, and large synthetic modules byte by byte. Builds are
 * cached per process; the small ones are handed out as copies, so a test may mutate them.
 */

const FIXTURES = new URL('../fixtures/', import.meta.url)
const ASC = fileURLToPath(new URL('../../node_modules/assemblyscript/bin/asc.js', import.meta.url))
const execFileAsync = promisify(execFile)

/** the WAT fixtures, by file name without `.wat` */
export const WAT_FIXTURES = ['add', 'camera-app', 'counter', 'big-memory', 'kitchen-sink', 'skills-guest', 'camera-no-alloc'] as const

const cache = new Map<string, Promise<Uint8Array>>()

function cached (key: string, build: () => Promise<Uint8Array>): Promise<Uint8Array> {
  let entry = cache.get(key)
  if (entry === undefined) {
    entry = build()
    cache.set(key, entry)
  }
  return entry.then(bytes => bytes.slice())
}

async function source (path: string): Promise<string> {
  return await readFile(new URL(path, FIXTURES), 'utf8')
}

/** test/fixtures/wat/<name>.wat as a binary */
export async function wat (name: string): Promise<Uint8Array> {
  return await cached(`wat:${name}`, async () => await parse(await source(`wat/${name}.wat`)))
}

/** test/fixtures/as/<name>.ts compiled with AssemblyScript (optimised, stub runtime) */
export async function assemblyScript (name: string): Promise<Uint8Array> {
  return await cached(`as:${name}`, async () => {
    const file = `${name}.ts`
    const result = await asc.compileString({ [file]: await source(`as/${file}`) }, {
      optimizeLevel: 3, shrinkLevel: 0, runtime: 'stub', noAssert: true
    })
    if (result.error !== null || result.binary === null) {
      throw new Error(`asc failed on ${file}: ${result.error?.message ?? ''}\n${result.stderr.toString()}`)
    }
    return result.binary
  })
}

/**
 * test/fixtures/as/<name>.ts compiled against WASI preview 1 with @assemblyscript/wasi-shim
 * (its asconfig: console, process, Date... over WASI, `_start` exported). Built with asc's
 * `main` from the file on disk so the shim's library files are found; nothing is written.
 */
export async function assemblyScriptWasi (name: string): Promise<Uint8Array> {
  return await cached(`as-wasi:${name}`, async () => {
    const file = fileURLToPath(new URL(`as/${name}.ts`, FIXTURES))
    const shim = new URL('../../node_modules/@assemblyscript/wasi-shim/', import.meta.url)
    const { options } = JSON.parse(await readFile(new URL('asconfig.json', shim), 'utf8')) as { options: { use: string[], exportStart: string } }
    // asc mishandles an absolute --lib: give it relative to the working directory
    const shimArgs = ['--lib', relative(process.cwd(), fileURLToPath(new URL('assembly', shim))), '--exportStart', options.exportStart, ...options.use.flatMap(u => ['--use', u])]
    // in a process of its own: asc keeps `--lib` files in module state, and later in-process
    // builds (assemblyScript()) would then pull the shim's library in
    const out = await mkdtemp(join(tmpdir(), 'wasmesh-asc-'))
    try {
      const outFile = join(out, `${name}.wasm`)
      await execFileAsync(process.execPath, [ASC, file, ...shimArgs, '--outFile', outFile, '-O3', '--runtime', 'stub', '--noAssert'])
        .catch((err: Error & { stderr?: string }) => { throw new Error(`asc failed on ${name}.ts: ${err.stderr ?? err.message}`) })
      return new Uint8Array(await readFile(outFile))
    } finally {
      await rm(out, { recursive: true, force: true })
    }
  })
}

/** why C fixtures cannot be built here, or undefined if they can (Debian's clang, lld, wasi-libc) */
export async function cToolchainMissing (): Promise<string | undefined> {
  try {
    await execFileAsync('clang', ['--version'])
  } catch {
    return 'clang is not installed (apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32, as .ci/run does)'
  }
  return undefined
}

/** test/fixtures/c/<name>.c compiled for WASI preview 1 with clang and wasi-libc */
export async function cProgram (name: string): Promise<Uint8Array> {
  return await cached(`c:${name}`, async () => {
    const out = await mkdtemp(join(tmpdir(), 'wasmesh-clang-'))
    try {
      const outFile = join(out, `${name}.wasm`)
      await execFileAsync('clang', ['--target=wasm32-wasi', '--sysroot=/usr', '-O2', '-o', outFile, fileURLToPath(new URL(`c/${name}.c`, FIXTURES))])
        .catch((err: Error & { stderr?: string }) => { throw new Error(`clang failed on ${name}.c: ${err.stderr ?? err.message}`) })
      return new Uint8Array(await readFile(outFile))
    } finally {
      await rm(out, { recursive: true, force: true })
    }
  })
}

/** test/fixtures/component/calc.wat given the world in calc.wit, made a component */
export async function calcComponent (): Promise<Uint8Array> {
  return await cached('component:calc', async () => {
    const core = await parse(await source('component/calc.wat'))
    const embedded = await componentEmbed({ binary: core, witSource: await source('component/calc.wit'), world: 'calc' })
    return await componentNew(embedded)
  })
}

/** the bytes with one more custom section at the end, of `payload` bytes (or that many zeros) */
export function withCustomSection (bytes: Uint8Array, name: string, payload: Uint8Array | number): Uint8Array {
  const data = typeof payload === 'number' ? new Uint8Array(payload) : payload
  const w = new Writer(bytes.length + data.length + name.length + 16)
  w.bytes(bytes)
  const encodedName = new TextEncoder().encode(name)
  w.byte(0)
  w.u32(leb(encodedName.length).length + encodedName.length + data.length)
  w.u32(encodedName.length)
  w.bytes(encodedName)
  w.bytes(data)
  return w.result()
}

/** what the engine itself reports of a core module's interface, to check the parser against */
export function engineInterface (bytes: Uint8Array): { imports: Array<{ module: string, name: string, kind: string }>, exports: Array<{ name: string, kind: string }> } {
  const module = new engine.Module(bytes)
  return { imports: engine.Module.imports(module), exports: engine.Module.exports(module) }
}

const bigModules = new Map<number, Uint8Array>()

/** the sizes bigModule picks for a given byte count, so tests can predict its interface */
export function bigModuleShape (bytes: number, withImports = true): { functions: number, imports: number, exports: number } {
  const functions = Math.max(1, Math.min(10_000, Math.round(bytes / 200)))
  return {
    functions,
    imports: withImports ? Math.min(200, Math.ceil(functions / 50)) : 0,
    exports: Math.min(1000, Math.ceil(functions / 10))
  }
}

/** the module names bigModule's imports cycle through; WASI among them, as in real apps */
export const BIG_MODULE_IMPORTS = ['camera', 'sensor', 'sys', 'wasi_snapshot_preview1'] as const

/**
 * A valid core module of about `bytes` bytes (exactly, from a few hundred bytes up), shaped
 * like real code for the parser to work on: up to 10,000 small functions of four signatures,
 * up to 200 function imports from four modules and 1,000 exports, a memory and a global,
 * the function bodies padding it out (then a custom section `pad` for the last few bytes).
 * Cached per size and shared: copy before mutating. Without imports, it links anywhere
 * (for the runtime to instantiate).
 */
export function bigModule (bytes: number, withImports = true): Uint8Array {
  const key = withImports ? bytes : -bytes
  const known = bigModules.get(key)
  if (known !== undefined) return known
  const shape = bigModuleShape(bytes, withImports)
  const types: Array<[number[], number[]]> = [
    [[], [I32]], [[I32, I32], [I32]], [[I64], [I64]], [[F32, F64], [F64]]
  ]
  const head = new Writer(1024 + shape.imports * 32 + shape.functions * 4 + shape.exports * 16)
  head.bytes(PREAMBLE)
  head.section(1, w => {
    w.u32(types.length)
    for (const [params, results] of types) {
      w.byte(0x60)
      w.u32(params.length)
      for (const p of params) w.byte(p)
      w.u32(results.length)
      for (const r of results) w.byte(r)
    }
  })
  head.section(2, w => {
    w.u32(shape.imports)
    for (let i = 0; i < shape.imports; i++) {
      w.name(BIG_MODULE_IMPORTS[i % BIG_MODULE_IMPORTS.length])
      w.name(`fn_${i}`)
      w.byte(0x00)
      w.u32(i % types.length)
    }
  })
  // defined functions alternate ()->i32 and (i32,i32)->i32: one body fits both
  head.section(3, w => {
    w.u32(shape.functions)
    for (let i = 0; i < shape.functions; i++) w.u32(i % 2)
  })
  head.section(5, w => { w.u32(1); w.byte(0x01); w.u32(1); w.u32(16) })
  head.section(6, w => { w.u32(1); w.byte(I32); w.byte(0x01); w.byte(0x41); w.byte(0x00); w.byte(0x0b) })
  const step = Math.floor(shape.functions / shape.exports)
  head.section(7, w => {
    w.u32(shape.exports + 1)
    w.name('memory')
    w.byte(0x02)
    w.u32(0)
    for (let i = 0; i < shape.exports; i++) {
      w.name(`f${i}`)
      w.byte(0x00)
      w.u32(shape.imports + i * step)
    }
  })
  const prefix = head.result()

  // every body the same: no locals, `i32.const 0; drop` repeated (nops for the odd bytes), `i32.const 7; end`
  const room = bytes - prefix.length - 16 - shape.functions * 4
  const bodySize = Math.max(4, Math.floor(room / shape.functions))
  const body = new Writer(bodySize + 8)
  body.u32(bodySize)
  body.byte(0x00)
  const filler = bodySize - 4
  for (let i = 0; i < Math.floor(filler / 3); i++) { body.byte(0x41); body.byte(0x00); body.byte(0x1a) }
  for (let i = 0; i < filler % 3; i++) body.byte(0x01)
  body.byte(0x41); body.byte(0x07); body.byte(0x0b)
  const oneBody = body.result()
  const codeSize = leb(shape.functions).length + oneBody.length * shape.functions

  const total = prefix.length + 1 + leb(codeSize).length + codeSize
  const gap = bytes - total
  const out = new Writer(Math.max(total, bytes) + 16)
  out.bytes(prefix)
  out.byte(10)
  out.u32(codeSize)
  out.u32(shape.functions)
  for (let i = 0; i < shape.functions; i++) out.bytes(oneBody)
  if (gap >= 8) {
    // id, size, name length, "pad": 5 bytes plus the size's LEB128
    const payload = gap - 1 - 1 - 3 - leb(gap).length
    out.byte(0)
    out.u32(1 + 3 + payload)
    out.name('pad')
    out.bytes(new Uint8Array(payload))
  }
  const module = out.result()
  bigModules.set(key, module)
  return module
}

const I32 = 0x7f
const I64 = 0x7e
const F32 = 0x7d
const F64 = 0x7c
const PREAMBLE = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00])

function leb (n: number): number[] {
  const out: number[] = []
  do {
    let b = n & 0x7f
    n = Math.floor(n / 128)
    if (n > 0) b |= 0x80
    out.push(b)
  } while (n > 0)
  return out
}

/** a growable byte buffer, enough to assemble modules by hand */
class Writer {
  buf: Uint8Array
  length = 0

  constructor (capacity: number) {
    this.buf = new Uint8Array(capacity)
  }

  private ensure (n: number): void {
    if (this.length + n <= this.buf.length) return
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n))
    next.set(this.buf.subarray(0, this.length))
    this.buf = next
  }

  byte (b: number): void {
    this.ensure(1)
    this.buf[this.length++] = b
  }

  bytes (bytes: ArrayLike<number>): void {
    this.ensure(bytes.length)
    this.buf.set(bytes, this.length)
    this.length += bytes.length
  }

  u32 (n: number): void {
    this.bytes(leb(n))
  }

  name (s: string): void {
    const encoded = new TextEncoder().encode(s)
    this.u32(encoded.length)
    this.bytes(encoded)
  }

  section (id: number, fill: (w: Writer) => void): void {
    const body = new Writer(256)
    fill(body)
    this.byte(id)
    this.u32(body.length)
    this.bytes(body.result())
  }

  result (): Uint8Array {
    return this.buf.slice(0, this.length)
  }
}

/**
 * src/wasm/component/skills.wit as a nested `package ... { }` block, so a fixture's WIT source
 * can carry the wasmesh:skills interfaces it imports (componentEmbed takes one source text)
 */
async function skillsWitNested (): Promise<string> {
  const wit = await readFile(new URL('../../src/wasm/component/skills.wit', import.meta.url), 'utf8')
  return wit.replace(/^package\s+([^;]+);/m, 'package $1 {') + '\n}\n'
}

/** test/fixtures/component/sensor.wat given the world in sensor.wit (plus wasmesh:skills), made a component */
export async function sensorComponent (): Promise<Uint8Array> {
  return await cached('component:sensor', async () => {
    const core = await parse(await source('component/sensor.wat'))
    const witSource = await source('component/sensor.wit') + '\n' + await skillsWitNested()
    return await componentNew(await componentEmbed({ binary: core, witSource, world: 'sensor' }))
  })
}

/** test/fixtures/component/hello-wasi.wat given the world in hello-wasi.wit, made a component */
export async function helloWasiComponent (): Promise<Uint8Array> {
  return await cached('component:hello-wasi', async () => {
    const core = await parse(await source('component/hello-wasi.wat'))
    const embedded = await componentEmbed({ binary: core, witSource: await source('component/hello-wasi.wit'), world: 'hello' })
    return await componentNew(embedded)
  })
}
