import { expect } from 'chai'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from '@bytecodealliance/jco'
import { WasmRuntime } from '../../src/wasm/runtime/index.ts'
import type { GuestInstance } from '../../src/wasm/runtime/index.ts'
import { testImagePng } from '../../src/wasm/skills/providers/index.ts'
import { helloWasiComponent, sensorComponent, wat } from '../helpers/fixtures.ts'
import { rejection } from '../helpers/rejection.ts'

const LIMIT_MS = 400

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

describe('runtime: guests on worker threads', function () {
  let runtime: WasmRuntime
  const open = async (fixture: string, r = runtime): Promise<GuestInstance> => await r.instantiate(await r.prepare(await wat(fixture)))

  beforeEach(() => {
    runtime = new WasmRuntime({
      limits: { callTimeoutMs: LIMIT_MS, maxMemoryPages: 64 },
      skills: [{ name: 'camera', provider: { type: 'simulated' } }, { name: 'dht', provider: { type: 'simulated', values: { temperature: 19.25 } } }]
    })
  })
  afterEach(() => { runtime.close() })

  it('keeps an instance across calls: a counter answers 1, 2, 3; another instance counts on its own', async () => {
    const a = await open('counter')
    const b = await open('counter')
    const values = []
    for (let i = 0; i < 3; i++) values.push((await a.call('next', [])).value)
    expect(values).to.deep.equal([1, 2, 3])
    expect((await b.call('next', [])).value).to.equal(1)
    expect(runtime.instances).to.equal(2)
  })

  it('serialises concurrent calls into one instance', async () => {
    const counter = await open('counter')
    const results = await Promise.all(Array.from({ length: 200 }, async () => (await counter.call('next', [])).value))
    expect([...results].sort((x, y) => Number(x) - Number(y))).to.deep.equal(Array.from({ length: 200 }, (_, i) => i + 1))
  })

  it('passes i64 as BigInt and floats as numbers, both ways', async () => {
    const g = await open('runaway')
    expect((await g.call('add64', [2n ** 40n, -1n])).value).to.equal(2n ** 40n - 1n)
    expect((await g.call('half', [3])).value).to.equal(1.5)
    expect((await g.call('divide', [-9, 2])).value).to.equal(-4)
  })

  it('stops a call that loops forever at its time limit, and the same instance answers the next call', async () => {
    const g = await open('runaway')
    const other = await open('counter')
    const started = performance.now()
    const spinning = rejection(g.call('spin', []))
    // another instance keeps answering while the first spins
    expect((await other.call('next', [])).value).to.equal(1)
    const err = await spinning
    const elapsed = performance.now() - started
    expect(err.code).to.equal('timeout')
    expect(err.message).to.contain(`${LIMIT_MS} ms`)
    expect(elapsed).to.be.at.least(LIMIT_MS - 5).and.below(LIMIT_MS + 100)
    expect((await g.call('divide', [7, 2])).value).to.equal(3)
    expect((await other.call('next', [])).value).to.equal(2)
  })

  it('cuts a guest sleep (poll_oneoff) short at the time limit', async () => {
    const g = await open('runaway')
    expect((await g.call('sleep', [20])).value).to.equal(0)
    const started = performance.now()
    const err = await rejection(g.call('sleep', [60_000]))
    expect(err.code).to.equal('timeout')
    expect(performance.now() - started).to.be.below(LIMIT_MS + 100)
    expect((await g.call('divide', [8, 2])).value).to.equal(4)
  })

  it('a per-instance time limit overrides the node\'s', async () => {
    const g = await runtime.instantiate(await runtime.prepare(await wat('runaway')), { timeoutMs: 100 })
    const started = performance.now()
    expect((await rejection(g.call('spin', []))).code).to.equal('timeout')
    expect(performance.now() - started).to.be.below(LIMIT_MS)
  })

  it('stops a memory bomb at the memory limit with a trap', async () => {
    const g = await open('runaway')
    const err = await rejection(g.call('bomb', []))
    expect(err.code).to.equal('trap')
    expect(err.message).to.contain('unreachable')
    // growth past the cap (64 pages) fails as the spec allows, within it succeeds
    expect((await g.call('grow', [100])).value).to.equal(-1)
    expect((await g.call('grow', [62])).value).to.equal(1)
    expect((await g.call('pages', [])).value).to.equal(63)
    expect((await g.call('grow', [2])).value).to.equal(-1)
  })

  it('turns a trap into `trap` with the engine\'s message and starts the instance afresh', async () => {
    const g = await open('runaway')
    await g.call('grow', [3])
    expect((await g.call('pages', [])).value).to.equal(4)
    const err = await rejection(g.call('divide', [1, 0]))
    expect(err.code).to.equal('trap')
    expect(err.message).to.equal('divide by zero')
    expect((await g.call('pages', [])).value).to.equal(1)
  })

  it('turns a guest proc_exit(3) into exit code 3; the host lives on and the next call runs', async () => {
    const g = await open('runaway')
    const outcome = await g.call('quit', [3])
    expect(outcome.exitCode).to.equal(3)
    expect(outcome).not.to.have.property('value')
    expect((await g.call('divide', [9, 3])).value).to.equal(3)
  })

  it('captures stdout per call', async () => {
    const g = await open('runaway')
    const first = await g.call('talk', [])
    expect(first.value).to.equal(42)
    expect(text(first.stdout)).to.equal('working\n')
    expect((await g.call('divide', [4, 2])).stdout).to.have.length(0)
  })

  it('cuts captured output at the limit and says so', async () => {
    const small = new WasmRuntime({ limits: { maxOutputBytes: 5 } })
    try {
      const g = await open('runaway', small)
      const outcome = await g.call('talk', [])
      expect(text(outcome.stdout)).to.equal('worki')
      expect(outcome.truncated).to.equal(true)
    } finally {
      small.close()
    }
  })

  it('answers `not-found` for a function the module does not export', async () => {
    const g = await open('counter')
    const err = await rejection(g.call('previous', []))
    expect(err.code).to.equal('not-found')
    expect(err.message).to.contain('previous')
  })

  it('serves host skills to guests on worker threads (simulated camera and dht)', async () => {
    const g = await open('skills-guest')
    expect((await g.call('temperature', [])).value).to.equal(19.25)
    expect((await g.call('humidity', [])).value).to.be.closeTo(40, 1e-5)
    const png = testImagePng()
    expect((await g.call('take_static', [8192, 4, 60_000])).value).to.equal(png.length)
    expect((await g.call('first_image_byte', [])).value).to.equal(png[0])
    const said = await g.call('hello', [])
    expect(text(said.stdout)).to.equal('hello, wasm\n')
  })

  it('fails at link time, naming it, for a skill the node does not offer', async () => {
    const bare = new WasmRuntime()
    try {
      const err = await rejection(bare.prepare(await wat('camera-app')))
      expect(err.code).to.equal('unsatisfiable')
      expect(err.message).to.contain('"camera"')
      expect(err.details?.missing).to.deep.equal(['camera'])
    } finally {
      bare.close()
    }
  })

  it('refuses a module over the size limit and one whose memory minimum is over the limit', async () => {
    const tiny = new WasmRuntime({ limits: { maxModuleBytes: 64 } })
    expect((await rejection(tiny.prepare(await wat('runaway')))).code).to.equal('too-large')
    const capped = new WasmRuntime({ limits: { maxMemoryPages: 1 } })
    const err = await rejection(capped.prepare(await wat('big-memory')))
    expect(err.code).to.equal('invalid-module')
    expect(err.message).to.contain('over the limit of 1 pages')
  })

  it('compiles the same bytes once', async () => {
    const bytes = await wat('counter')
    const [a, b] = await Promise.all([runtime.prepare(bytes), runtime.prepare(bytes.slice())])
    expect(a).to.equal(b)
  })

  it('refuses arguments the export cannot take as bad-request, keeping the instance\'s state', async () => {
    const counter = await open('counter')
    expect((await counter.call('next', [])).value).to.equal(1)
    const err = await rejection(counter.call('next', [5]))
    expect(err.code).to.equal('bad-request')
    expect((await counter.call('next', [])).value).to.equal(2)
    const g = await open('runaway')
    expect((await rejection(g.call('divide', ['7', 'x']))).code).to.equal('bad-request')
    expect((await g.call('divide', ['7', '2'])).value).to.equal(3)
  })

  it('releases the files a guest opened when it is made anew after a trap', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmesh-fds-'))
    try {
      const g = await runtime.instantiate(await runtime.prepare(await wat('file-io')), { preopens: [{ guest: '/data', host: dir }] })
      const openFds = (): number => readdirSync('/proc/self/fd').length
      expect((await rejection(g.call('open_then_trap', [100]))).code).to.equal('trap')
      const after = openFds()
      for (let i = 0; i < 4; i++) expect((await rejection(g.call('open_then_trap', [100]))).code).to.equal('trap')
      await g.call('write_file', [0, 0]) // a call on a fresh instance, after the last trap's
      expect(openFds()).to.be.below(after + 20)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('shares the memory limit among a module\'s memories', async () => {
    const bytes = await parse(`(module
      ${Array.from({ length: 8 }, (_, i) => `(memory $m${i} 1)`).join(' ')}
      (func (export "grow") (param i32) (result i32) (memory.grow $m7 (local.get 0))))`)
    const g = await runtime.instantiate(await runtime.prepare(bytes))
    // 64 pages among 8 memories: 8 each
    expect((await g.call('grow', [8])).value).to.equal(-1)
    expect((await g.call('grow', [7])).value).to.equal(1)
  })

  it('starts no instance once closed', async () => {
    const module = await runtime.prepare(await wat('counter'))
    runtime.close()
    expect((await rejection(runtime.instantiate(module))).code).to.equal('unavailable')
  })

  it('closes instances: calls then answer not-found and the count drops', async () => {
    const g = await open('counter')
    g.close()
    expect(runtime.instances).to.equal(0)
    expect((await rejection(g.call('next', []))).code).to.equal('not-found')
  })

  describe('components', () => {
    it('calls a component\'s exports and host skills (dht, camera) from its worker', async () => {
      const sensor = await runtime.instantiate(await runtime.prepare(await sensorComponent()))
      expect((await sensor.call('add', [2, 40])).value).to.equal(42)
      expect((await sensor.call('temperature-plus', [0.75])).value).to.equal(20)
      expect((await sensor.call('image-size', [])).value).to.equal(testImagePng().length)
      expect((await sensor.call('local:sensor/convert#to-fahrenheit', [100])).value).to.be.closeTo(212, 1e-4)
    })

    it('captures a component\'s WASI stdout and turns wasi:cli/exit into an exit code, the host living on', async () => {
      const hello = await runtime.instantiate(await runtime.prepare(await helloWasiComponent()))
      expect(text((await hello.call('hello', [])).stdout)).to.equal('hello from wasi\n')
      expect((await hello.call('quit', [false])).exitCode).to.equal(1)
      expect(text((await hello.call('hello', [])).stdout)).to.equal('hello from wasi\n')
    })

    it('fails at link time for a component whose skill the node lacks', async () => {
      const bare = new WasmRuntime()
      try {
        const err = await rejection(bare.prepare(await sensorComponent()))
        expect(err.code).to.equal('unsatisfiable')
        expect(err.details?.missing).to.have.members(['camera', 'dht'])
      } finally {
        bare.close()
      }
    })
  })
})
