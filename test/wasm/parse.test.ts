import { expect } from 'chai'
import { WasmeshError } from '../../src/errors.ts'
import { binaryKind, componentRequires, parseCoreModule, parseModule, worldFromWit } from '../../src/wasm/parse/index.ts'
import {
  BIG_MODULE_IMPORTS, WAT_FIXTURES, assemblyScript, bigModule, bigModuleShape, calcComponent, engineInterface,
  wat, withCustomSection
} from '../helpers/fixtures.ts'
import type { ExportEntry, ImportEntry, ModuleInfo } from '../../src/wasm/module-info.ts'

const fn = (params: string[], results: string[]): { kind: 'function', signature: { params: any[], results: any[] } } =>
  ({ kind: 'function', signature: { params, results } })

/** the parse error of `bytes`, which must be an invalid-module WasmeshError */
function parseError (bytes: Uint8Array | number[]): WasmeshError {
  try {
    parseCoreModule(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes))
  } catch (err) {
    expect(err).to.be.instanceOf(WasmeshError)
    expect((err as WasmeshError).code).to.equal('invalid-module')
    return err as WasmeshError
  }
  throw new Error('expected the parse to fail')
}

const PREAMBLE = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]

describe('wasm parser', function () {
  describe('core modules', () => {
    it('reads add: one function, a bounded memory', async () => {
      const info = await parseModule(await wat('add'))
      expect(info.kind).to.equal('core')
      expect(info.size).to.equal((await wat('add')).length)
      expect(info.imports).to.deep.equal([])
      expect(info.exports).to.deep.equal([
        { name: 'memory', kind: 'memory', limits: { min: 1, max: 2 } },
        { name: 'add', ...fn(['i32', 'i32'], ['i32']) }
      ])
      expect(info.memories).to.deep.equal([{ min: 1, max: 2 }])
      expect(info.tables).to.deep.equal([])
      expect(info.requires).to.deep.equal([])
      expect(info.component).to.equal(undefined)
    })

    it('reads camera-app: skills it needs, WASI excluded, and its custom section', async () => {
      const info = await parseModule(await wat('camera-app'))
      expect(info.imports).to.deep.equal([
        { module: 'camera', name: 'takeImageDynamicSize', ...fn(['i32', 'i32'], []) },
        { module: 'sys', name: 'println', ...fn(['i32', 'i32'], []) },
        { module: 'wasi_snapshot_preview1', name: 'fd_write', ...fn(['i32', 'i32', 'i32', 'i32'], ['i32']) }
      ])
      expect(info.exports).to.deep.equal([
        { name: 'memory', kind: 'memory', limits: { min: 1 } },
        { name: 'alloc', ...fn(['i32'], ['i32']) },
        { name: 'take_image', ...fn([], ['i32']) }
      ])
      expect(info.requires).to.deep.equal(['camera', 'sys'])
      expect(info.customSections[0]).to.deep.equal({ name: 'wasmesh', size: 'camera-app 1.0'.length })
    })

    it('reads counter and big-memory', async () => {
      const counter = await parseModule(await wat('counter'))
      expect(counter.exports).to.deep.equal([{ name: 'next', ...fn([], ['i32']) }])
      expect(counter.memories).to.deep.equal([])
      const big = await parseModule(await wat('big-memory'))
      expect(big.memories).to.deep.equal([{ min: 20000 }])
      expect(big.exports).to.deep.equal([
        { name: 'memory', kind: 'memory', limits: { min: 20000 } },
        { name: 'size', ...fn([], ['i32']) }
      ])
    })

    it('reads every kind of import and export in kitchen-sink', async () => {
      const info = await parseModule(await wat('kitchen-sink'))
      const imports: ImportEntry[] = [
        { module: 'math', name: 'mul', ...fn(['i32', 'i32'], ['i32']) },
        { module: 'host', name: 'log', ...fn(['i64', 'f32', 'f64'], []) },
        { module: 'env', name: 'table', kind: 'table', element: 'funcref', limits: { min: 2, max: 10 } },
        { module: 'env', name: 'shared', kind: 'memory', limits: { min: 1, max: 4, shared: true } },
        { module: 'env', name: 'base', kind: 'global', type: 'i32', mutable: false },
        { module: 'env', name: 'ticks', kind: 'global', type: 'i64', mutable: true },
        { module: 'env', name: 'oops', kind: 'tag', signature: { params: ['i32'], results: [] } }
      ]
      const exports: ExportEntry[] = [
        { name: 'divmod', ...fn(['i32', 'i32'], ['i32', 'i32']) },
        { name: 'mix', ...fn(['i64', 'f32', 'f64'], ['f64']) },
        { name: 'init', ...fn([], []) },
        { name: 'lanes', ...fn(['v128'], ['v128']) },
        { name: 'pick', ...fn(['funcref', 'externref'], ['externref']) },
        // an imported function re-exported: index 0 of the function index space
        { name: 'mul', ...fn(['i32', 'i32'], ['i32']) },
        { name: 'memory', kind: 'memory', limits: { min: 2 } },
        { name: 'memory64', kind: 'memory', limits: { min: 1, max: 3, index64: true } },
        { name: 'shared', kind: 'memory', limits: { min: 1, max: 4, shared: true } },
        { name: 'table', kind: 'table', element: 'funcref', limits: { min: 4 } },
        { name: 'imported_table', kind: 'table', element: 'funcref', limits: { min: 2, max: 10 } },
        { name: 'refs', kind: 'table', element: 'externref', limits: { min: 1, max: 5, index64: true } },
        { name: 'pi', kind: 'global', type: 'f64', mutable: false },
        { name: 'scale', kind: 'global', type: 'f32', mutable: true },
        { name: 'ticks', kind: 'global', type: 'i64', mutable: true },
        { name: 'bad', kind: 'tag', signature: { params: ['i64', 'f64'], results: [] } },
        { name: 'oops', kind: 'tag', signature: { params: ['i32'], results: [] } }
      ]
      expect(info.imports).to.deep.equal(imports)
      expect(info.exports).to.deep.equal(exports)
      expect(info.memories).to.deep.equal([{ min: 1, max: 4, shared: true }, { min: 2 }, { min: 1, max: 3, index64: true }])
      expect(info.tables).to.deep.equal([
        { element: 'funcref', limits: { min: 2, max: 10 } },
        { element: 'funcref', limits: { min: 4 } },
        { element: 'externref', limits: { min: 1, max: 5, index64: true } }
      ])
      expect(info.requires).to.deep.equal(['host', 'math'])
      expect(info.customSections.map(s => s.name)).to.deep.equal(['wasmesh', 'name'])
      expect(info.customSections[0].size).to.equal('kitchen sink'.length)
    })

    it('reads an AssemblyScript build', async () => {
      const bytes = await assemblyScript('fibo')
      const info = await parseModule(bytes)
      expect(info.imports).to.deep.equal([])
      expect(info.exports).to.deep.equal([
        { name: 'fibo', ...fn(['i64'], ['i64']) },
        { name: 'memory', kind: 'memory', limits: { min: 0 } }
      ])
      // and it is a real build: it computes
      const api = (globalThis as any).WebAssembly
      const instance = new api.Instance(new api.Module(bytes), {})
      expect(instance.exports.fibo(10n)).to.equal(55n)
    })

    it('lists appended custom sections with their payload sizes', async () => {
      let bytes = withCustomSection(await wat('add'), 'wasmesh.meta', 1000)
      bytes = withCustomSection(bytes, 'düsseldorf', new Uint8Array([1, 2, 3]))
      bytes = withCustomSection(bytes, '', 0)
      const info = parseCoreModule(bytes)
      expect(info.customSections.slice(-3)).to.deep.equal([
        { name: 'wasmesh.meta', size: 1000 },
        { name: 'düsseldorf', size: 3 },
        { name: '', size: 0 }
      ])
      expect(info.size).to.equal(bytes.length)
    })

    it('agrees with the engine on names, kinds and order of imports and exports', async () => {
      const binaries: Array<[string, Uint8Array]> = []
      for (const name of WAT_FIXTURES) binaries.push([name, await wat(name)])
      binaries.push(['fibo', await assemblyScript('fibo')], ['big', bigModule(200_000)])
      for (const [label, bytes] of binaries) {
        const info = parseCoreModule(bytes)
        const engine = engineInterface(bytes)
        expect(info.imports.map(i => ({ module: i.module, name: i.name, kind: i.kind })), label).to.deep.equal(engine.imports)
        expect(info.exports.map(e => ({ name: e.name, kind: e.kind })), label).to.deep.equal(engine.exports)
      }
    })

    it('reads a large synthetic module, stepping over its code', () => {
      const size = 2_000_000
      const bytes = bigModule(size)
      expect(bytes.length).to.equal(size)
      const shape = bigModuleShape(size)
      const info = parseCoreModule(bytes)
      expect(info.imports).to.have.length(shape.imports)
      expect(info.exports).to.have.length(shape.exports + 1)
      expect(info.imports[1]).to.deep.equal({ module: BIG_MODULE_IMPORTS[1], name: 'fn_1', ...fn(['i32', 'i32'], ['i32']) })
      expect(info.exports.slice(0, 3)).to.deep.equal([
        { name: 'memory', kind: 'memory', limits: { min: 1, max: 16 } },
        { name: 'f0', ...fn([], ['i32']) },
        { name: 'f1', ...fn([], ['i32']) } // every 10th function: even, so ()->i32
      ])
      expect(info.requires).to.deep.equal(['camera', 'sensor', 'sys'])
      expect(info.customSections.map(s => s.name)).to.deep.equal(['pad'])
    })

    it('hands out entries that do not alias each other', async () => {
      const info = parseCoreModule(await wat('kitchen-sink'))
      const mul = info.exports.find(e => e.name === 'mul') as Extract<ExportEntry, { kind: 'function' }>
      mul.signature.params.push('f32')
      expect((info.imports[0] as Extract<ImportEntry, { kind: 'function' }>).signature.params).to.deep.equal(['i32', 'i32'])
    })
  })

  describe('malformed core modules', () => {
    const section = (id: number, body: number[]): number[] => [id, body.length, ...body]

    it('refuses a missing or foreign preamble', () => {
      expect(parseError([]).message).to.match(/too short for a WebAssembly preamble at offset 0/)
      expect(parseError([0x7f, 0x45, 0x4c, 0x46, 1, 0, 0, 0]).message).to.match(/magic/)
      expect(parseError([0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00]).message).to.match(/unsupported version .* at offset 4/)
      expect(parseError([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00]).message).to.match(/a component, not a core module/)
    })

    it('refuses a section that runs past the end, or an unknown one', () => {
      expect(parseError([...PREAMBLE, 1, 10, 0]).message).to.match(/runs past the end .* at offset 9/)
      expect(parseError([...PREAMBLE, 14, 0]).message).to.match(/unknown section id 14 at offset 8/)
    })

    it('refuses duplicated and out-of-order sections', () => {
      expect(parseError([...PREAMBLE, ...section(1, [0]), ...section(1, [0])]).message).to.match(/section 1 is duplicated or out of order/)
      expect(parseError([...PREAMBLE, ...section(3, [0]), ...section(1, [0])]).message).to.match(/out of order/)
    })

    it('refuses counts larger than the bytes left, before looping over them', () => {
      // 0xffffffff types announced in a 6-byte section
      const err = parseError([...PREAMBLE, ...section(1, [0xff, 0xff, 0xff, 0xff, 0x0f, 0x60])])
      expect(err.message).to.match(/count 4294967295 exceeds the 1 bytes left at offset 10/)
    })

    it('refuses overlong or out-of-range LEB128', () => {
      expect(parseError([...PREAMBLE, 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]).message).to.match(/LEB128 too long/)
      expect(parseError([...PREAMBLE, 1, 0x80, 0x80, 0x80, 0x80, 0x10]).message).to.match(/out of range/)
    })

    it('refuses names that are not UTF-8', () => {
      const body = [1, 2, 0xc3, 0x28, 1, 0x61, 0x00, 0x00] // import "\xc3(" "a" func 0
      const err = parseError([...PREAMBLE, ...section(1, [1, 0x60, 0, 0]), ...section(2, body)])
      expect(err.message).to.match(/not valid UTF-8 at offset 17/)
    })

    it('refuses GC type definitions with a clear message', () => {
      const err = parseError([...PREAMBLE, ...section(1, [1, 0x5f, 1, 0x7f, 0])]) // struct { i32 }
      expect(err.message).to.match(/GC type definitions .* not supported at offset 11/)
    })

    it('refuses unknown limits flags, value types and kinds', () => {
      expect(parseError([...PREAMBLE, ...section(5, [1, 0x08, 1, 1])]).message).to.match(/memory limits flags 0x08/)
      expect(parseError([...PREAMBLE, ...section(1, [1, 0x60, 1, 0x40, 0])]).message).to.match(/unsupported value type 0x40/)
      expect(parseError([...PREAMBLE, ...section(2, [1, 1, 0x61, 1, 0x61, 0x07])]).message).to.match(/unknown import kind 0x07/)
    })

    it('refuses exports pointing outside an index space', () => {
      const err = parseError([...PREAMBLE, ...section(7, [1, 1, 0x66, 0x00, 5])])
      expect(err.message).to.match(/export "f" refers to function 5, out of range \(0\)/)
    })

    it('refuses constant expressions with non-constant operators or no end', () => {
      // global i32 (i32.const 1) (local.get 0)
      expect(parseError([...PREAMBLE, ...section(6, [1, 0x7f, 0, 0x41, 1, 0x20, 0, 0x0b])]).message).to.match(/opcode 0x20 is not allowed/)
      expect(parseError([...PREAMBLE, ...section(6, [1, 0x7f, 0, 0x41, 1])]).message).to.match(/unexpected end/)
    })

    it('refuses a section with bytes left over', () => {
      expect(parseError([...PREAMBLE, ...section(1, [0, 0x60])]).message).to.match(/section 1 has 1 bytes left over/)
    })

    it('tells core modules from components', async () => {
      expect(binaryKind(await wat('add'))).to.equal('core')
      expect(binaryKind(await calcComponent())).to.equal('component')
    })
  })

  describe('components', () => {
    it('reads the world of the calc component through jco', async () => {
      const bytes = await calcComponent()
      const info: ModuleInfo = await parseModule(bytes)
      expect(info.kind).to.equal('component')
      expect(info.size).to.equal(bytes.length)
      expect(info.component?.imports).to.deep.equal(['wasi:random/insecure@0.2.0', 'camera', 'local:calc/clock'])
      expect(info.component?.exports).to.deep.equal(['add', 'local:calc/ops'])
      expect(info.component?.wit).to.match(/export add: func\(a: u32, b: u32\) -> u32;/)
      expect(info.requires).to.deep.equal(['camera', 'clock'])
      expect(info.imports).to.deep.equal([])
      expect(info.exports).to.deep.equal([])
      // the memory of the core module inside
      expect(info.memories).to.deep.equal([{ min: 1 }])
    })

    it('lists a component\'s own custom sections', async () => {
      const bytes = withCustomSection(await calcComponent(), 'wasmesh', 42)
      const info = await parseModule(bytes)
      expect(info.customSections.at(-1)).to.deep.equal({ name: 'wasmesh', size: 42 })
    })

    it('turns jco\'s refusal into invalid-module', async () => {
      // a component whose only section is an empty core-type section with a bogus count
      const bytes = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, 3, 1, 5])
      const err = await parseModule(bytes).then(() => null, (e: unknown) => e)
      expect(err).to.be.instanceOf(WasmeshError)
      expect((err as WasmeshError).code).to.equal('invalid-module')
    })
  })

  describe('WIT worlds', () => {
    it('reads imports and exports at the world level only', () => {
      const wit = `package root:component;

/// docs { with braces; }
world root {
  use wasi:io/streams@0.2.0.{output-stream};
  type pair = tuple<u32, u32>;
  @since(version = 0.2.0)
  import wasi:cli/stdout@0.2.0;
  import camera: interface {
    record pic { w: u32, h: u32 }
    snap: func() -> pic;
  }
  import %list: func(a: list<u8>) -> result<u32, string>;
  /* export hidden: func(); */
  export local:calc/ops@1.0.0;
  export add: func(a: u32, b: u32) -> u32;
}

package local:calc@1.0.0 {
  interface ops { mul: func(a: u32, b: u32) -> u32; }
  world other { import nope: func(); }
}
`
      const world = worldFromWit(wit)
      expect(world.imports).to.deep.equal(['wasi:cli/stdout@0.2.0', 'camera', 'list'])
      expect(world.exports).to.deep.equal(['local:calc/ops@1.0.0', 'add'])
      expect(world.wit).to.equal(wit)
    })

    it('finds no imports or exports in an empty world or no world', () => {
      expect(worldFromWit('package root:component;\n\nworld root {\n}\n')).to.deep.include({ imports: [], exports: [] })
      expect(worldFromWit('package a:b;\ninterface x { f: func(); }\n')).to.deep.include({ imports: [], exports: [] })
    })

    it('maps imports to skills: plain names as is, interfaces by their name, WASI never', () => {
      expect(componentRequires([
        'wasi:cli/stdout@0.2.0', 'camera', 'local:devices/camera@1.0.0', 'acme:sensors/thermo', 'sys', 'wasi:io/streams'
      ])).to.deep.equal(['camera', 'sys', 'thermo'])
      expect(componentRequires([])).to.deep.equal([])
    })
  })
})
