import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { expect } from 'chai'
import { MemoryLan, memoryParts } from '../../sim/memory-lan.ts'
import { WasmeshNode } from '../../src/node/node.ts'
import { diskStores } from '../../src/node/stores.ts'
import { buildHttpApp } from '../../src/node/http/server.ts'
import { wat } from '../helpers/fixtures.ts'
import { joinMemoryMesh, startMemoryMesh, stopAll } from '../helpers/memory-mesh.ts'
import { multipartBody } from '../helpers/multipart.ts'
import { rejection } from '../helpers/rejection.ts'
import { waitFor } from '../helpers/wait.ts'
import type { DeployOptions } from '../../src/node/deployments/options.ts'
import type { DeploymentRecord } from '../../src/protocols/deploy/index.ts'
import type { ConfiguredSkill } from '../../src/wasm/skills/skills-file.ts'

const camera: ConfiguredSkill = { name: 'camera', provider: { type: 'simulated' } }
const dht: ConfiguredSkill = { name: 'dht', provider: { type: 'simulated' } }
/** n0 has the camera, n1 the sensor, n2..n4 nothing but sys */
const SKILLS = (i: number): ConfiguredSkill[] => i === 0 ? [camera] : i === 1 ? [dht] : []

function hostsOf (record: DeploymentRecord, nodes: WasmeshNode[], step: number): string[] {
  return record.steps[step].peers.map(p => nodes.find(n => n.peerId === p)?.name ?? p)
}

async function call (node: WasmeshNode, record: DeploymentRecord, step: number, args: Array<number | string> = []): Promise<unknown> {
  const s = record.steps[step]
  const answer = await node.deployments.call({ deployment: record.id, module: s.module, function: s.function, args, files: [], timeoutMs: 10_000 })
  return answer.kind === 'value' ? answer.value : answer.kind
}

/** How many records the node gossips from now on. */
function countPublishes (node: WasmeshNode): () => number {
  const deploy = node.libp2p.services.deploy
  const publish = deploy.publish.bind(deploy)
  let published = 0
  deploy.publish = async (r) => { published++; await publish(r) }
  return () => published
}

