/**
 * Deployments between real `wasmesh start` processes on a namespace LAN (TCP, mDNS, disk):
 * deploy through host 1, call through host 2, the step runs on host 3, the only one with the
 * camera; then a fourth camera host joins, host 3 is killed with SIGKILL, and calls through
 * host 2 succeed again, now run by host 4. Needs root; skipped (with the reason printed)
 * where namespaces cannot be made.
 */
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { wat } from '../helpers/fixtures.ts'
import { createLan, netnsUnavailableReason } from '../helpers/netns.ts'
import { LanNodes, endLanNodes } from '../helpers/lan-nodes.ts'
import type { Lan, RunResult } from '../helpers/netns.ts'

const PREFIX = 'wmt-dep'

interface View { id: string, status: string, steps: Array<{ peers: string[], hosts: Array<{ name: string }> }> }

describe('deploy and call across processes on a netns LAN (TCP, mDNS)', function () {
  this.timeout(90_000)
  let lan: Lan | undefined
  let dir = ''
  let hosts: LanNodes | undefined
  const on = (): LanNodes => { if (hosts === undefined) throw new Error('no LAN'); return hosts }
  const camera = (): string[] => ['--skills', join(dir, 'camera.json')]
  const run = async (i: number, args: string[]): Promise<RunResult> => await on().run(i, args)
  const cli = async (i: number, args: string[]): Promise<string> => await on().cli(i, args)

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
    hosts = new LanNodes(lan, dir, i => `h${i + 1}`)
    await Promise.all([hosts.start(0), hosts.start(1), hosts.start(2, camera())])
    for (const i of [0, 1, 2]) await hosts.waitPeers(i, 2)
  })

  after(async function () {
    this.timeout(15_000)
    await endLanNodes({ hosts, lan, prefix: PREFIX, dir })
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

    await on().start(3, camera())
    for (const i of [0, 1]) await on().waitPeers(i, 3)
    const victim = on().nodes[2]
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
