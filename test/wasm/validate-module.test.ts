import { expect } from 'chai'
import { parse } from '@bytecodealliance/jco'
import { WasmeshError } from '../../src/errors.ts'
import { parseModule } from '../../src/wasm/parse/index.ts'
import { validateModule } from '../../src/wasm/validate-module.ts'
import { calcComponent, wat } from '../helpers/fixtures.ts'
import type { ModuleInfo } from '../../src/wasm/module-info.ts'

const LIMITS = { maxModuleBytes: 50 * 1024 * 1024, maxMemoryPages: 16384 }

/** what validateModule did: the info, or the WasmeshError (any other throw fails the test) */
async function outcome (bytes: Uint8Array, limits = LIMITS): Promise<ModuleInfo | WasmeshError> {
  try {
    return await validateModule(bytes, limits)
  } catch (err) {
    if (!(err instanceof WasmeshError)) throw new Error(`not a WasmeshError: ${String(err)}`, { cause: err })
    return err
  }
}

async function rejection (bytes: Uint8Array, limits = LIMITS): Promise<WasmeshError> {
  const result = await outcome(bytes, limits)
  if (!(result instanceof WasmeshError)) throw new Error('expected validateModule to reject')
  return result
}

/** offsets where a (core or component) binary's top-level sections end: cut there, it may stay valid */
function sectionBoundaries (bytes: Uint8Array): Set<number> {
  const ends = new Set([8])
  let pos = 8
  while (pos < bytes.length) {
    pos++ // id
    let size = 0
    let shift = 0
    let b: number
    do {
      b = bytes[pos++]
      size += (b & 0x7f) * 2 ** shift
      shift += 7
    } while (b >= 0x80)
    pos += size
    ends.add(pos)
  }
  return ends
}

