import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { onStopSignal } from '../../src/node/cli/start.ts'
import { createLan, destroyLanByPrefix, netnsUnavailableReason } from '../helpers/netns.ts'
import type { Lan } from '../helpers/netns.ts'
import { WASMESH, runWasmesh } from '../helpers/cli.ts'
import type { Run } from '../helpers/cli.ts'


/** Runs the CLI to completion (these all exit before any network is touched). */
async function wasmesh (args: string[], timeoutMs = 10_000): Promise<Run> {
  return await runWasmesh(args, { timeoutMs })
}

function expectUsageError (run: Run, message: RegExp): void {
  expect(run.code, run.stderr).to.equal(2)
  expect(run.stderr).to.match(message)
  expect(run.stderr).to.not.match(/^\s+at /m) // a message, not a stack trace
  expect(run.stdout).to.equal('')
}

describe('wasmesh CLI', () => {
  let dir: string
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'wasmesh-cli-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('--help lists the commands; each command has its own help', async () => {
    const top = await wasmesh(['--help'])
    expect(top.code).to.equal(0)
    expect(top.stdout).to.match(/start \[options\]/).and.match(/peers \[options\]/)
    const start = await wasmesh(['start', '--help'])
    expect(start.code).to.equal(0)
    for (const flag of ['--name', '--data', '--http', '--listen', '--skills', '--mesh-key']) expect(start.stdout).to.contain(flag)
  })

  it('refuses bad flags and bad values with exit code 2 and a clear message', async () => {
    expectUsageError(await wasmesh(['start', '--bogus']), /unknown option '--bogus'/)
    expectUsageError(await wasmesh(['frobnicate']), /unknown command 'frobnicate'/)
    expectUsageError(await wasmesh(['start', '--http', 'nonsense']), /--http: "nonsense" is not HOST:PORT/)
    expectUsageError(await wasmesh(['start', '--http', '127.0.0.1:99999']), /--http/)
    expectUsageError(await wasmesh(['start', '--listen', '/nonsense/1']), /--listen \/nonsense\/1: not a multiaddr/)
    expectUsageError(await wasmesh(['start', '--heartbeat-ms', '-5']), /--heartbeat-ms/)
    expectUsageError(await wasmesh(['start', '--data', join(dir, 'long-name'), '--name', 'x'.repeat(65)]), /name: "x+" must be 1 to 64 characters/)
  })

  it('refuses a bad skills file with exit code 2, naming the problem, before starting anything', async () => {
    const data = join(dir, 'never-created')
    const unknown = join(dir, 'unknown.json')
    await writeFile(unknown, JSON.stringify({ skills: [{ name: 'laser', provider: { type: 'simulated' } }] }))
    expectUsageError(await wasmesh(['start', '--data', data, '--skills', unknown]), /unknown skill "laser"/)
    const provider = join(dir, 'provider.json')
    await writeFile(provider, JSON.stringify({ skills: [{ name: 'camera', provider: { type: 'teleport' } }] }))
    expectUsageError(await wasmesh(['start', '--data', data, '--skills', provider]), /skills\.0\.provider\.type: unknown provider type/)
    const broken = join(dir, 'broken.json')
    await writeFile(broken, '{"skills": [')
    expectUsageError(await wasmesh(['start', '--data', data, '--skills', broken]), /not valid JSON/)
    expectUsageError(await wasmesh(['start', '--data', data, '--skills', join(dir, 'missing.json')]), /ENOENT/)
    const key = join(dir, 'bad.key')
    await writeFile(key, 'not a key')
    expectUsageError(await wasmesh(['start', '--data', data, '--mesh-key', key]), /not a swarm key/)
  })

  it('peers: a node that is not there is a clear error, exit 1', async () => {
    const run = await wasmesh(['peers', '--node', 'http://127.0.0.1:9'])
    expect(run.code).to.equal(1)
    expect(run.stderr).to.match(/cannot reach the node at http:\/\/127\.0\.0\.1:9/)
  })

  it('treats a signal that repeats at once as the same Ctrl-C (terminal + launcher), a later one as "now"', () => {
    expect(onStopSignal(undefined)).to.equal('stop')
    expect(onStopSignal(5)).to.equal('ignore')
    expect(onStopSignal(1_000)).to.equal('exit')
  })

  it('mesh-key writes a key that start accepts, and never overwrites one', async () => {
    const key = join(dir, 'mesh.key')
    expect((await wasmesh(['mesh-key', key])).code).to.equal(0)
    expectUsageError(await wasmesh(['mesh-key', key]), /EEXIST/)
  })
})

describe('wasmesh start (one host, in a network namespace)', function () {
  const PREFIX = 'wmt-cli'
  let lan: Lan | undefined
  let dir: string

  before(async function () {
    const reason = netnsUnavailableReason()
    if (reason !== null) {
      console.log(`      skipped: ${reason}`)
      this.skip()
    }
    lan = await createLan({ prefix: PREFIX, hosts: 1 })
    dir = await mkdtemp(join(tmpdir(), 'wasmesh-start-'))
  })
  after(async () => {
    await lan?.destroy()
    await destroyLanByPrefix(PREFIX)
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  async function startOnce (): Promise<{ peerId: string, stdout: string, stoppedInMs: number, code: number | null, health: any }> {
    const l = lan as Lan
    const child = l.exec(0, [process.execPath, WASMESH, 'start', '--name', 'solo', '--data', join(dir, 'data'), '--http', '127.0.0.1:0'])
    let stdout = ''
    child.stdout?.on('data', (d: Buffer) => { stdout += d.toString() })
    const closed = new Promise<number | null>(resolve => child.on('close', resolve))
    const deadline = Date.now() + 10_000
    while (!/^http {5}(\S+)$/m.test(stdout)) {
      if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`no start banner: ${stdout}`) }
      await new Promise(resolve => setTimeout(resolve, 20))
    }
    const url = (/^http {5}(\S+)$/m.exec(stdout) as RegExpExecArray)[1]
    const health = await l.run(0, [process.execPath, '-e', `fetch('${url}/health', { signal: AbortSignal.timeout(2000) }).then(r => r.text()).then(t => process.stdout.write(t))`], 5_000)
    const t0 = Date.now()
    child.kill('SIGINT')
    const code = await closed
    return { peerId: (/^peer id {2}(\S+)$/m.exec(stdout) ?? [])[1], stdout, stoppedInMs: Date.now() - t0, code, health: JSON.parse(health.stdout) }
  }

  it('prints peer id, addresses and HTTP URL; serves /health; stops on SIGINT within 2 s; keeps its peer id', async () => {
    const first = await startOnce()
    expect(first.peerId).to.match(/^12D3KooW/)
    expect(first.stdout).to.match(/^libp2p {3}\/ip4\/\S+\/tcp\/\d+\/p2p\/12D3KooW/m)
    expect(first.health).to.include({ ok: true, peerId: first.peerId, name: 'solo' })
    expect(first.code).to.equal(0)
    expect(first.stdout).to.match(/stopped\n$/)
    expect(first.stoppedInMs).to.be.below(2_000)
    const second = await startOnce()
    expect(second.peerId).to.equal(first.peerId)
  })
})
