import { expect } from 'chai'
import { WasmeshError } from '../../src/errors.ts'
import { engine, exportedMemory, type WasmInstance } from '../../src/wasm/engine.ts'
import { SKILL_CATALOG } from '../../src/wasm/skills/catalog.ts'
import { SKILL_HOSTS, skillImports, type SkillHostContext } from '../../src/wasm/skills/host/index.ts'
import { wat } from '../helpers/fixtures.ts'

const IMAGE = Uint8Array.from({ length: 300 }, (_, i) => (i * 7 + 3) & 0xff)

interface Guest {
  instance: WasmInstance
  fn: (name: string) => (...args: number[]) => number
  mem: () => Uint8Array
  u32: (at: number) => number
  stdout: () => string
  sleeps: number[]
  reads: Array<[string, string]>
  clock: { now: number }
}

/** a real instance of `fixture` on this thread, its skills reading fixed data */
async function guest (fixture = 'skills-guest', image: Uint8Array = IMAGE, skills = ['sys', 'camera', 'dht']): Promise<Guest> {
  const module = new engine.Module(await wat(fixture))
  const out: Uint8Array[] = []
  const sleeps: number[] = []
  const reads: Array<[string, string]> = []
  const clock = { now: 0 }
  let instance: WasmInstance | undefined
  const ctx: SkillHostContext = {
    memory: () => exportedMemory(instance as WasmInstance) as NonNullable<ReturnType<typeof exportedMemory>>,
    guestExport: (name) => instance?.exports[name],
    read: (skill, quantity) => {
      reads.push([skill, quantity])
      if (skill === 'camera') return image
      return quantity === 'temperature' ? 21.5 : 40.1
    },
    stdout: (bytes) => { out.push(bytes) },
    sleep: (ms) => { sleeps.push(ms) },
    millis: () => clock.now
  }
  instance = new engine.Instance(module, skillImports(skills, ctx))
  const self = instance
  const mem = (): Uint8Array => new Uint8Array((exportedMemory(self) as NonNullable<ReturnType<typeof exportedMemory>>).buffer)
  return {
    instance,
    fn: (name) => self.exports[name] as (...args: number[]) => number,
    mem,
    u32: (at) => new DataView(mem().buffer).getUint32(at, true),
    stdout: () => Buffer.concat(out).toString('utf8'),
    sleeps,
    reads,
    clock
  }
}

function trap (run: () => unknown, pattern: RegExp): WasmeshError {
  try {
    run()
  } catch (err) {
    expect(err).to.be.instanceOf(WasmeshError)
    expect((err as WasmeshError).code).to.equal('trap')
    expect((err as WasmeshError).message).to.match(pattern)
    return err as WasmeshError
  }
  throw new Error('expected a trap')
}

