/**
 * Deployments between real `wasmesh start` processes on a namespace LAN (TCP, mDNS, disk):
 * deploy through host 1, call through host 2, the step runs on host 3, the only one with the
 * camera; then a fourth camera host joins, host 3 is killed with SIGKILL, and calls through
 * host 2 succeed again, now run by host 4. Needs root; skipped (with the reason printed)
 * where namespaces cannot be made.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect } from 'chai'
import { wat } from '../helpers/fixtures.ts'
import { createLan, destroyLanByPrefix, netnsUnavailableReason } from '../helpers/netns.ts'
import { Watched } from '../helpers/peers-poller.ts'
import type { Lan, RunResult } from '../helpers/netns.ts'

const PREFIX = 'wmt-dep'
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const NODE_BIN = join(ROOT, 'node_modules', '.bin', 'node')
const WASMESH = join(ROOT, 'bin', 'wasmesh.js')
const URL_IN_NS = 'http://127.0.0.1:8080'

interface View { id: string, status: string, steps: Array<{ peers: string[], hosts: Array<{ name: string }> }> }

describe('deploy and call across processes on a netns LAN (TCP, mDNS)', function () {
  this.timeout(90_000)
  let lan: Lan | undefined
  let dir = ''
  const nodes: Array<Watched | undefined> = []

  const startNode = async (i: number, skills: boolean): Promise<Watched> => {
    if (lan === undefined) throw new Error('no LAN')
    const args = [NODE_BIN, WASMESH, 'start', '--name', `h${i + 1}`, '--data', join(dir, `data${i}`), '--http', '0.0.0.0:8080']
    if (skills) args.push('--skills', join(dir, 'camera.json'))
    const node = new Watched(lan.exec(i, args, { cwd: ROOT }))
    if (!await node.until(() => /^http\s/m.test(node.stdout), 20_000)) throw new Error(`h${i + 1} did not start: ${node.stdout}\n${node.stderr}`)
    nodes[i] = node
    return node
  }
  const run = async (i: number, args: string[]): Promise<RunResult> => {
    if (lan === undefined) throw new Error('no LAN')
    return await lan.run(i, [NODE_BIN, WASMESH, ...args, '--node', URL_IN_NS], 60_000, { cwd: ROOT })
  }
  const cli = async (i: number, args: string[]): Promise<string> => {
    const res = await run(i, args)
    if (res.code !== 0) throw new Error(`wasmesh ${args.join(' ')} on h${i + 1} exited ${res.code}: ${res.stderr}`)
    return res.stdout
  }
  const waitPeers = async (i: number, n: number): Promise<void> => {
    const deadline = Date.now() + 15_000
    while ((JSON.parse(await cli(i, ['peers', '--json'])) as unknown[]).length !== n) {
      if (Date.now() > deadline) throw new Error(`h${i + 1} never saw ${n} peers`)
      await new Promise(resolve => setTimeout(resolve, 200))
    }
  }

  before(async function () {
    const reason = netnsUnavailableReason()
    if (reason !== null) {
      console.log(`      skipping: ${reason}`)
      this.skip()
    }
    dir = await mkdtemp(join(tmpdir(), 'wmt-dep-'))
    await writeFile(join(dir, 'camera.json'), JSON.stringify({ skills: [{ name: 'camera', provider: { type: 'simulated' } }] }))
    await writeFile(join(dir, 'cam.wasm'), await wat('pipe-camera'))
    await writeFile(join(dir, 'manifest.json'), JSON.stringify({ name: 'snap', steps: [{ module: 'cam', function: 'fahrenheit' }] }))
    lan = await createLan({ prefix: PREFIX, hosts: 4 })
    await Promise.all([startNode(0, false), startNode(1, false), startNode(2, true)])
    for (const i of [0, 1, 2]) await waitPeers(i, 2)
  })

  after(async function () {
    this.timeout(15_000)
    for (const n of nodes) n?.kill('SIGKILL')
    await lan?.destroy()
    await destroyLanByPrefix(PREFIX)
    if (dir !== '') await rm(dir, { recursive: true, force: true })
  })

  it('deploy through h1, call through h2: the step runs on h3, the only camera; after kill -9 of h3 it runs on h4', async () => {
    await cli(0, ['module', 'add', join(dir, 'cam.wasm'), '--name', 'cam'])
    const view = JSON.parse(await cli(0, ['deploy', join(dir, 'manifest.json'), '--json'])) as View
    expect(view.status).to.equal('active')
    expect(view.steps[0].hosts.map(h => h.name)).to.deep.equal(['h3'])
    const deadline = Date.now() + 5_000
    let answer = await run(1, ['call', `${view.id}/cam/fahrenheit`, '100'])
    while (answer.code !== 0 && Date.now() < deadline) answer = await run(1, ['call', `${view.id}/cam/fahrenheit`, '100'])
    expect(answer.stdout.trim(), answer.stderr).to.equal('212')

    await startNode(3, true)
    for (const i of [0, 1]) await waitPeers(i, 3)
    const victim = nodes[2]
    victim?.kill('SIGKILL')
    await victim?.exited
    const killedAt = Date.now()
    let recovered: RunResult | undefined
    while (Date.now() - killedAt < 20_000) {
      const res = await run(1, ['call', `${view.id}/cam/fahrenheit`, '0', '--timeout-ms', '2000'])
      if (res.code === 0) { recovered = res; break }
    }
    console.log(`      kill -9 to the first successful call: ${Date.now() - killedAt} ms`)
    expect(recovered?.stdout.trim(), 'a call after the kill').to.equal('32')
    const healed = JSON.parse(await cli(1, ['deployments', view.id, '--json'])) as View
    expect(healed.steps[0].hosts.map(h => h.name)).to.deep.equal(['h4'])
  })
})
