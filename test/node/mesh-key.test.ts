import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { MemoryLan, memoryParts } from '../../sim/memory-lan.ts'
import { meshKeyProtector, newMeshKey } from '../../src/node/mesh-key.ts'
import { WasmeshNode } from '../../src/node/node.ts'
import { stopAll } from '../helpers/memory-mesh.ts'
import { waitFor } from '../helpers/wait.ts'

describe('private mesh (--mesh-key)', () => {
  let dir: string
  let nodes: WasmeshNode[] = []
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'wasmesh-meshkey-')) })
  after(async () => {
    await stopAll(nodes)
    await rm(dir, { recursive: true, force: true })
  })

  it('only nodes holding the same key connect and see each other', async () => {
    const keyA = join(dir, 'a.key')
    const keyB = join(dir, 'b.key')
    await writeFile(keyA, newMeshKey())
    await writeFile(keyB, newMeshKey())
    const lan = new MemoryLan()
    const make = async (name: string, key: string): Promise<WasmeshNode> => await WasmeshNode.create({
      name, http: false, heartbeatMs: 300, parts: await memoryParts(lan, { connectionProtector: await meshKeyProtector(key) })
    })
    nodes = [await make('a1', keyA), await make('a2', keyA), await make('b1', keyB)]
    await Promise.all(nodes.map(async n => { await n.start() }))
    const [a1, a2, b1] = nodes
    await waitFor(() => a1.peers.get(a2.peerId) !== undefined && a2.peers.get(a1.peerId) !== undefined, 5_000, 'the two key-A nodes to meet')
    // b1 was told of both and dialed (or was dialed); give that time to fail.
    await new Promise(resolve => setTimeout(resolve, 1_000))
    expect(b1.peers.size).to.equal(0)
    expect(b1.libp2p.getConnections()).to.have.length(0)
    expect(a1.peers.get(b1.peerId)).to.equal(undefined)
    expect(a2.peers.get(b1.peerId)).to.equal(undefined)
  })

  it('refuses a file that is not a swarm key', async () => {
    const bad = join(dir, 'bad.key')
    await writeFile(bad, '/key/swarm/psk/1.0.0/\n/base16/\nnothex')
    let error: unknown
    try { await meshKeyProtector(bad) } catch (err) { error = err }
    expect((error as { code?: string }).code).to.equal('bad-request')
  })
})
