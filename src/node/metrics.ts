import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client'

/** One registry per node (the simulator runs many nodes in one process). */
export class NodeMetrics {
  readonly registry = new Registry()
  readonly announcementsReceived = new Counter({
    name: 'wasmesh_announcements_received_total',
    help: 'Verified announcements received from peers',
    registers: [this.registry]
  })

  readonly announcementsDropped = new Counter({
    name: 'wasmesh_announcements_dropped_total',
    help: 'Announcements dropped unread, by reason (oversized, malformed, bad-signature, forged)',
    labelNames: ['reason'] as const,
    registers: [this.registry]
  })

  readonly peerEvents = new Counter({
    name: 'wasmesh_peer_events_total',
    help: 'Peer table events (join, change, leave)',
    labelNames: ['event'] as const,
    registers: [this.registry]
  })

  readonly peers: Gauge

  constructor (peerCount: () => number, processMetrics = false) {
    this.peers = new Gauge({
      name: 'wasmesh_peers',
      help: 'Peers in the peer table',
      registers: [this.registry],
      collect () { this.set(peerCount()) }
    })
    if (processMetrics) collectDefaultMetrics({ register: this.registry })
  }

  /** Dropped count for one reason (tests and the simulator read it). */
  async dropped (reason: string): Promise<number> {
    const metric = await this.announcementsDropped.get()
    return metric.values.find(v => v.labels.reason === reason)?.value ?? 0
  }
}
