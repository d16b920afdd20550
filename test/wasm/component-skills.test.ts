import { expect } from 'chai'
import { readFile } from 'node:fs/promises'
import { WasmeshError } from '../../src/errors.ts'
import { componentSkill } from '../../src/wasm/component/component-skills.ts'
import type { SkillHostContext } from '../../src/wasm/skills/host/context.ts'

function context (values: { image?: Uint8Array | number, temperature?: number | Uint8Array } = {}): SkillHostContext & { out: string[], slept: number[] } {
  const out: string[] = []
  const slept: number[] = []
  return {
    out,
    slept,
    memory: () => { throw new Error('not used') },
    guestExport: () => undefined,
    read: (skill, quantity) => skill === 'camera' ? values.image ?? new Uint8Array([1, 2, 3]) : quantity === 'temperature' ? values.temperature ?? 21.5 : 40,
    stdout: bytes => { out.push(new TextDecoder().decode(bytes)) },
    sleep: ms => { slept.push(ms) },
    millis: () => 2 ** 32 + 7.9
  }
}

describe('component skills', () => {
  it('offers sys, camera and dht, nothing else', () => {
    const ctx = context()
    expect(Object.keys(componentSkill('sys', ctx)!)).to.have.members(['millis', 'delay', 'print', 'println', 'printInt'])
    expect(Object.keys(componentSkill('camera', ctx)!)).to.deep.equal(['takeImage'])
    expect(Object.keys(componentSkill('dht', ctx)!)).to.have.members(['getTemperature', 'getHumidity'])
    expect(componentSkill('toString', ctx)).to.equal(undefined)
    expect(componentSkill('gps', ctx)).to.equal(undefined)
  })

  it('sys: text to stdout, printInt without newline, millis as u32, delay through sleep', () => {
    const ctx = context()
    const sys = componentSkill('sys', ctx)!
    sys.print('a')
    sys.println('b')
    sys.printInt(-5)
    expect(ctx.out).to.deep.equal(['a', 'b\n', '-5'])
    expect(sys.millis()).to.equal(7)
    sys.delay(-1)
    expect(ctx.slept).to.deep.equal([0xffffffff])
  })

  it('camera and dht read their providers, and say so when a provider gives the wrong kind', () => {
    expect(componentSkill('camera', context())!.takeImage()).to.deep.equal(new Uint8Array([1, 2, 3]))
    expect(componentSkill('dht', context())!.getTemperature()).to.equal(21.5)
    expect(componentSkill('dht', context())!.getHumidity()).to.equal(40)
    expect(() => componentSkill('camera', context({ image: 3 }))!.takeImage()).to.throw(WasmeshError).with.property('code', 'internal')
    expect(() => componentSkill('dht', context({ temperature: new Uint8Array(2) }))!.getTemperature()).to.throw(WasmeshError).with.property('code', 'internal')
  })

  it('implements every function skills.wit declares', async () => {
    const wit = await readFile(new URL('../../src/wasm/component/skills.wit', import.meta.url), 'utf8')
    const ctx = context()
    for (const [, iface, body] of wit.matchAll(/interface ([a-z-]+) \{([^}]*)\}/g)) {
      const declared = [...body.matchAll(/^\s*([a-z][a-z0-9-]*): func/gm)].map(m => m[1].replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()))
      expect(Object.keys(componentSkill(iface, ctx)!)).to.have.members(declared)
    }
  })
})