/** a seeded PRNG (mulberry32), so a failure replays */
function random (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('validateModule', function () {
  it('accepts a valid module and returns what the parser reads', async () => {
    const bytes = await wat('camera-app')
    expect(await validateModule(bytes, LIMITS)).to.deep.equal(await parseModule(bytes))
  })

  it('accepts a valid component', async () => {
    const info = await validateModule(await calcComponent(), LIMITS)
    expect(info.kind).to.equal('component')
    expect(info.requires).to.deep.equal(['camera', 'clock'])
  })

  it('refuses a component whose core code is invalid, which jco alone would let through', async () => {
    const bytes = await calcComponent()
    // `local.get 0  local.get 1  i32.add` in `add` becomes `... i64.add`: a type error
    const at = bytes.findIndex((b, i) => b === 0x20 && bytes[i + 1] === 0 && bytes[i + 2] === 0x20 && bytes[i + 3] === 1 && bytes[i + 4] === 0x6a)
    expect(at).to.be.greaterThan(0)
    bytes[at + 4] = 0x7c
    expect((await parseModule(bytes)).kind).to.equal('component')
    const err = await rejection(bytes)
    expect(err.code).to.equal('invalid-module')
    expect(err.message).to.match(/^invalid core module 0 in the component: Compiling function #\d+ failed: i64\.add\[0\] expected type i64/)
  })

  it('refuses 0 bytes as empty', async () => {
    const err = await rejection(new Uint8Array(0))
    expect(err.code).to.equal('invalid-module')
    expect(err.message).to.match(/empty/)
  })

  it('refuses a module over the size limit as too-large, before looking inside', async () => {
    const bytes = await wat('add')
    const err = await rejection(bytes, { ...LIMITS, maxModuleBytes: bytes.length - 1 })
    expect(err.code).to.equal('too-large')
    expect(err.message).to.include(String(bytes.length - 1))
    expect(err.details).to.deep.equal({ size: bytes.length, limit: bytes.length - 1 })
    // garbage too: the size is checked first
    expect((await rejection(new Uint8Array(100), { ...LIMITS, maxModuleBytes: 99 })).code).to.equal('too-large')
    // at the limit exactly it passes
    expect((await validateModule(bytes, { ...LIMITS, maxModuleBytes: bytes.length })).kind).to.equal('core')
  })

  it('refuses an invalid core module with the engine\'s reason', async () => {
    const bytes = await parse('(module (func (export "f") (result i32) i64.const 0))')
    const err = await rejection(bytes)
    expect(err.code).to.equal('invalid-module')
    expect(err.message).to.match(/^invalid module: Compiling function #0 failed: type error .*expected i32, got i64/)
  })

  it('refuses a memory that starts over the page limit, naming it and the limit', async () => {
    const err = await rejection(await wat('big-memory'))
    expect(err.code).to.equal('invalid-module')
    expect(err.message).to.equal('memory 0 needs 20000 pages at start, over the limit of 16384 pages')
    expect(err.details).to.deep.equal({ memory: 0, min: 20000, limit: 16384 })
    expect((await validateModule(await wat('big-memory'), { ...LIMITS, maxMemoryPages: 20000 })).memories).to.deep.equal([{ min: 20000 }])
  })

  it('applies the page limit to imported memories and to components', async () => {
    const sink = await wat('kitchen-sink')
    // memory 0 is the imported shared one (1 page), memory 1 the defined one (2 pages)
    expect((await rejection(sink, { ...LIMITS, maxMemoryPages: 1 })).message).to.match(/^memory 1 needs 2 pages .* limit of 1 pages/)
    expect((await rejection(sink, { ...LIMITS, maxMemoryPages: 0 })).message).to.match(/^memory 0 \(imported as "env"."shared"\) needs 1 pages/)
    expect((await rejection(await calcComponent(), { ...LIMITS, maxMemoryPages: 0 })).message).to.match(/^memory 0 needs 1 pages/)
  })

  for (const name of ['add', 'camera-app', 'kitchen-sink']) {
    it(`refuses ${name} cut short at any offset, unless cut between sections`, async () => {
      const bytes = await wat(name)
      const boundaries = sectionBoundaries(bytes)
      for (let cut = 1; cut < bytes.length; cut++) {
        const result = await outcome(bytes.subarray(0, cut))
        if (result instanceof WasmeshError) expect(result.code, `cut at ${cut}`).to.equal('invalid-module')
        else expect(boundaries.has(cut), `cut at ${cut} accepted`).to.equal(true)
        // the parser alone, without the engine's validation in front, holds too
        const parsed = await parseModule(bytes.subarray(0, cut)).then(() => null, (e: unknown) => e)
        if (parsed !== null) {
          expect(parsed, `parse cut at ${cut}`).to.be.instanceOf(WasmeshError)
          expect((parsed as WasmeshError).code).to.equal('invalid-module')
        } else {
          expect(boundaries.has(cut), `parse cut at ${cut} accepted`).to.equal(true)
        }
      }
    })
  }

  it('refuses the component cut short at any offset, unless cut between sections', async () => {
    const bytes = await calcComponent()
    const boundaries = sectionBoundaries(bytes)
    let refused = 0
    for (let cut = 1; cut < bytes.length; cut++) {
      const result = await outcome(bytes.subarray(0, cut))
      if (result instanceof WasmeshError) {
        expect(result.code, `cut at ${cut}`).to.equal('invalid-module')
        refused++
      } else {
        expect(boundaries.has(cut), `cut at ${cut} accepted`).to.equal(true)
      }
    }
    expect(refused).to.be.greaterThan(bytes.length - boundaries.size - 1)
  })

  it('refuses random bytes with invalid-module and nothing else', async function () {
    this.timeout(60_000)
    const next = random(0x5eed)
    const preambles = [[], [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00]]
    for (let i = 0; i < 3000; i++) {
      const preamble = preambles[i % preambles.length]
      const bytes = new Uint8Array(preamble.length + Math.floor(next() * 300))
      bytes.set(preamble)
      for (let j = preamble.length; j < bytes.length; j++) bytes[j] = Math.floor(next() * 256)
      const result = await outcome(bytes)
      if (result instanceof WasmeshError) expect(result.code, `iteration ${i}`).to.equal('invalid-module')
    }
  })

  it('parses mutated fixtures to an answer or invalid-module, never another error', async function () {
    this.timeout(60_000)
    const next = random(42)
    const fixtures = [await wat('kitchen-sink'), await wat('camera-app'), await calcComponent()]
    let refused = 0
    for (let i = 0; i < 3000; i++) {
      const bytes = fixtures[i % fixtures.length].slice()
      // a few random bytes changed, past the preamble so the kind survives
      for (let k = 1 + Math.floor(next() * 3); k > 0; k--) bytes[8 + Math.floor(next() * (bytes.length - 8))] = Math.floor(next() * 256)
      for (const run of [async () => await parseModule(bytes), async () => await validateModule(bytes, LIMITS)]) {
        try {
          await run()
        } catch (err) {
          if (!(err instanceof WasmeshError)) throw new Error(`iteration ${i}: not a WasmeshError: ${String(err)}`, { cause: err })
          expect(err.code).to.equal('invalid-module')
          refused++
        }
      }
    }
    // mutations must have been caught often, or this test tests nothing
    expect(refused).to.be.greaterThan(1000)
  })
})
