import { expect } from 'chai'
import { startMemoryMesh, stopAll } from '../helpers/memory-mesh.ts'
import { wat } from '../helpers/fixtures.ts'
import { waitFor } from '../helpers/wait.ts'
import { rejection } from '../helpers/rejection.ts'
import type { WasmeshNode } from '../../src/node/node.ts'

describe('node: its runtime', function () {
  let nodes: WasmeshNode[] = []
  afterEach(async () => { await stopAll(nodes) })

  it('announces its running instances in its load, and links modules against its skills', async () => {
    ({ nodes } = await startMemoryMesh(2, { heartbeatMs: 200, skills: i => i === 0 ? [{ name: 'dht', provider: { type: 'simulated', values: { temperature: 30 } } }] : [] }))
    const [a, b] = nodes
    const seenLoad = (): number | undefined => b.peers.get(a.peerId)?.load.instances
    await waitFor(() => seenLoad() === 0, 10_000, 'b sees a with no instances')
    const counter = await a.runtime.instantiate(await a.runtime.prepare(await wat('counter')))
    expect((await counter.call('next', [])).value).to.equal(1)
    await waitFor(() => seenLoad() === 1, 10_000, 'b sees a running one instance')
    counter.close()
    await waitFor(() => seenLoad() === 0, 10_000, 'b sees it gone')

    // a has dht and b has not: the same module links on one and not the other
    const bytes = await wat('skills-guest')
    expect((await rejection(b.runtime.prepare(bytes))).details?.missing).to.deep.equal(['camera', 'dht'])
    await a.setSkills([{ name: 'dht', provider: { type: 'simulated', values: { temperature: 30 } } }, { name: 'camera', provider: { type: 'simulated' } }])
    const guest = await a.runtime.instantiate(await a.runtime.prepare(bytes))
    expect((await guest.call('temperature', [])).value).to.equal(30)
  })
})
