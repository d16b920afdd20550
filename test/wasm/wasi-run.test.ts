import { expect } from 'chai'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { engine } from '../../src/wasm/engine.ts'
import { Wasi, WasiExit, type WasiOptions } from '../../src/wasm/wasi/index.ts'
import { assemblyScriptWasi, wat } from '../helpers/fixtures.ts'

/** run a command module to its end: exit code and what it printed */
async function run (bytes: Uint8Array, options: WasiOptions): Promise<{ code: number, stdout: string, stderr: string }> {
  const out: Uint8Array[] = []
  const err: Uint8Array[] = []
  const wasi = new Wasi({ ...options, stdout: b => out.push(b.slice()), stderr: b => err.push(b.slice()) })
  try {
    const instance = new engine.Instance(await engine.compile(bytes), wasi.imports)
    const code = wasi.start(instance)
    return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }
  } finally {
    wasi.close()
  }
}

describe('wasi preview 1: guests run end to end', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wasmesh-wasi-run-'))
    writeFileSync(join(dir, 'greeting.txt'), 'hi there\n')
    mkdirSync(join(dir, 'sub'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('a WAT hello prints its args, env and the listing of its preopen', async () => {
    const result = await run(await wat('wasi-hello'), {
      args: ['hello.wasm', 'one', 'two words'],
      env: { GREETING: 'hej', EMPTY: '' },
      preopens: [{ guest: '/', host: dir }]
    })
    expect(result).to.deep.equal({
      code: 0,
      stdout: 'args:\nhello.wasm\none\ntwo words\nenv:\nGREETING=hej\nEMPTY=\nfiles:\n.\n..\ngreeting.txt\nsub\n',
      stderr: ''
    })
  })

  it('proc_exit(3) returns 3 from start and the host carries on', async () => {
    const result = await run(await wat('wasi-exit'), {})
    expect(result).to.deep.equal({ code: 3, stdout: 'exiting\n', stderr: '' })
    // the same module again: nothing of the first run lingers
    expect((await run(await wat('wasi-exit'), {})).code).to.equal(3)
  })

  it('a guest sleeping through poll_oneoff calls options.sleep with the duration', async () => {
    const slept: number[] = []
    const result = await run(await wat('wasi-sleep'), { sleep: ms => slept.push(ms) })
    expect(result.code).to.equal(0)
    expect(slept).to.deep.equal([250])
  })

  it('exceptions other than an exit propagate from start; a reactor is initialized', async () => {
    const wasi = new Wasi()
    const module = await engine.compile(await wat('wasi-exit'))
    const instance = new engine.Instance(module, {
      wasi_snapshot_preview1: { ...wasi.imports.wasi_snapshot_preview1, fd_write: () => { throw new Error('boom') } }
    })
    expect(() => wasi.start(instance)).to.throw('boom')
    expect(() => new Wasi().start({ exports: {} })).to.throw(/_start/)
    const bare = new Wasi()
    expect(bare.start({ exports: { _start: () => bare.imports.wasi_snapshot_preview1.random_get(0, 4) } })).to.equal(0)
    expect(bare.imports.wasi_snapshot_preview1.args_sizes_get(0, 4)).to.equal(21)
    const memory = new engine.Memory({ initial: 1 })
    let initialized = 0
    const reactor = new Wasi()
    reactor.initialize({ exports: { memory, _initialize: () => { initialized++ } } })
    expect(initialized).to.equal(1)
    expect(reactor.imports.wasi_snapshot_preview1.random_get(0, 16)).to.equal(0)
    expect(() => new Wasi().start({ exports: { memory, _start: () => { throw new WasiExit(9) } } })).not.to.throw()
  })

  it('an AssemblyScript program built with @assemblyscript/wasi-shim prints and reads a file', async () => {
    const bytes = await assemblyScriptWasi('wasi-cat')
    const result = await run(bytes, { args: ['cat', 'greeting.txt'], preopens: [{ guest: '/data', host: dir }] })
    expect(result).to.deep.equal({
      code: 0,
      stdout: 'hello from AssemblyScript\nargs: cat greeting.txt\nfile: hi there\n',
      stderr: ''
    })
    const missing = await run(bytes, { args: ['cat', '../etc/passwd'], preopens: [{ guest: '/data', host: dir }] })
    expect(missing).to.deep.equal({ code: 2, stdout: 'hello from AssemblyScript\nargs: cat ../etc/passwd\n', stderr: 'cannot open: errno 76\n' })
  })
})
