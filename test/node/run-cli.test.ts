import { expect } from 'chai'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TRAP_EXIT_CODE, parseDirFlag, parseEnvFlags } from '../../src/node/cli/run-command.ts'
import { runWasmesh } from '../helpers/cli.ts'
import { assemblyScriptWasi, cProgram, cToolchainMissing, wat } from '../helpers/fixtures.ts'
import { readFileSync, readdirSync } from 'node:fs'

describe('wasmesh run', function () {
  let dir: string
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wasmesh-run-'))
    mkdirSync(join(dir, 'data', 'sub'), { recursive: true })
    writeFileSync(join(dir, 'data', 'one.txt'), 'one')
    writeFileSync(join(dir, 'data', 'two.txt'), 'two')
    writeFileSync(join(dir, 'skills.json'), JSON.stringify({ skills: [
      { name: 'camera', provider: { type: 'simulated' } },
      { name: 'dht', provider: { type: 'command', command: 'if [ "$WASMESH_QUANTITY" = temperature ]; then echo 23.5; else echo 61; fi' } }
    ] }))
    for (const name of ['hello', 'add', 'runaway', 'camera-app', 'skills-guest']) writeFileSync(join(dir, `${name}.wasm`), await wat(name))
    writeFileSync(join(dir, 'cat.wasm'), await assemblyScriptWasi('wasi-cat'))
    writeFileSync(join(dir, 'secret.txt'), 'not for guests')
  })
  after(() => { rmSync(dir, { recursive: true, force: true }) })

  const run = async (args: string[]): ReturnType<typeof runWasmesh> => await runWasmesh(['run', ...args], { cwd: dir, timeoutMs: 20_000 })

  it('runs a command as wasmtime would: args, env, a preopened dir, the guest\'s exit code', async () => {
    const r = await run(['--dir', './data::/data', '--env', 'GREETING=hey there', 'hello.wasm', 'a', 'b'])
    expect(r.stderr).to.equal('')
    const lines = r.stdout.split('\n')
    expect(lines.slice(0, 2)).to.deep.equal(['hello.wasm a b', 'hey there'])
    expect(lines.slice(2).filter(l => l !== '').sort()).to.deep.equal(['one.txt', 'sub', 'two.txt'])
    expect(r.code).to.equal(2)
  })

  it('runs a toolchain-built program (AssemblyScript + wasi-shim) that reads a granted file', async () => {
    const r = await run(['--dir', './data::/data', 'cat.wasm', 'one.txt'])
    expect(r.stdout).to.equal('hello from AssemblyScript\nargs: cat.wasm one.txt\nfile: one')
    expect(r.code).to.equal(0)
  })

  it('denies a guest a file outside its granted dir with ENOTCAPABLE (76)', async () => {
    for (const path of ['../secret.txt', '/secret.txt', 'sub/../../secret.txt']) {
      const r = await run(['--dir', './data::/data', 'cat.wasm', path])
      expect(r.stderr, path).to.equal('cannot open: errno 76\n')
      expect(r.code, path).to.equal(2)
    }
  })

  it('runs a C program built with wasi-libc: listing, stdio, seek, stat, rename, symlinks, escapes denied', async function () {
    const missing = await cToolchainMissing()
    if (missing !== undefined) {
      console.log(`      (skipped: ${missing})`)
      this.skip()
    }
    writeFileSync(join(dir, 'files.wasm'), await cProgram('files'))
    mkdirSync(join(dir, 'cdata', 'sub'), { recursive: true })
    writeFileSync(join(dir, 'cdata', 'one.txt'), 'hello one')
    const r = await run(['--dir', './cdata::/data', '--env', 'GREETING=hi', 'files.wasm', 'x', 'y'])
    expect(r.stdout.split('\n')).to.deep.equal([
      'args: files.wasm x y',
      'env: hi',
      'ls: . .. one.txt sub',
      'read: hello one|3|l',
      'stat: 19 file',
      'link: renamed.txt -> made by C',
      'unlinked: yes',
      'escape ..: Capabilities insufficient',
      'escape /etc: Capabilities insufficient',
      'escape symlink: Capabilities insufficient',
      ''
    ])
    expect(r.stderr).to.equal('done\n')
    expect(r.code).to.equal(2)
    // what it did is on the host, inside the granted dir only
    expect(readdirSync(join(dir, 'cdata', 'out'))).to.deep.equal(['renamed.txt'])
    expect(readFileSync(join(dir, 'cdata', 'out', 'renamed.txt'), 'utf8')).to.equal('made by C\nand more\n')
    expect(readFileSync(join(dir, 'secret.txt'), 'utf8')).to.equal('not for guests')
  })

  it('--dir without ::GUEST gives the guest the dir under the path as given', async () => {
    const r = await run(['--dir', './data', 'hello.wasm'])
    expect(r.stdout.split('\n').slice(1).filter(l => l !== '').sort()).to.deep.equal(['one.txt', 'sub', 'two.txt'])
    expect(r.code).to.equal(0)
  })

  it('passes guest flags through after the module', async () => {
    const r = await run(['hello.wasm', '--dir', '-x'])
    expect(r.stdout.split('\n')[0]).to.equal('hello.wasm --dir -x')
    expect(r.code).to.equal(2)
  })

  it('--invoke calls an export with numbers and prints the result', async () => {
    expect(await run(['--invoke', 'add', 'add.wasm', '2', '40'])).to.include({ code: 0, stdout: '42\n' })
    expect(await run(['--invoke', 'add64', 'runaway.wasm', '9007199254740993', '1'])).to.include({ code: 0, stdout: '9007199254740994\n' })
    expect(await run(['--invoke', 'half', 'runaway.wasm', '5'])).to.include({ code: 0, stdout: '2.5\n' })
  })

  it('exits with the code a guest gives proc_exit', async () => {
    expect((await run(['--invoke', 'quit', 'runaway.wasm', '3'])).code).to.equal(3)
  })

  it('reports a trap on stderr and exits as wasmtime does', async () => {
    const r = await run(['--invoke', 'crash', 'runaway.wasm'])
    expect(r.code).to.equal(TRAP_EXIT_CODE)
    expect(r.stderr).to.contain('trap: unreachable')
  })

  it('stops a runaway guest at --timeout-ms', async () => {
    const r = await run(['--timeout-ms', '300', '--invoke', 'spin', 'runaway.wasm'])
    expect(r.code).to.equal(TRAP_EXIT_CODE)
    expect(r.stderr).to.contain('timeout')
  })

  it('refuses bad input with a one-line message and exit code 2', async () => {
    for (const args of [['--invoke', 'add', 'add.wasm', '2', 'x'], ['--invoke', 'add', 'add.wasm', '2'], ['--dir', './missing', 'hello.wasm'], ['nope.wasm']]) {
      const r = await run(args)
      expect(r.code, args.join(' ')).to.equal(2)
      expect(r.stderr.trim().split('\n'), args.join(' ')).to.have.length(1)
    }
  })

  it('gives a guest the skills of a --skills file, a command provider answering through the worker', async () => {
    expect(await run(['--skills', 'skills.json', '--invoke', 'temperature', 'skills-guest.wasm'])).to.include({ code: 0, stdout: '23.5\n' })
    expect(await run(['--skills', 'skills.json', '--invoke', 'humidity', 'skills-guest.wasm'])).to.include({ code: 0, stdout: '61\n' })
  })

  it('names a skill the module needs and the node lacks', async () => {
    const r = await run(['--invoke', 'take_image', 'camera-app.wasm'])
    expect(r.code).to.equal(1)
    expect(r.stderr).to.contain('"camera"')
  })

  it('reads --dir and --env as wasmtime does', () => {
    expect(parseDirFlag('./data::/data')).to.deep.equal({ host: './data', guest: '/data' })
    expect(parseDirFlag('./data')).to.deep.equal({ host: './data', guest: './data' })
    expect(() => parseDirFlag('::/x')).to.throw('HOST[::GUEST]')
    expect(parseEnvFlags(['A=1', 'B', 'C=x=y', 'MISSING'], { B: 'from host' })).to.deep.equal({ A: '1', B: 'from host', C: 'x=y' })
  })
})
