import { expect } from 'chai'
import { WasmeshError } from '../../src/errors.ts'
import { MANIFEST_LIMITS, parseManifest } from '../../src/node/deployments/manifest.ts'

const CID_V1 = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'
const CID_V0 = 'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG'
const PEER_ID = '12D3KooWGRYZDHBembyGJQqQ6WgLqJWYNjnECWH4a9Kqzr4xsEvB'

/** Our shape with one step; `step` and `top` override or add fields. */
function ours (step: Record<string, unknown> = {}, top: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'thermo', steps: [{ module: 'camera-app', function: 'take_image', ...step }], ...top }
}

function wasmiot (step: Record<string, unknown> = {}, top: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'thermo', sequence: [{ device: null, module: 'camera-app', func: 'take_image', ...step }], ...top }
}

function refusal (input: unknown): WasmeshError {
  try {
    parseManifest(input)
  } catch (err) {
    expect(err).to.be.instanceOf(WasmeshError)
    return err as WasmeshError
  }
  throw new Error(`accepted ${JSON.stringify(input)}`)
}

function expectRefused (input: unknown, field: string, message?: RegExp): void {
  const err = refusal(input)
  const label = `${JSON.stringify(input)?.slice(0, 200)} → ${err.message}`
  expect(err.code, label).to.equal('bad-request')
  expect(err.details, label).to.deep.equal({ field })
  if (field !== 'manifest') expect(err.message.startsWith(`manifest: ${field}: `), label).to.equal(true)
  if (message !== undefined) expect(err.message, label).to.match(message)
}

