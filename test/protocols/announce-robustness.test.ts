import { generateKeyPair } from '@libp2p/crypto/keys'
import { gossipsub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { memory } from '@libp2p/memory'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { plaintext } from '@libp2p/plaintext'
import { RecordEnvelope } from '@libp2p/peer-record'
import { yamux } from '@libp2p/yamux'
import { expect } from 'chai'
import { createLibp2p } from 'libp2p'
import { sealAnnouncement } from '../../src/protocols/announce/announcement.ts'
import { ANNOUNCE_TOPIC, MAX_ANNOUNCEMENT_BYTES } from '../../src/protocols/announce/constants.ts'
import { SKILL_CATALOG } from '../../src/wasm/skills/catalog.ts'
import { startMemoryMesh, stopAll } from '../helpers/memory-mesh.ts'
import { waitFor } from '../helpers/wait.ts'
import type { WasmeshNode } from '../../src/node/node.ts'
import type { Announcement } from '../../src/protocols/announce/announcement.ts'
import type { GossipSub } from '@libp2p/gossipsub'
import type { Libp2p, PrivateKey } from '@libp2p/interface'

function claim (peerId: string, name: string): Announcement {
  return {
    v: 1, peerId, name, seq: Date.now() + 60_000, state: 'up', heartbeatMs: 1000, http: null, addrs: [],
    skills: [SKILL_CATALOG.sys, SKILL_CATALOG.camera], load: { cpu: 0, freeMem: 0, instances: 0 }, modules: []
  }
}

describe('announcements from a hostile peer', function () {
  let nodes: WasmeshNode[] = []
  let attacker: Libp2p<{ pubsub: GossipSub }>
  let attackerKey: PrivateKey

  before(async () => {
    ({ nodes } = await startMemoryMesh(2, { heartbeatMs: 300 }))
    await waitFor(() => nodes.every(n => n.peers.size === 1), 5_000, 'two nodes to meet')
    attackerKey = await generateKeyPair('Ed25519')
    attacker = await createLibp2p({
      privateKey: attackerKey,
      addresses: { listen: ['/memory/wasmesh-attacker'] },
      transports: [memory()],
      connectionEncrypters: [plaintext()],
      streamMuxers: [yamux()],
      connectionMonitor: { enabled: false },
      services: { identify: identify(), pubsub: gossipsub({ allowPublishToZeroTopicPeers: true, globalSignaturePolicy: 'StrictNoSign', scoreParams: { IPColocationFactorWeight: 0 } }) }
    })
    attacker.services.pubsub.subscribe(ANNOUNCE_TOPIC)
    await attacker.dial(nodes[0].libp2p.getMultiaddrs())
    await waitFor(() => attacker.services.pubsub.getSubscribers(ANNOUNCE_TOPIC).length > 0, 5_000, 'the node to be subscribed')
  })

  after(async () => {
    await attacker?.stop()
    await stopAll(nodes)
  })

  async function publish (bytes: Uint8Array): Promise<void> {
    await attacker.services.pubsub.publish(ANNOUNCE_TOPIC, bytes)
  }

  it('drops malformed, oversized, unsigned and forged announcements, counts each, and changes nothing', async () => {
    const [node, victim] = nodes
    const before = node.peers.list().map(e => ({ ...e, lastSeenMs: 0, deadlineMs: 0, load: null, seq: 0 }))

    await publish(new TextEncoder().encode('hello, not an envelope'))
    await publish(new Uint8Array(MAX_ANNOUNCEMENT_BYTES + 100).fill(7))
    // Speaks for the victim, signed by the attacker.
    await publish(await sealAnnouncement(claim(victim.peerId, 'hijacked'), attackerKey))
    // Properly signed by the attacker, but about the victim after tampering: signature breaks.
    const own = await sealAnnouncement(claim(peerIdFromPrivateKey(attackerKey).toString(), 'evil'), attackerKey)
    own[own.length - 80] ^= 0xff
    await publish(own)
    // No signature at all.
    const unsigned = RecordEnvelope.createFromProtobuf(await sealAnnouncement(claim(peerIdFromPrivateKey(attackerKey).toString(), 'evil2'), attackerKey))
    await publish(new RecordEnvelope({ ...unsigned, signature: new Uint8Array(0) }).marshal())

    await waitFor(async () => (await node.metrics.dropped('malformed')) >= 1 && (await node.metrics.dropped('oversized')) >= 1 &&
      (await node.metrics.dropped('forged')) >= 1 && (await node.metrics.dropped('bad-signature')) >= 2, 3_000, 'all five drops to be counted')

    expect(node.peers.get(victim.peerId)?.name).to.equal(victim.name)
    expect(node.peers.get(peerIdFromPrivateKey(attackerKey).toString())).to.equal(undefined)
    const after = node.peers.list().map(e => ({ ...e, lastSeenMs: 0, deadlineMs: 0, load: null, seq: 0 }))
    expect(after).to.deep.equal(before)
    // Rejected messages are not forwarded: the victim's node never saw them either.
    expect(await victim.metrics.dropped('forged')).to.equal(0)
    expect((await node.metrics.registry.metrics())).to.match(/wasmesh_announcements_dropped_total\{reason="forged"\} 1/)
  })

  it('keeps serving: the honest peers still hear each other', async () => {
    const [node, victim] = nodes
    const seq = node.peers.get(victim.peerId)?.seq ?? 0
    await victim.setSkills([{ name: 'dht', provider: { type: 'simulated' } }])
    await waitFor(() => (node.peers.get(victim.peerId)?.seq ?? 0) > seq && node.peers.get(victim.peerId)?.skills.some(s => s.name === 'dht') === true, 3_000, 'a fresh announcement')
  })
})
