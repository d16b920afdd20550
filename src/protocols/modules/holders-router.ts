import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { Provider, Router } from '@helia/interface'
import type { PeerStore } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

export interface Holder {
  peerId: string
  addrs: string[]
}

/**
 * A Helia router that answers "who has this CID?" from what peers announced they hold, so a
 * fetch goes straight to holders (several, when several hold it) without a DHT. Bitswap also
 * asks every connected peer, so holders that announced nothing are found too.
 */
export function holdersRouter (findHolders: (cid: string) => Holder[], peerStore: PeerStore): Router {
  return {
    name: 'wasmesh-holders',
    async * findProviders (cid: CID): AsyncGenerator<Provider> {
      for (const holder of findHolders(cid.toString())) {
        let peerId
        try {
          peerId = peerIdFromString(holder.peerId)
        } catch {
          continue
        }
        const multiaddrs = []
        for (const addr of holder.addrs) {
          try { multiaddrs.push(multiaddr(addr)) } catch {}
        }
        // Bitswap dials providers by peer id: the peer store must know where they are.
        await peerStore.merge(peerId, { multiaddrs }).catch(() => {})
        yield { id: peerId.toCID(), multiaddrs, protocols: ['transport-bitswap'], router: 'wasmesh-holders', fallback: false }
      }
    }
  }
}
