import { setTimeout as sleep } from 'node:timers/promises'
import { defaultLogger } from '@libp2p/logger'
import { expect } from 'chai'
import { DeployService } from '../../src/protocols/deploy/index.ts'
import { startMemoryMesh, stopAll } from '../helpers/memory-mesh.ts'
import { rejection } from '../helpers/rejection.ts'
import { waitFor } from '../helpers/wait.ts'
import type { DeployComponents } from '../../src/protocols/deploy/index.ts'
import type { WasmeshNode } from '../../src/node/node.ts'
import type { AbortOptions, PeerId, Stream } from '@libp2p/interface'

const BID = { freeMem: 1, cpu: 0, instances: 0, cached: false }

describe('deploy protocol requests', function () {
  this.timeout(30_000)
  let nodes: WasmeshNode[] = []
  afterEach(async () => { await stopAll(nodes) })

  /** a DeployService on n0 whose streams take `openMs` to open (as a first dial does), asking n1, which bids after `answerMs` */
  async function slowPair (openMs: number, answerMs: number): Promise<{ asker: DeployService, peer: string }> {
    ({ nodes } = await startMemoryMesh(2))
    await waitFor(() => nodes.every(n => n.peers.size === 1), 10_000, 'two nodes')
    nodes[1].libp2p.services.deploy.handle(async () => { await sleep(answerMs); return { ok: true, bid: BID } })
    const { libp2p } = nodes[0]
    const connectionManager = {
      openStream: async (peer: PeerId, protocol: string, options: AbortOptions): Promise<Stream> => {
        await sleep(openMs, undefined, { signal: options.signal })
        return await libp2p.dialProtocol(peer, protocol, options)
      }
    }
    const asker = new DeployService({ connectionManager, logger: defaultLogger() } as unknown as DeployComponents)
    return { asker, peer: nodes[1].peerId }
  }

  it('gives the answer its whole timeout after a slow stream open', async () => {
    const { asker, peer } = await slowPair(250, 0)
    const answer = await asker.ask(peer, { type: 'bid', deployment: 'd', cid: 'c' }, 100, 1_000)
    expect(answer).to.deep.equal({ ok: true, bid: BID })
  })

  it('says a peer could not be reached when opening outlasts the open timeout', async () => {
    const { asker, peer } = await slowPair(250, 0)
    const err = await rejection(asker.ask(peer, { type: 'bid', deployment: 'd', cid: 'c' }, 1_000, 100))
    expect(err.code).to.equal('timeout')
    expect(err.message).to.contain('could not be reached within 100 ms')
  })

  it('says a peer did not answer when the answer outlasts the request timeout', async () => {
    const { asker, peer } = await slowPair(0, 250)
    const err = await rejection(asker.ask(peer, { type: 'bid', deployment: 'd', cid: 'c' }, 100, 1_000))
    expect(err.code).to.equal('timeout')
    expect(err.message).to.contain('did not answer "bid" within 100 ms')
  })
})
