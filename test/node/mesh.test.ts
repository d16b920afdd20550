import { expect } from 'chai'
import { startMemoryMesh, stopAll } from '../helpers/memory-mesh.ts'
import { waitFor } from '../helpers/wait.ts'
import type { WasmeshNode } from '../../src/node/node.ts'
import type { ConfiguredSkill } from '../../src/wasm/skills/skills-file.ts'

const camera: ConfiguredSkill = { name: 'camera', provider: { type: 'simulated' } }
const dht: ConfiguredSkill = { name: 'dht', provider: { type: 'simulated' } }

function skillsSeen (by: WasmeshNode, of: WasmeshNode): string[] | undefined {
  return by.peers.get(of.peerId)?.skills.map(s => s.name)
}

describe('in-process mesh (memory transport)', function () {
  let nodes: WasmeshNode[] = []
  afterEach(async () => { await stopAll(nodes) })

  it('5 nodes find each other and see each other\'s skills', async () => {
    ({ nodes } = await startMemoryMesh(5, { heartbeatMs: 500, skills: i => i === 0 ? [camera] : i === 1 ? [dht] : [] }))
    await waitFor(() => nodes.every(n => n.peers.size === 4), 5_000, 'every node to know 4 peers')
    for (const n of nodes.slice(1)) expect(skillsSeen(n, nodes[0])).to.deep.equal(['sys', 'camera'])
    for (const n of nodes.filter((_, i) => i !== 1)) expect(skillsSeen(n, nodes[1])).to.deep.equal(['sys', 'dht'])
    for (const n of nodes) {
      const peer = nodes[0].peers.get(n.peerId)
      if (n === nodes[0]) continue
      expect(peer?.name).to.equal(n.name)
      expect(peer?.addrs.some(a => a.startsWith('/memory/'))).to.equal(true)
    }
    // One connection per pair, however both ends discovered each other.
    for (const n of nodes) expect(n.libp2p.getConnections().length).to.equal(4)
  })

  it('a skill change reaches every node, with a change event', async () => {
    ({ nodes } = await startMemoryMesh(5, { heartbeatMs: 500 }))
    await waitFor(() => nodes.every(n => n.peers.size === 4), 5_000, 'full mesh')
    const changes: string[] = []
    for (const n of nodes.slice(1)) n.peers.on('change', (e, old) => changes.push(`${n.name}: ${old.skills.length}->${e.skills.length}`))
    await nodes[0].setSkills([camera, dht])
    await waitFor(() => nodes.slice(1).every(n => skillsSeen(n, nodes[0])?.join() === 'sys,camera,dht'), 3_000, 'the new skills everywhere')
    expect(changes.sort()).to.deep.equal(['n1: 1->3', 'n2: 1->3', 'n3: 1->3', 'n4: 1->3'])
  })

  it('a stopped node leaves every table at once (goodbye)', async () => {
    ({ nodes } = await startMemoryMesh(5, { heartbeatMs: 10_000 }))
    await waitFor(() => nodes.every(n => n.peers.size === 4), 5_000, 'full mesh')
    const gone = nodes.pop() as WasmeshNode
    await gone.stop()
    // Far sooner than its 10 s heartbeat would allow: the goodbye did it.
    await waitFor(() => nodes.every(n => n.peers.get(gone.peerId) === undefined), 2_000, 'the stopped node to leave every table')
  })

  it('a node that falls silent expires from every table after 3 missed heartbeats, not before', async () => {
    ({ nodes } = await startMemoryMesh(5, { heartbeatMs: 300 }))
    await waitFor(() => nodes.every(n => n.peers.size === 4), 5_000, 'full mesh')
    const silent = nodes[4]
    const leaves: string[] = []
    for (const n of nodes) n.peers.on('leave', (e, why) => { if (e.peerId === silent.peerId) leaves.push(why) })
    await silent.libp2p.services.announce.stop() // still connected, no longer announcing
    const t0 = Date.now()
    await waitFor(() => nodes.slice(0, 4).every(n => n.peers.get(silent.peerId) === undefined), 3_000, 'the silent node to expire')
    expect(Date.now() - t0).to.be.at.least(300 * 2) // it had up to 3.5 heartbeats since last heard
    expect(leaves).to.deep.equal(['expired', 'expired', 'expired', 'expired'])
  })

  it('a node that vanishes (connections gone, no goodbye) expires within two heartbeats', async () => {
    ({ nodes } = await startMemoryMesh(5, { heartbeatMs: 1_000 }))
    await waitFor(() => nodes.every(n => n.peers.size === 4), 5_000, 'full mesh')
    const gone = nodes[4]
    await gone.libp2p.stop() // no goodbye: as if unplugged
    // Far sooner than 3 missed heartbeats (3.5 s): its closed connections told.
    await waitFor(() => nodes.slice(0, 4).every(n => n.peers.get(gone.peerId) === undefined), 1_900, 'the vanished node to expire')
  })
})
