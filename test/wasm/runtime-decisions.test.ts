import { expect } from 'chai'
import { parse } from '@bytecodealliance/jco'
import { WasmeshError } from '../../src/errors.ts'
import { engine } from '../../src/wasm/engine.ts'
import { parseModule } from '../../src/wasm/parse/index.ts'
import { capGrowth } from '../../src/wasm/sandbox/cap-limits.ts'
import { coerceArgs } from '../../src/wasm/runtime/coerce-args.ts'
import { linkCheck } from '../../src/wasm/skills/link-check.ts'
import { skillDescriptors } from '../../src/wasm/skills/skills-file.ts'
import { calcComponent, wat } from '../helpers/fixtures.ts'

const CAPS = { maxMemoryPages: 64, maxTableElements: 1000 }

describe('runtime decisions (pure)', () => {
  describe('capGrowth', () => {
    it('gives memories and tables without a maximum the cap, lowers maxima above it, keeps those below', async () => {
      const bytes = await parse(`(module
        (memory (export "m0") 1)
        (memory (export "m1") 2 5000)
        (memory (export "m2") 1 8)
        (memory (export "m3") i64 1)
        (memory (export "m4") 1 4000 shared)
        (table (export "t0") 4 funcref)
        (table (export "t1") 1 5 externref)
        (table (export "t2") i64 2 externref)
        (func (export "f") (result i32) i32.const 7))`)
      const capped = capGrowth(bytes, CAPS)
      expect(engine.validate(capped)).to.equal(true)
      const info = await parseModule(capped)
      expect(info.memories).to.deep.equal([
        { min: 1, max: 64 }, { min: 2, max: 64 }, { min: 1, max: 8 }, { min: 1, max: 64, index64: true }, { min: 1, max: 64, shared: true }
      ])
      expect(info.tables.map(t => t.limits)).to.deep.equal([{ min: 4, max: 1000 }, { min: 1, max: 5 }, { min: 2, max: 1000, index64: true }])
      // everything else unchanged: same exports, same code
      const before = await parseModule(bytes)
      expect(info.exports.map(e => e.name)).to.deep.equal(before.exports.map(e => e.name))
      const instance = new engine.Instance(new engine.Module(capped))
      expect((instance.exports.f as () => number)()).to.equal(7)
    })

    it('returns the very bytes when nothing needs capping (no memory, or maxima within the caps)', async () => {
      for (const name of ['counter', 'add']) {
        const bytes = await wat(name)
        expect(capGrowth(bytes, CAPS)).to.equal(bytes)
      }
    })

    it('keeps a table\'s initialiser expression intact', async () => {
      const bytes = await parse(`(module
        (type $t (func (result i32)))
        (func $seven (type $t) i32.const 7)
        (table $tab 2 funcref (ref.func $seven))
        (elem declare func $seven)
        (func (export "call") (result i32) (call_indirect $tab (type $t) (i32.const 1))))`)
      // the 0x40 0x00 form of a table type, with its expression
      expect([...bytes].some((b, i) => b === 0x40 && bytes[i + 1] === 0x00 && bytes[i + 2] === 0x70)).to.equal(true)
      const capped = capGrowth(bytes, CAPS)
      expect((await parseModule(capped)).tables[0].limits).to.deep.equal({ min: 2, max: 1000 })
      const instance = new engine.Instance(new engine.Module(capped))
      expect((instance.exports.call as () => number)()).to.equal(7)
    })

    it('refuses a minimum over a cap, naming it', async () => {
      const err = (() => { try { capGrowth(new Uint8Array(0), CAPS) } catch (e) { return e } })()
      expect(err).to.be.instanceOf(WasmeshError)
      for (const [text, what] of [['(module (memory 65))', 'memory 0 needs 65 pages'], ['(module (table 1001 funcref))', 'table 0 needs 1001 elements']] as const) {
        const bytes = await parse(text)
        expect(() => capGrowth(bytes, CAPS)).to.throw(WasmeshError, what)
      }
    })

    it('caps the memory the engine then enforces: growth past the cap fails', async () => {
      const capped = capGrowth(await parse('(module (memory (export "m") 1) (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))'), CAPS)
      const grow = new engine.Instance(new engine.Module(capped)).exports.grow as (n: number) => number
      expect(grow(64)).to.equal(-1)
      expect(grow(63)).to.equal(1)
      expect(grow(1)).to.equal(-1)
    })
  })

  describe('linkCheck', () => {
    const offered = skillDescriptors([{ name: 'camera', provider: { type: 'simulated' } }])

    it('links WASI preview 1 and offered skills with matching signatures', async () => {
      expect(linkCheck(await parseModule(await wat('camera-app')), offered).problems).to.deep.equal([])
      expect(linkCheck(await parseModule(await wat('runaway')), []).problems).to.deep.equal([])
    })

    it('names a missing skill once, a missing function, a wrong signature and a non-function import', async () => {
      const info = await parseModule(await parse(`(module
        (import "dht" "getTemperature" (func (result f32)))
        (import "dht" "getHumidity" (func (result f32)))
        (import "camera" "zoom" (func))
        (import "camera" "takeImageStaticSize" (func (param i32)))
        (import "sys" "memory" (memory 1))
        (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i64)))
        (import "wasi_snapshot_preview1" "fork" (func)))`))
      expect(linkCheck(info, offered).problems).to.deep.equal([
        'needs skill "dht", which this node does not offer',
        'import "camera"."zoom": "camera" has no function "zoom"',
        'import "camera"."takeImageStaticSize" has type (i32) -> (), but the node offers (i32, i32) -> ()',
        'import "sys"."memory" is a memory; "sys" offers only functions',
        'import "wasi_snapshot_preview1"."fd_write" has type (i32, i32, i32, i32) -> (i64), but the node offers (i32, i32, i32, i32) -> (i32)',
        'import "wasi_snapshot_preview1"."fork": "wasi_snapshot_preview1" has no function "fork"'
      ])
    })

    it('checks a component\'s skill interfaces by name', async () => {
      const info = await parseModule(await calcComponent())
      expect(linkCheck(info, offered).problems).to.deep.equal(['needs skill "clock", which this node does not offer'])
    })
  })

  describe('coerceArgs', () => {
    it('makes words into the values a signature takes', () => {
      expect(coerceArgs(['i32', 'i64', 'f32', 'f64'], ['-7', '9007199254740993', '1.5', 2], 'f'))
        .to.deep.equal([-7, 9007199254740993n, 1.5, 2])
      expect(coerceArgs(['i32'], ['4294967295'], 'f')).to.deep.equal([-1])
      expect(coerceArgs(['i64'], ['18446744073709551615'], 'f')).to.deep.equal([-1n])
      expect(coerceArgs(['f64'], ['nan'], 'f')[0]).to.be.NaN
    })

    it('refuses what is not a number of the type, naming the argument', () => {
      const cases: Array<[Parameters<typeof coerceArgs>[0], unknown[], string]> = [
        [['i32'], ['1.5'], 'arg0 must be an integer'],
        [['i32'], ['4294967296'], 'arg0 4294967296 does not fit an i32'],
        [['i32', 'i32'], ['1', 'x'], 'arg1 must be an integer'],
        [['i64'], ['18446744073709551616'], 'does not fit an i64'],
        [['f64'], ['abc'], 'arg0 must be a number'],
        [['f64'], [null], 'must be a number, not null'],
        [['i32'], [], 'takes 1 argument (i32), not 0'],
        [['externref'], ['1'], 'cannot be given from outside']
      ]
      for (const [params, args, message] of cases) {
        expect(() => coerceArgs(params, args, 'f'), message).to.throw(WasmeshError, message)
      }
    })
  })
})
