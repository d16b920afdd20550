import { expect } from 'chai'
import { buildHttpApp } from '../../src/node/http/server.ts'
import { startMemoryMesh, stopAll } from '../helpers/memory-mesh.ts'
import { waitFor } from '../helpers/wait.ts'
import type { WasmeshNode } from '../../src/node/node.ts'
import type { FastifyInstance } from 'fastify'

describe('HTTP API', () => {
  let nodes: WasmeshNode[] = []
  let app: FastifyInstance

  before(async () => {
    ({ nodes } = await startMemoryMesh(3, { heartbeatMs: 500, skills: i => i === 1 ? [{ name: 'camera', provider: { type: 'simulated' } }] : [] }))
    await waitFor(() => nodes.every(n => n.peers.size === 2), 5_000, 'full mesh')
    app = buildHttpApp(nodes[0])
  })
  after(async () => {
    await app?.close()
    await stopAll(nodes)
  })

  it('GET /health', async () => {
    const res = await app.inject({ method: 'GET', url: '/health' })
    expect(res.statusCode).to.equal(200)
    const body = res.json()
    expect(body).to.include({ ok: true, peerId: nodes[0].peerId, name: 'n0' })
    expect(body.uptimeMs).to.be.a('number').and.at.least(0)
  })

  it('GET /peers lists the others (not itself) with their skill descriptors', async () => {
    const res = await app.inject({ method: 'GET', url: '/peers' })
    expect(res.statusCode).to.equal(200)
    const peers = res.json() as Array<Record<string, any>>
    expect(peers.map(p => p.name)).to.deep.equal(['n1', 'n2'])
    expect(peers.map(p => p.peerId)).to.not.include(nodes[0].peerId)
    const n1 = peers[0]
    expect(n1.skills.map((s: { name: string }) => s.name)).to.deep.equal(['sys', 'camera'])
    expect(n1.skills[1].functions.takeImageDynamicSize).to.deep.equal({ params: ['i32', 'i32'], results: [] })
    expect(n1).to.have.all.keys('peerId', 'name', 'addrs', 'http', 'skills', 'lastSeenMs', 'load', 'via')
    expect(n1.load).to.have.all.keys('cpu', 'freeMem', 'instances')
    expect(n1.lastSeenMs).to.be.at.least(0).and.below(5_000)
  })

  it('GET /skills is this node\'s descriptors', async () => {
    const res = await app.inject({ method: 'GET', url: '/skills' })
    expect(res.json()).to.deep.equal(nodes[0].skills)
  })

  it('GET /metrics is Prometheus text', async () => {
    const res = await app.inject({ method: 'GET', url: '/metrics' })
    expect(res.statusCode).to.equal(200)
    expect(res.headers['content-type']).to.match(/^text\/plain/)
    expect(res.body).to.match(/^wasmesh_peers 2$/m)
    expect(res.body).to.match(/^wasmesh_announcements_received_total \d+$/m)
  })

  it('unknown routes and methods answer in the SPEC error shape', async () => {
    const missing = await app.inject({ method: 'GET', url: '/nowhere?x=1' })
    expect(missing.statusCode).to.equal(404)
    expect(missing.json()).to.deep.equal({ error: { code: 'not-found', message: 'no route GET /nowhere' } })
    const wrong = await app.inject({ method: 'DELETE', url: '/peers' })
    expect(wrong.statusCode).to.equal(405)
    expect(wrong.json().error.code).to.equal('method-not-allowed')
    expect(wrong.headers.allow).to.contain('GET')
  })
})
