import type { ConnectionGater, Libp2p, PeerId } from '@libp2p/interface'

/**
 * The LAN segments of a partitioned simulated mesh: nodes of different segments cannot reach
 * each other. One per thread, shared by its nodes; `null` segments: one LAN.
 */
export class Segments {
  #of: Map<string, number> | null = null

  set (segmentOf: Map<string, number> | null): void {
    this.#of = segmentOf
  }

  /** Whether `a` and `b` can reach each other. Peers unknown to the map (joined later) are in segment 0. */
  linked (a: string, b: string): boolean {
    if (this.#of === null) return true
    return (this.#of.get(a) ?? 0) === (this.#of.get(b) ?? 0)
  }

  /** A gater for the node `self`: no dial to, and no connection from, another segment. */
  gater (self: () => string): ConnectionGater {
    const denied = (peer: PeerId): boolean => !this.linked(self(), peer.toString())
    return {
      denyDialPeer: denied,
      denyInboundEncryptedConnection: denied,
      denyOutboundEncryptedConnection: denied
    }
  }

  /** Drops `node`'s connections that cross segments: the cable between the switches is cut. */
  cut (node: Libp2p): void {
    const self = node.peerId.toString()
    for (const c of node.getConnections()) {
      if (!this.linked(self, c.remotePeer.toString())) c.abort(new Error('the LAN is partitioned'))
    }
  }
}