describe('deployments and calls through any node (in-process mesh)', function () {
  this.timeout(60_000)
  let nodes: WasmeshNode[] = []
  afterEach(async () => { await stopAll(nodes) })

  async function mesh (n = 5, deploy?: (i: number) => Partial<DeployOptions>): Promise<WasmeshNode[]> {
    ({ nodes } = await startMemoryMesh(n, { heartbeatMs: 500, skills: SKILLS, deploy }))
    await waitFor(() => nodes.every(x => x.peers.size === n - 1 && x.peers.list().every(p => p.source === 'gossip')), 10_000, 'a full mesh')
    return nodes
  }

  it('places a 3-step pipeline by skills and answers a call entering at a node that hosts nothing', async () => {
    await mesh()
    const coord = nodes[2]
    await coord.modules.add(await wat('pipe-sensor'), { name: 'sensor' })
    await coord.modules.add(await wat('pipe-camera'), { name: 'cam' })
    await coord.modules.add(await wat('pipe-double'), { name: 'double' })
    const record = await coord.deployments.deploy({
      name: 'thermo',
      steps: [{ module: 'sensor', function: 'temp' }, { module: 'cam', function: 'fahrenheit' }, { module: 'double', function: 'double' }]
    })
    expect(record.status).to.equal('active')
    expect(hostsOf(record, nodes, 0)).to.deep.equal(['n1'])
    expect(hostsOf(record, nodes, 1)).to.deep.equal(['n0'])
    // No skill needed: next to a neighbouring step (n0 or n1), which saves a hop per call.
    expect(hostsOf(record, nodes, 2)[0]).to.be.oneOf(['n0', 'n1'])
    // Every node learns the record and can route for it.
    await waitFor(() => nodes.every(n => n.deployments.list().some(r => r.id === record.id)), 5_000, 'the record everywhere')
    const idle = nodes.find(n => !record.steps.some(s => s.peers.includes(n.peerId))) as WasmeshNode
    expect(await call(idle, record, 0)).to.be.closeTo((21.5 * 1.8 + 32) * 2, 1e-9)
    // Entering at a later step runs from there on.
    expect(await call(idle, record, 1, [100])).to.be.closeTo((100 * 1.8 + 32) * 2, 1e-9)
  })

  it('keeps a stateful module\'s state across calls entering through different nodes', async () => {
    await mesh()
    await nodes[3].modules.add(await wat('counter'), { name: 'counter' })
    const record = await nodes[3].deployments.deploy({ name: 'count', steps: [{ module: 'counter', function: 'next' }] })
    await waitFor(() => nodes.every(n => n.deployments.list().length === 1), 5_000, 'the record everywhere')
    const seen: unknown[] = []
    for (const n of nodes) seen.push(await call(n, record, 0))
    expect(seen).to.deep.equal([1, 2, 3, 4, 5])
  })

  it('re-places a step whose host was killed, and calls succeed again', async () => {
    await mesh()
    // on two nodes: if the one host (maybe the coordinator itself) dies, the module lives on
    await nodes[4].modules.add(await wat('pipe-double'), { name: 'double' })
    await nodes[3].modules.add(await wat('pipe-double'), { name: 'double' })
    const record = await nodes[4].deployments.deploy({ name: 'dbl', steps: [{ module: 'double', function: 'double' }] })
    const host = nodes.find(n => n.peerId === record.steps[0].peers[0]) as WasmeshNode
    const entry = nodes.find(n => n !== host) as WasmeshNode
    await waitFor(() => entry.deployments.list().length === 1, 5_000, 'the record at the entry node')
    expect(await call(entry, record, 0, [4])).to.equal(8)
    await host.libp2p.stop() // as if unplugged: no goodbye
    const took = await waitFor(async () => await call(entry, record, 0, [5]).then(v => v === 10, () => false), 10_000, 'a call to succeed again')
    const healed = entry.deployments.get(record.id)
    expect(healed.version).to.be.greaterThan(record.version)
    expect(healed.steps[0].peers).to.not.include(host.peerId)
    expect(healed.status).to.equal('active')
    expect(took).to.be.below(10_000)
  })

  it('a participant takes over when the coordinator is killed, and heals what it hosted', async () => {
    await mesh()
    const coord = nodes[0] // has the camera: it hosts the camera step
    await coord.modules.add(await wat('pipe-camera'), { name: 'cam' })
    await coord.modules.add(await wat('pipe-double'), { name: 'double' })
    await coord.setSkills([camera])
    await nodes[2].setSkills([camera])
    await waitFor(() => nodes.every(n => n === nodes[2] || n.peers.get(nodes[2].peerId)?.skills.some(s => s.name === 'camera') === true), 5_000, 'n2\'s camera known')
    const record = await coord.deployments.deploy({ name: 'snap', steps: [{ module: 'cam', function: 'fahrenheit', peer: 'n0' }, { module: 'double', function: 'double', replicas: 2 }] })
    expect(record.coordinator).to.equal(coord.peerId)
    await waitFor(() => nodes.every(n => n.deployments.list().length === 1), 5_000, 'the record everywhere')
    await coord.libp2p.stop()
    const rest = nodes.filter(n => n !== coord)
    await waitFor(() => rest.every(n => {
      const r = n.deployments.list()[0]
      return r !== undefined && r.coordinator !== coord.peerId && !r.steps.some(s => s.peers.includes(coord.peerId))
    }), 15_000, 'a new coordinator everywhere, and the killed node\'s steps re-placed')
    const after = rest[0].deployments.list()[0]
    expect(rest.map(n => n.peerId)).to.include(after.coordinator)
    // The pinned step had only n0: it cannot move, so the deployment is degraded, not gone.
    expect(after.status).to.equal('degraded')
    expect(after.steps[0].peers).to.deep.equal([])
    expect(after.steps[1].peers).to.have.length(2)
  })

  it('takes over when the coordinator dies together with its would-be successor, without waiting for the tables to drop that one', async () => {
    // Heartbeats of 4 s: a peer whose connection dropped leaves the tables after 6 s (1.5 heartbeats).
    ({ nodes } = await startMemoryMesh(5, { heartbeatMs: 4_000 }))
    await waitFor(() => nodes.every(x => x.peers.size === 4), 15_000, 'a full mesh')
    const coord = nodes[4]
    // on every node: whoever takes over resolves the module at home
    for (const n of nodes) await n.modules.add(await wat('counter'), { name: 'counter' })
    // the coordinator is the only participant: everyone else takes part in nothing
    const record = await coord.deployments.deploy({ name: 'solo', steps: [{ module: 'counter', function: 'next', peer: 'n4' }] })
    await waitFor(() => nodes.every(n => n.deployments.list().length === 1), 5_000, 'the record everywhere')
    // the successor by rule: the lowest peer id of the rest; it dies too, and it hosts nothing
    const [next, ...rest] = nodes.filter(n => n !== coord).sort((a, b) => a.peerId < b.peerId ? -1 : 1)
    await Promise.all([coord.libp2p.stop(), next.libp2p.stop()])
    await waitFor(() => rest.every(n => rest.some(r => r.peerId === n.deployments.get(record.id).coordinator)), 15_000, 'a live coordinator everywhere')
    // the dead successor is still in the tables: the takeover came from finding it gone, not from it expiring
    for (const n of rest) expect(n.peers.get(next.peerId), n.name).to.not.equal(undefined)
    expect(rest[0].deployments.get(record.id).status).to.equal('degraded')
  })

  it('a degraded deployment recovers by itself when a qualifying peer appears', async () => {
    await mesh()
    // n3 deploys (and keeps the module); n0, the only camera, hosts
    await nodes[3].modules.add(await wat('pipe-camera'), { name: 'cam' })
    const record = await nodes[3].deployments.deploy({ name: 'cam', steps: [{ module: 'cam', function: 'fahrenheit' }] })
    expect(hostsOf(record, nodes, 0)).to.deep.equal(['n0'])
    await nodes[0].libp2p.stop()
    const rest = nodes.slice(1)
    await waitFor(() => rest.some(n => n.deployments.list()[0]?.status === 'degraded'), 15_000, 'the deployment degraded')
    await nodes[4].setSkills([camera])
    await waitFor(() => rest.every(n => n.deployments.list()[0]?.status === 'active'), 15_000, 'the deployment active again')
    expect(await call(nodes[2], rest[0].deployments.list()[0], 0, [0])).to.equal(32)
  })

  it('answers 409 unsatisfiable naming the missing skill, 400 for bad manifests, 404 for unknown modules, over HTTP', async () => {
    await mesh(3)
    const app = buildHttpApp(nodes[1])
    await nodes[1].modules.add(await wat('skills-guest'), { name: 'all-skills' })
    const unsat = await app.inject({ method: 'POST', url: '/deployments', payload: { name: 'x', steps: [{ module: 'all-skills', function: 'temperature' }] } })
    // n0 has camera, n1 dht: nobody has both
    expect(unsat.statusCode, unsat.body).to.equal(409)
    expect(unsat.json().error.code).to.equal('unsatisfiable')
    const bad = await app.inject({ method: 'POST', url: '/deployments', payload: { name: 'x', steps: [{ module: 'all-skills', function: 'f', replica: 2 }] } })
    expect(bad.statusCode).to.equal(400)
    expect(bad.json().error.message).to.include('steps.0.replica')
    const missing = await app.inject({ method: 'POST', url: '/deployments', payload: { name: 'x', steps: [{ module: 'nothing-here', function: 'f' }] } })
    expect(missing.statusCode).to.equal(404)
    const nofn = await app.inject({ method: 'POST', url: '/deployments', payload: { name: 'x', steps: [{ module: 'all-skills', function: 'nope' }] } })
    expect(nofn.statusCode).to.equal(404)
    expect(nodes.every(n => n.deployments.list().length === 0)).to.equal(true)
    await app.close()
  })

  it('deploys, calls, lists and removes over HTTP, with the OpenAPI of the deployment', async () => {
    await mesh(3)
    const apps = nodes.map(n => buildHttpApp(n))
    await nodes[0].modules.add(await wat('pipe-double'), { name: 'double' })
    const created = await apps[0].inject({ method: 'POST', url: '/deployments', payload: { name: 'dbl', steps: [{ module: 'double', function: 'double' }] } })
    expect(created.statusCode, created.body).to.equal(201)
    const view = created.json()
    expect(view.steps[0].peers).to.have.length(1)
    await waitFor(() => nodes.every(n => n.deployments.list().length === 1), 5_000, 'the record everywhere')
    const viaQuery = await apps[2].inject({ method: 'GET', url: `/${view.id}/modules/double/double?arg0=21` })
    expect(viaQuery.json()).to.deep.equal({ result: 42 })
    const viaBody = await apps[1].inject({ method: 'POST', url: `/${view.id}/modules/double/double`, payload: { args: [1.25] } })
    expect(viaBody.json()).to.deep.equal({ result: 2.5 })
    const badArg = await apps[1].inject({ method: 'POST', url: `/${view.id}/modules/double/double`, payload: { args: ['x'] } })
    expect(badArg.statusCode).to.equal(400)
    const noStep = await apps[1].inject({ method: 'GET', url: `/${view.id}/modules/double/triple` })
    expect(noStep.statusCode).to.equal(404)
    const openapi = await apps[2].inject({ method: 'GET', url: `/deployments/${view.id}/openapi` })
    expect(Object.keys(openapi.json().paths)).to.deep.equal([`/${view.id}/modules/double/double`])
    const list = await apps[1].inject({ method: 'GET', url: '/deployments' })
    expect(list.json().map((d: { id: string }) => d.id)).to.deep.equal([view.id])
    const removed = await apps[2].inject({ method: 'DELETE', url: `/deployments/${view.id}` })
    expect(removed.json().status).to.equal('removed')
    await waitFor(() => nodes.every(n => n.deployments.list().length === 0 && n.deployments.steps.size === 0), 5_000, 'the deployment gone everywhere')
    const gone = await apps[1].inject({ method: 'GET', url: `/${view.id}/modules/double/double?arg0=1` })
    expect(gone.statusCode).to.equal(404)
    await Promise.all(apps.map(async a => { await a.close() }))
  })

  it('carries a 12 MB execution file through a 2-step chain on two peers and the output file back, over HTTP through a third', async () => {
    await mesh(3)
    const apps = nodes.map(n => buildHttpApp(n))
    try {
      await nodes[0].modules.add(await wat('flip'), { name: 'flip' })
      await nodes[0].modules.describe('flip', {
        functions: { flip: { method: 'post', mounts: [{ name: 'input', stage: 'execution', mediaType: 'application/octet-stream' }, { name: 'output', stage: 'output', mediaType: 'application/octet-stream' }], output: 'application/octet-stream' } },
        files: []
      })
      const record = await nodes[0].deployments.deploy({ name: 'flips', steps: [{ module: 'flip', function: 'flip', peer: 'n1' }, { module: 'flip', function: 'flip', peer: 'n2' }] })
      const one = await nodes[0].deployments.deploy({ name: 'flip1', steps: [{ module: 'flip', function: 'flip', peer: 'n2' }] })
      await waitFor(() => nodes[0].deployments.list().length === 2, 5_000, 'both records at n0')
      const input = randomBytes(12 * 1024 * 1024)
      const twice = await apps[0].inject({ method: 'POST', url: `/${record.id}/modules/flip/flip`, ...await multipartBody({ input: { bytes: input, type: 'application/octet-stream', filename: 'in.bin' } }) })
      expect(twice.statusCode, twice.body.slice(0, 200)).to.equal(200)
      expect(twice.headers['content-type']).to.equal('application/octet-stream')
      expect(Buffer.compare(twice.rawPayload, input)).to.equal(0)
      const once = await apps[0].inject({ method: 'POST', url: `/${one.id}/modules/flip/flip`, ...await multipartBody({ input: { bytes: input.subarray(0, 1000), type: 'application/octet-stream', filename: 'in.bin' } }) })
      expect([...once.rawPayload.subarray(0, 4)]).to.deep.equal([...input.subarray(0, 4)].map(b => b ^ 1))
      const missing = await apps[0].inject({ method: 'POST', url: `/${one.id}/modules/flip/flip`, payload: { args: [] } })
      expect(missing.statusCode).to.equal(400)
      expect(missing.json().error.message).to.include('input')
    } finally {
      await Promise.all(apps.map(async a => { await a.close() }))
    }
  })

  it('a host refuses an output file over its maxCallFileBytes with too-large, and serves the next call', async () => {
    await mesh(2, i => i === 1 ? { maxCallFileBytes: 1000 } : {})
    await nodes[0].modules.add(await wat('step'), { name: 'step' })
    await nodes[0].modules.describe('step', {
      functions: { env_to_output: { method: 'get', mounts: [{ name: 'output', stage: 'output', mediaType: 'text/plain' }], output: 'text/plain' } },
      files: []
    })
    const deploy = async (name: string, bytes: number): Promise<DeploymentRecord> =>
      await nodes[0].deployments.deploy({ name, steps: [{ module: 'step', function: 'env_to_output', peer: 'n1' }], config: { X: 'x'.repeat(bytes) } })
    const big = await deploy('big-env', 2000)
    const small = await deploy('small-env', 100)
    const err = await rejection(nodes[0].deployments.call({ deployment: big.id, module: 'step', function: 'env_to_output', args: [], files: [], timeoutMs: 10_000 }))
    expect(err.code).to.equal('too-large')
    const answer = await nodes[0].deployments.call({ deployment: small.id, module: 'step', function: 'env_to_output', args: [], files: [], timeoutMs: 10_000 })
    expect(answer.kind).to.equal('file')
  })

  it('keeps one coordinator and one version while everyone is alive (the lease renews)', async () => {
    await mesh(4)
    await nodes[2].modules.add(await wat('counter'), { name: 'counter' })
    const record = await nodes[2].deployments.deploy({ name: 'steady', steps: [{ module: 'counter', function: 'next', replicas: 2 }] })
    await waitFor(() => nodes.every(n => n.deployments.list().length === 1), 5_000, 'the record everywhere')
    const gossiped = countPublishes(nodes[2])
    // past the lease (4 s): a renewal that did not arrive would have let a successor take over
    await sleep(nodes[0].deployments.options.leaseMs + 2_000)
    for (const n of nodes) expect(n.deployments.get(record.id)).to.include({ version: record.version, coordinator: nodes[2].peerId })
    // renewed with the participants directly: the whole mesh hears of it once per re-publication (10 s), not every second
    expect(gossiped()).to.be.at.most(1)
  })

  it('tells a node that joins later of the deployment at once, not at the next re-publication', async () => {
    // Re-publication well past the test: only the coordinator's word to a newcomer can tell it in time.
    const started = await startMemoryMesh(3, { heartbeatMs: 500, deploy: () => ({ republishMs: 600_000 }) })
    nodes = started.nodes
    await waitFor(() => nodes.every(x => x.peers.size === 2), 10_000, 'three nodes')
    await nodes[0].modules.add(await wat('counter'), { name: 'counter' })
    const record = await nodes[0].deployments.deploy({ name: 'early', steps: [{ module: 'counter', function: 'next' }] })
    const [late] = await joinMemoryMesh(started.lan, ['late'], { heartbeatMs: 500 })
    nodes.push(late)
    await waitFor(() => late.deployments.list().length === 1, 10_000, 'the late node to hear of the deployment')
    expect(await call(late, record, 0)).to.be.a('number')
  })

  it('tells a burst of newcomers past joinTellsPerRenewal by gossip at the next tick, not by a stream each', async () => {
    // Re-publication well past the test, one direct tell per lease period: four newcomers at once
    // are told directly at most once per tick their joins span; the rest can only hear by the
    // re-publication their joining brings forward.
    const started = await startMemoryMesh(2, { heartbeatMs: 500, deploy: () => ({ republishMs: 600_000, joinTellsPerRenewal: 1 }) })
    nodes = started.nodes
    await waitFor(() => nodes.every(x => x.peers.size === 1), 10_000, 'two nodes')
    await nodes[0].modules.add(await wat('counter'), { name: 'counter' })
    const record = await nodes[0].deployments.deploy({ name: 'burst', steps: [{ module: 'counter', function: 'next' }] })
    const participants = new Set(record.steps.flatMap(s => s.peers))
    const deploy = nodes[0].libp2p.services.deploy
    const ask = deploy.ask.bind(deploy)
    const told = new Map<string, number>()
    deploy.ask = async (peerId, req, ...rest) => {
      if (!participants.has(peerId)) told.set(peerId, (told.get(peerId) ?? 0) + 1)
      return await ask(peerId, req, ...rest)
    }
    const gossiped = countPublishes(nodes[0])
    const late = await joinMemoryMesh(started.lan, ['late0', 'late1', 'late2', 'late3'], { heartbeatMs: 500 })
    nodes.push(...late)
    await waitFor(() => late.every(n => n.deployments.list().length === 1), 10_000, 'every newcomer to hear of the deployment')
    for (const n of late) expect(await call(n, record, 0)).to.be.a('number')
    // not every newcomer had a stream of its own (the joins may straddle a tick or two)
    expect(told.size, JSON.stringify([...told])).to.be.below(late.length)
    expect(gossiped()).to.be.at.least(1)
  })

  it('never runs a step twice when the next step\'s host turns out not to run it', async () => {
    ({ nodes } = await startMemoryMesh(5, { heartbeatMs: 500, skills: i => i < 2 ? [dht] : i < 4 ? [camera] : [] }))
    await waitFor(() => nodes.every(x => x.peers.size === 4 && x.peers.list().every(p => p.source === 'gossip')), 10_000, 'a full mesh')
    await nodes[4].modules.add(await wat('counter-dht'), { name: 'ctr' })
    await nodes[4].modules.add(await wat('pipe-camera'), { name: 'cam' })
    const record = await nodes[4].deployments.deploy({ name: 'twice', steps: [{ module: 'ctr', function: 'next', replicas: 2 }, { module: 'cam', function: 'fahrenheit', replicas: 2 }] })
    await waitFor(() => nodes.every(n => n.deployments.list().length === 1), 5_000, 'the record everywhere')
    // The step-1 hosts have dropped it (as after a re-placement the step-0 hosts have not heard of yet).
    for (const i of [2, 3]) nodes[i].deployments.steps.commit({ ...record, version: record.version + 1, steps: record.steps.map((s, k) => k === 1 ? { ...s, peers: [] } : s) })
    const err = await rejection(nodes[4].deployments.call({ deployment: record.id, module: 'ctr', function: 'next', args: [], files: [], timeoutMs: 5_000 }))
    expect(err.code).to.equal('unavailable')
    const runs = await Promise.all([0, 1].map(async i => {
      const host = await nodes[i].deployments.steps.get(record.id, 0) as unknown as { instance: { call: (fn: string, args: unknown[]) => Promise<{ value: unknown }> } }
      return (await host.instance.call('peek', [])).value
    }))
    expect(runs.sort()).to.deep.equal([0, 1])
  })

  it('a node back from a restart with a deployment removed meanwhile drops it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wasmesh-dep-zombie-'))
    const privateKey = await generateKeyPair('Ed25519')
    const lan = new MemoryLan()
    const make = async (name: string, disk: boolean): Promise<WasmeshNode> => await WasmeshNode.create({
      name, http: false, heartbeatMs: 500, parts: await memoryParts(lan, disk ? { privateKey, stores: diskStores(dir) } : {})
    })
    try {
      nodes = [await make('n0', true), await make('n1', false), await make('n2', false)]
      await Promise.all(nodes.map(async n => { await n.start() }))
      await waitFor(() => nodes.every(x => x.peers.size === 2), 10_000, 'a full mesh')
      await nodes[0].modules.add(await wat('counter'), { name: 'counter' })
      const record = await nodes[0].deployments.deploy({ name: 'z', steps: [{ module: 'counter', function: 'next', peer: 'n0' }] })
      await waitFor(() => nodes.every(n => n.deployments.list().length === 1), 5_000, 'the record everywhere')
      await nodes[0].stop()
      await nodes[1].deployments.undeploy(record.id)
      nodes[0] = await make('n0', true)
      await nodes[0].start()
      await waitFor(() => nodes[0].deployments.list().length === 0 && nodes[0].deployments.steps.size === 0, 10_000, 'the restarted node to drop the removed deployment')
      expect(nodes.map(n => n.deployments.list().length)).to.deep.equal([0, 0, 0])
    } finally {
      await stopAll(nodes)
      nodes = []
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('a participant restores its deployments and steps from disk after a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wasmesh-dep-restart-'))
    const privateKey = await generateKeyPair('Ed25519')
    const lan = new MemoryLan()
    const make = async (): Promise<WasmeshNode> => await WasmeshNode.create({ name: 'solo', http: false, parts: await memoryParts(lan, { privateKey, stores: diskStores(dir) }) })
    try {
      let node = await make()
      nodes = [node]
      await node.start()
      await node.modules.add(await wat('counter'), { name: 'counter' })
      const record = await node.deployments.deploy({ name: 'count', steps: [{ module: 'counter', function: 'next' }], config: { K: 'v' } })
      expect(await call(node, record, 0)).to.equal(1)
      await node.stop()
      node = await make()
      nodes = [node]
      await node.start()
      expect(node.deployments.list()).to.deep.equal([record])
      // A new guest: the module's state starts over, the deployment does not.
      expect(await call(node, record, 0)).to.equal(1)
      expect(await call(node, record, 0)).to.equal(2)
    } finally {
      await stopAll(nodes)
      nodes = []
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('takes concurrent deployments from different nodes', async () => {
    await mesh()
    const bytes = await wat('counter')
    await Promise.all(nodes.map(async n => { await n.modules.add(bytes, { name: 'counter' }) }))
    const records = await Promise.all(nodes.map(async (n, i) => await n.deployments.deploy({ name: `c${i}`, steps: [{ module: 'counter', function: 'next', replicas: 2 }] })))
    expect(new Set(records.map(r => r.id)).size).to.equal(5)
    await waitFor(() => nodes.every(n => n.deployments.list().length === 5), 5_000, 'every record everywhere')
    for (const r of records) {
      expect(r.steps[0].peers).to.have.length(2)
      expect(await call(nodes[0], r, 0)).to.be.a('number')
    }
    expect(await rejection(nodes[0].deployments.deploy({ name: 'c0', steps: [] }))).to.have.property('code', 'bad-request')
  })
})