describe('skill host functions', () => {
  it('offers exactly the catalogue\'s functions for each skill, and only the skills named', () => {
    const ctx = {} as unknown as SkillHostContext
    for (const name of Object.keys(SKILL_CATALOG)) {
      expect(Object.keys(SKILL_HOSTS[name](ctx)).sort(), name).to.deep.equal(Object.keys(SKILL_CATALOG[name].functions).sort())
    }
    expect(Object.keys(skillImports(['sys', 'dht'], ctx))).to.deep.equal(['sys', 'dht'])
    expect(() => skillImports(['laser'], ctx)).to.throw(WasmeshError, /no host functions for skill "laser"/)
  })

  it('links a guest only when it is given every skill it imports', async () => {
    const module = new engine.Module(await wat('skills-guest'))
    const ctx = {} as unknown as SkillHostContext
    expect(() => new engine.Instance(module, skillImports(['sys', 'camera'], ctx))).to.throw(/"dht"/)
  })

  describe('sys', () => {
    it('prints the guest\'s UTF-8 bytes, println with a newline, printInt as a signed decimal without one', async () => {
      const g = await guest()
      const text = Buffer.from('héllo ✓ ')
      g.mem().set(text, 200)
      g.fn('print')(200, text.length)
      g.fn('hello')()
      g.fn('print_int')(-42)
      g.fn('print_int')(2147483647)
      g.fn('println')(200, 0)
      expect(g.stdout()).to.equal('héllo ✓ hello, wasm\n-422147483647\n')
    })

    it('copies what it prints, so later guest writes do not change it', async () => {
      const g = await guest()
      g.mem().set(Buffer.from('abc'), 300)
      g.fn('print')(300, 3)
      g.mem().set(Buffer.from('xyz'), 300)
      expect(g.stdout()).to.equal('abc')
    })

    it('gives the milliseconds since start as a wrapping i32, and sleeps the delay', async () => {
      const g = await guest()
      g.clock.now = 1234.9
      expect(g.fn('millis')()).to.equal(1234)
      g.clock.now = 2 ** 32 + 5
      expect(g.fn('millis')()).to.equal(5)
      g.fn('delay')(250)
      g.fn('delay')(-1)
      expect(g.sleeps).to.deep.equal([250, 2 ** 32 - 1])
    })

    it('traps on text outside memory, printing nothing', async () => {
      const g = await guest()
      trap(() => g.fn('print')(65530, 10), /^sys\.print: the text \(10 bytes at 65530\) is outside the guest's memory of 65536 bytes$/)
      trap(() => g.fn('println')(-1, 1), /^sys\.println: .* at 4294967295\)/)
      expect(g.stdout()).to.equal('')
    })
  })

  describe('camera.takeImageDynamicSize', () => {
    it('puts the image where alloc says and writes its pointer and size as little-endian u32', async () => {
      const g = await guest()
      g.fn('take_dynamic')(100, 104)
      expect(g.u32(100)).to.equal(4096) // the bump allocator's first block
      expect(g.u32(104)).to.equal(IMAGE.length)
      expect(g.mem().slice(4096, 4096 + IMAGE.length)).to.deep.equal(IMAGE)
      expect([...g.mem().slice(100, 104)]).to.deep.equal([0x00, 0x10, 0x00, 0x00])
      expect(g.fn('alloc_calls')()).to.equal(1)
      expect(g.reads).to.deep.equal([['camera', 'image']])
    })

    it('is read by the guest through the pointer it wrote', async () => {
      const g = await guest()
      expect(g.fn('first_image_byte')()).to.equal(IMAGE[0])
    })

    it('writes into memory that alloc grew', async () => {
      const big = Uint8Array.from({ length: 200_000 }, (_, i) => i & 0xff)
      const g = await guest('skills-guest', big)
      g.fn('take_dynamic')(0, 4)
      expect(g.fn('pages')()).to.equal(4)
      expect(g.u32(4)).to.equal(big.length)
      expect(g.mem().slice(g.u32(0), g.u32(0) + big.length)).to.deep.equal(big)
    })

    it('traps on out-of-bounds out-pointers before reading the camera or calling alloc', async () => {
      const g = await guest()
      trap(() => g.fn('take_dynamic')(65533, 0), /^camera\.takeImageDynamicSize: outPtrPtr \(4 bytes at 65533\) is outside/)
      trap(() => g.fn('take_dynamic')(0, -4), /^camera\.takeImageDynamicSize: outSizePtr \(4 bytes at 4294967292\) is outside/)
      expect(g.reads).to.deep.equal([])
      expect(g.fn('alloc_calls')()).to.equal(0)
    })

    it('traps when alloc returns a pointer the image does not fit at, or 0', async () => {
      const g = await guest()
      g.fn('set_alloc_result')(65536 - 10)
      trap(() => g.fn('take_dynamic')(0, 4), /^camera\.takeImageDynamicSize: the image at the pointer alloc\(300\) returned \(300 bytes at 65526\) is outside/)
      g.fn('set_alloc_result')(0)
      trap(() => g.fn('take_dynamic')(0, 4), /alloc\(300\) returned 0/)
      expect(g.u32(0)).to.equal(0)
    })

    it('traps when the guest exports no alloc', async () => {
      const g = await guest('camera-no-alloc', IMAGE, ['camera'])
      trap(() => g.fn('take_dynamic')(0, 4), /^camera\.takeImageDynamicSize: the guest exports no function "alloc/)
    })
  })

  describe('camera.takeImageStaticSize', () => {
    it('writes the whole image when it fits, and its size at sizePtr', async () => {
      const g = await guest()
      expect(g.fn('take_static')(1000, 64, 4096)).to.equal(IMAGE.length)
      expect(g.mem().slice(1000, 1000 + IMAGE.length)).to.deep.equal(IMAGE)
      expect(g.mem()[1000 + IMAGE.length]).to.equal(0)
    })

    it('writes at most *sizePtr bytes', async () => {
      const g = await guest()
      expect(g.fn('take_static')(1000, 64, 10)).to.equal(10)
      expect(g.mem().slice(1000, 1011)).to.deep.equal(Uint8Array.from([...IMAGE.slice(0, 10), 0]))
      expect(g.fn('take_static')(2000, 64, 0)).to.equal(0)
    })

    it('traps on a bad size pointer, or room for more than memory holds at outPtr', async () => {
      const g = await guest()
      trap(() => g.fn('take_static_raw')(0, 65534), /^camera\.takeImageStaticSize: sizePtr \(4 bytes at 65534\) is outside/)
      expect(g.reads).to.deep.equal([])
      trap(() => g.fn('take_static')(65500, 64, 4096), /^camera\.takeImageStaticSize: outPtr \(300 bytes at 65500\) is outside/)
      expect(g.u32(64)).to.equal(4096) // size word untouched on a trap
    })
  })

  describe('dht', () => {
    it('returns the readings as f32', async () => {
      const g = await guest()
      expect(g.fn('temperature')()).to.equal(21.5)
      expect(g.fn('humidity')()).to.equal(Math.fround(40.1))
      expect(g.fn('warmer_than')(20)).to.equal(1)
      expect(g.fn('warmer_than')(22)).to.equal(0)
      expect(g.reads.slice(0, 2)).to.deep.equal([['dht', 'temperature'], ['dht', 'humidity']])
    })
  })
})