describe('deployment manifest', () => {
  it('reads our shape into the canonical manifest, defaults filled in', () => {
    const input = {
      name: 'thermo',
      steps: [
        { module: 'camera-app', function: 'take_image', replicas: 2 },
        { module: CID_V1, function: 'convert2Grayscale', peer: PEER_ID }
      ],
      config: { KEY: 'VALUE' }
    }
    const before = structuredClone(input)
    expect(parseManifest(input)).to.deep.equal({
      name: 'thermo',
      steps: [
        { module: 'camera-app', function: 'take_image', replicas: 2 },
        { module: CID_V1, function: 'convert2Grayscale', replicas: 1, peer: PEER_ID }
      ],
      config: { KEY: 'VALUE' }
    })
    expect(input, 'the input is left as it was').to.deep.equal(before)
    // replicas 1, no peer, no config
    expect(parseManifest(ours())).to.deep.equal({ name: 'thermo', steps: [{ module: 'camera-app', function: 'take_image', replicas: 1 }], config: {} })
    // a null peer is an absent one; the canonical step has no `peer` key at all
    const step = parseManifest(ours({ peer: null })).steps[0]
    expect(Object.hasOwn(step, 'peer')).to.equal(false)
  })

  it('reads wasmiot\'s shape into the same manifest, its extra fields ignored', () => {
    const fromOurs = parseManifest({
      name: 'thermo',
      steps: [
        { module: 'camera-app', function: 'take_image' },
        { module: CID_V1, function: 'convert2Grayscale', peer: 'kitchen pi' },
        { module: CID_V0, function: 'store', replicas: 1 }
      ],
      config: { MODE: 'fast' }
    })
    const fromWasmiot = parseManifest({
      name: 'thermo',
      proc: 'ignored',
      sequence: [
        { device: null, module: 'camera-app', func: 'take_image', extra: { anything: true } },
        { device: 'kitchen pi', module: CID_V1, func: 'convert2Grayscale' },
        { module: CID_V0, func: 'store' }
      ],
      config: { MODE: 'fast' }
    })
    expect(fromWasmiot).to.deep.equal(fromOurs)
    expect(fromOurs.steps[1].peer).to.equal('kitchen pi')
    // "" is any device too (wasmiot tests the device for falsiness)
    expect(parseManifest(wasmiot({ device: '' })).steps[0]).to.deep.equal({ module: 'camera-app', function: 'take_image', replicas: 1 })
    expect(parseManifest(wasmiot({ replicas: 3 })).steps[0].replicas, 'not a wasmiot field: ignored').to.equal(1)
  })

  it('refuses input that is not an object, naming the field "manifest"', () => {
    for (const bad of [null, undefined, 'thermo', 42, true, [], [ours()]]) expectRefused(bad, 'manifest', /expected an object/)
  })

  it('refuses a manifest without steps, and one with both steps and sequence', () => {
    expectRefused({ name: 'thermo' }, 'steps', /missing/)
    expectRefused({ name: 'thermo', config: {} }, 'steps', /missing/)
    expectRefused({ ...ours(), sequence: wasmiot().sequence }, 'sequence', /not both/)
  })

  it('refuses unknown fields in our shape, naming them', () => {
    expectRefused(ours({}, { extra: 1 }), 'extra', /unknown field/)
    expectRefused(ours({}, { Config: {} }), 'Config', /unknown field/)
    expectRefused(ours({ replica: 2 }), 'steps.0.replica', /unknown field/)
    // the typo, not the field it leaves missing
    expectRefused(ours({ function: undefined, funtion: 'take_image' }), 'steps.0.funtion', /unknown field/)
    expectRefused(ours({ func: 'take_image' }), 'steps.0.func', /unknown field/)
    expectRefused({ name: 'thermo', steps: [{ module: 'a', function: 'f' }, { module: 'a', function: 'f', device: 'x' }] }, 'steps.1.device', /unknown field/)
  })

  it('takes names that are URL-safe, up to 64 characters', () => {
    for (const name of ['thermo', 'T', '0day', 'a.b_c-d', 'x'.repeat(64), 'v1.2.3']) {
      expect(parseManifest(ours({}, { name })).name).to.equal(name)
      expect(parseManifest(wasmiot({}, { name })).name).to.equal(name)
    }
    for (const name of ['', '.', '..', '.hidden', '-x', '_x', 'a b', 'a/b', 'a%20', 'thé', 'x'.repeat(65), 'a\n']) {
      expectRefused(ours({}, { name }), 'name')
      expectRefused(wasmiot({}, { name }), 'name')
    }
    expectRefused(ours({}, { name: 42 }), 'name', /expected a string/)
    expectRefused({ steps: ours().steps }, 'name', /missing/)
  })

  it('takes 1 to 32 steps', () => {
    const step = { module: 'm', function: 'f' }
    expect(parseManifest({ name: 'n', steps: Array(MANIFEST_LIMITS.steps).fill(step) }).steps).to.have.length(32)
    expect(parseManifest({ name: 'n', sequence: Array(32).fill({ module: 'm', func: 'f' }) }).steps).to.have.length(32)
    expectRefused({ name: 'n', steps: Array(33).fill(step) }, 'steps', /at most 32/)
    expectRefused({ name: 'n', sequence: Array(33).fill({ module: 'm', func: 'f' }) }, 'sequence', /at most 32/)
    expectRefused({ name: 'n', steps: [] }, 'steps', /at least one/)
    expectRefused({ name: 'n', sequence: [] }, 'sequence', /at least one/)
    for (const bad of [null, {}, 'step', 1]) {
      expectRefused({ name: 'n', steps: bad }, 'steps')
      expectRefused({ name: 'n', sequence: bad }, 'sequence')
    }
    expectRefused({ name: 'n', steps: [step, 'f'] }, 'steps.1', /expected a step/)
    expectRefused({ name: 'n', sequence: [null] }, 'sequence.0', /expected a step/)
  })

  it('takes a module CID or a module name', () => {
    for (const module of [CID_V1, CID_V0, 'camera-app', '_private', 'a', 'img.v2', 'x'.repeat(64)]) {
      expect(parseManifest(ours({ module })).steps[0].module).to.equal(module)
      expect(parseManifest(wasmiot({ module })).steps[0].module).to.equal(module)
    }
    for (const module of ['', '1abc', '-x', 'a/b', 'a b', 'x'.repeat(65), '9lives', 'ñame', 7, null]) {
      expectRefused(ours({ module }), 'steps.0.module')
      expectRefused(wasmiot({ module }), 'sequence.0.module')
    }
    expectRefused({ name: 'n', steps: [{ function: 'f' }] }, 'steps.0.module', /missing/)
    expectRefused({ name: 'n', sequence: [{ module: 'm', func: 'f' }, { func: 'f' }] }, 'sequence.1.module', /missing/)
  })

  it('takes function names of 1 to 128 characters without controls or "/"', () => {
    for (const fn of ['take_image', 'convert2Grayscale', 'a', 'f'.repeat(128), 'a.b', 'ünïcode', 'has space', '$main']) {
      expect(parseManifest(ours({ function: fn })).steps[0].function).to.equal(fn)
      expect(parseManifest(wasmiot({ func: fn })).steps[0].function).to.equal(fn)
    }
    for (const fn of ['', 'f'.repeat(129), 'a\nb', 'a\u0000', 'a\u007f', 'a\u0085b', 'a/b', '/', 1, null, ['f']]) {
      expectRefused(ours({ function: fn }), 'steps.0.function')
      expectRefused(wasmiot({ func: fn }), 'sequence.0.func')
    }
    expectRefused({ name: 'n', steps: [{ module: 'm', function: 'f' }, { module: 'm', function: 'a/b' }] }, 'steps.1.function', /"\/"/)
    expectRefused(wasmiot({ func: undefined }), 'sequence.0.func', /missing/)
  })

  it('takes 1 to 8 replicas, a whole number', () => {
    for (const replicas of [1, 2, 8]) expect(parseManifest(ours({ replicas })).steps[0].replicas).to.equal(replicas)
    const two = { name: 'n', steps: [{ module: 'm', function: 'f' }, { module: 'm', function: 'f', replicas: 0 }] }
    expectRefused(two, 'steps.1.replicas', /whole number from 1 to 8/)
    for (const replicas of [0, -1, 9, 1.5, '2', null, true, Number.NaN, Infinity, 2 ** 60]) {
      expectRefused(ours({ replicas }), 'steps.0.replicas', /whole number from 1 to 8/)
    }
  })

  it('takes a peer id or node name to pin a step to', () => {
    for (const peer of [PEER_ID, 'kitchen pi', 'ñode 🌡', 'p'.repeat(64)]) {
      expect(parseManifest(ours({ peer })).steps[0].peer).to.equal(peer)
      expect(parseManifest(wasmiot({ device: peer })).steps[0].peer).to.equal(peer)
    }
    for (const peer of ['', 'p'.repeat(65), 'a\u001b[31m', 'a\tb', 'a\u009bb', 5, {}]) {
      expectRefused(ours({ peer }), 'steps.0.peer', /peer id or node name/)
    }
    for (const device of ['p'.repeat(65), 'a\u0007', 5, false, {}]) {
      expectRefused(wasmiot({ device }), 'sequence.0.device', /device name/)
    }
  })

  it('takes config keys that are variable names, values as strings', () => {
    const config = { KEY: 'VALUE', _under: '', lower1: 'x', PORT: 8080, RATIO: 0.5, ON: true, OFF: false }
    const want = { KEY: 'VALUE', _under: '', lower1: 'x', PORT: '8080', RATIO: '0.5', ON: 'true', OFF: 'false' }
    expect(parseManifest(ours({}, { config })).config).to.deep.equal(want)
    expect(parseManifest(wasmiot({}, { config })).config).to.deep.equal(want)
    expect(parseManifest(ours({}, { config: {} })).config).to.deep.equal({})

    for (const key of ['1A', 'A-B', 'A B', 'A.B', '', 'É']) {
      expectRefused(ours({}, { config: { OK: 'v', [key]: 'v' } }), `config.${key}`, /environment variable/)
    }
    for (const value of [null, {}, [], ['a']]) {
      expectRefused(ours({}, { config: { KEY: value } }), 'config.KEY', /expected a string/)
      expectRefused(wasmiot({}, { config: { KEY: value } }), 'config.KEY', /expected a string/)
    }
    for (const config of [null, [], 'KEY=VALUE', 1]) {
      expectRefused(ours({}, { config }), 'config', /expected an object/)
    }
  })

  it('bounds config values at 4096 bytes and config at 64 entries', () => {
    // counted in UTF-8 bytes: é is two
    expect(parseManifest(ours({}, { config: { K: 'é'.repeat(2048) } })).config.K).to.have.length(2048)
    expect(parseManifest(ours({}, { config: { K: 'a'.repeat(MANIFEST_LIMITS.configValueBytes) } })).config.K).to.have.length(4096)
    expectRefused(ours({}, { config: { K: 'é'.repeat(2049) } }), 'config.K', /at most 4096 bytes \(got 4098\)/)
    expectRefused(ours({}, { config: { K: 'a'.repeat(4097) } }), 'config.K', /at most 4096 bytes/)

    const entries = (n: number): Record<string, string> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`K${i}`, 'v']))
    expect(Object.keys(parseManifest(ours({}, { config: entries(MANIFEST_LIMITS.configEntries) })).config)).to.have.length(64)
    expectRefused(ours({}, { config: entries(65) }), 'config', /at most 64 entries/)
  })

  it('keeps a config key "__proto__" as a key, not a prototype', () => {
    const input = JSON.parse('{"name": "n", "steps": [{"module": "m", "function": "f"}], "config": {"__proto__": "v"}}')
    const { config } = parseManifest(input)
    expect(Object.hasOwn(config, '__proto__')).to.equal(true)
    expect(Object.getPrototypeOf(config)).to.equal(Object.prototype)
    expect(Object.entries(config)).to.deep.equal([['__proto__', 'v']])
  })

  it('names the field in the message and in details, as JSON errors carry it', () => {
    const err = refusal({ name: 'thermo', steps: [{ module: 'm', function: 'f' }, { module: 'm', function: 'f', replicas: 9 }] })
    expect(err.message).to.equal('manifest: steps.1.replicas: expected a whole number from 1 to 8')
    expect(err.toJSON()).to.deep.equal({ error: { code: 'bad-request', message: err.message, field: 'steps.1.replicas' } })
    expect(refusal(wasmiot({ func: 3 })).message).to.equal('manifest: sequence.0.func: expected a string')
  })
})
