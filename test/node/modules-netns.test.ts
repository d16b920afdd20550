/**
 * Modules between real `wasmesh start` processes on a 2-host namespace LAN (TCP, mDNS):
 * `wasmesh module add` on one host, `GET /modules/<cid>/wasm` on the other, which never had
 * it; then kill -9 a node that just added and described modules and restart it on the same
 * data dir. Needs root; skipped (with the reason printed) where namespaces cannot be made.
 */
import { createHash } from 'node:crypto'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { bigModule, wat } from '../helpers/fixtures.ts'
import { createLan, netnsUnavailableReason } from '../helpers/netns.ts'
import { LanNodes, endLanNodes, NODE_BIN, ROOT, URL_IN_NS } from '../helpers/lan-nodes.ts'
import type { Lan } from '../helpers/netns.ts'

const PREFIX = 'wmt-mods'

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

/** A one-off script run inside a namespace: GETs a URL and prints the sha-256 and size of the body. */
const DIGEST_SCRIPT = `
const res = await fetch(process.argv.at(-1), { signal: AbortSignal.timeout(30000) })
const body = new Uint8Array(await res.arrayBuffer())
const { createHash } = await import('node:crypto')
console.log(JSON.stringify({ status: res.status, type: res.headers.get('content-type'), size: body.length, sha256: createHash('sha256').update(body).digest('hex') }))
`

describe('modules between processes on a netns LAN (TCP, bitswap, disk)', function () {
  this.timeout(60_000)
  let lan: Lan | undefined
  let dir = ''
  let hosts: LanNodes | undefined
  const on = (): LanNodes => { if (hosts === undefined) throw new Error('no LAN'); return hosts }
  const cli = async (i: number, args: string[]): Promise<string> => await on().cli(i, args)
  const digestOf = async (i: number, path: string): Promise<{ status: number, type: string, size: number, sha256: string }> => {
    if (lan === undefined) throw new Error('no LAN')
    const res = await lan.run(i, [NODE_BIN, '--input-type=module', '-e', DIGEST_SCRIPT, URL_IN_NS + path], 60_000, { cwd: ROOT })
    if (res.code !== 0) throw new Error(`GET ${path} failed: ${res.stderr}`)
    return JSON.parse(res.stdout)
  }

  before(async function () {
    const reason = netnsUnavailableReason()
    if (reason !== null) {
      console.log(`      skipping: ${reason}`)
      this.skip()
    }
    dir = await mkdtemp(join(tmpdir(), 'wmt-mods-'))
    lan = await createLan({ prefix: PREFIX, hosts: 2 })
    hosts = new LanNodes(lan, dir, i => `m${i + 1}`)
    await Promise.all([hosts.start(0), hosts.start(1)])
    // Both must know each other before anything is fetched.
    for (const i of [0, 1]) await hosts.waitPeers(i, 1, 10_000)
  })

  after(async function () {
    this.timeout(15_000)
    await endLanNodes({ hosts, lan, prefix: PREFIX, dir })
  })

  it('module add on one host; GET /modules/<cid>/wasm on the other returns identical bytes fetched from it', async () => {
    const bytes = bigModule(10 * 1024 * 1024)
    await writeFile(join(dir, 'big.wasm'), bytes)
    const cid = (await cli(0, ['module', 'add', join(dir, 'big.wasm'), '--name', 'big'])).trim()
    expect(cid).to.match(/^bafy/)
    const got = await digestOf(1, `/modules/${cid}/wasm`)
    expect(got).to.deep.equal({ status: 200, type: 'application/wasm', size: bytes.byteLength, sha256: sha256(bytes) })
    // Host 2 now holds it too, recorded as fetched, under the name host 1 gave it.
    const listed = JSON.parse(await cli(1, ['module', 'ls', '--json'])) as Array<{ cid: string, name: string, source: string }>
    expect(listed.find(m => m.cid === cid)).to.include({ name: 'big', source: 'fetched' })
  })

  it('after kill -9 right after adding and describing, a restarted node has every module, unchanged', async () => {
    const add = await wat('add')
    const counter = await wat('counter')
    await writeFile(join(dir, 'add.wasm'), add)
    await writeFile(join(dir, 'counter.wasm'), counter)
    await writeFile(join(dir, 'functions.json'), JSON.stringify({ add: { method: 'GET', param0: 'integer', param1: 'integer', mounts: [{ name: 'cfg.json', stage: 'deployment' }] } }))
    await writeFile(join(dir, 'cfg.json'), '{"offset": 3}')
    await cli(0, ['module', 'add', join(dir, 'add.wasm'), '--name', 'add'])
    await cli(0, ['module', 'add', join(dir, 'counter.wasm'), '--name', 'counter'])
    await cli(0, ['module', 'describe', 'add', '--functions', join(dir, 'functions.json'), '--mount', `cfg.json=${join(dir, 'cfg.json')}`])
    const before = JSON.parse(await cli(0, ['module', 'ls', '--json'])) as Array<{ cid: string }>
    expect(before.length).to.be.at.least(3)

    const victim = on().nodes[0]
    victim?.kill('SIGKILL')
    await victim?.exited
    expect(victim?.exit?.signal).to.equal('SIGKILL')
    await on().start(0)

    const after = JSON.parse(await cli(0, ['module', 'ls', '--json'])) as Array<{ cid: string }>
    expect(after).to.deep.equal(before)
    for (const [name, bytes] of [['add', add], ['counter', counter]] as const) {
      expect(await digestOf(0, `/modules/${name}/wasm`)).to.include({ status: 200, size: bytes.byteLength, sha256: sha256(bytes) })
    }
    const shown = JSON.parse(await cli(0, ['module', 'show', 'add', '--json'])) as { description: { functions: { add: { parameters: unknown[], mounts: Array<{ name: string, cid: string }> } } } }
    expect(shown.description.functions.add.parameters).to.have.length(2)
    expect(shown.description.functions.add.mounts[0].name).to.equal('cfg.json')
  })
})
