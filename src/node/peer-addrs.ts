import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { PeerTable } from './peer-table.ts'
import type { Libp2p } from '@libp2p/interface'

/**
 * Before dialing a peer this node has no connection to: tells libp2p where the peer said (in
 * its signed announcement) it listens. Discovery hands libp2p the addresses of the peers it
 * finds, but in a big mesh a node hears of most peers through gossip only, and libp2p cannot
 * dial a peer id it has no address for.
 */
export async function learnAddrs (libp2p: Pick<Libp2p, 'getConnections' | 'peerStore'>, peers: PeerTable, peerId: string): Promise<void> {
  const id = peerIdFromString(peerId)
  if (libp2p.getConnections(id).length > 0) return
  const addrs = peers.get(peerId)?.addrs ?? []
  if (addrs.length === 0) return
  await libp2p.peerStore.merge(id, { multiaddrs: addrs.map(a => multiaddr(a)) }).catch(() => {})
}
