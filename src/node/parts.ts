import { mdns } from '@libp2p/mdns'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { coalescedWrites } from './coalesced-writes.ts'
import { loadOrCreatePeerKey } from './peer-key.ts'
import { diskStores } from './stores.ts'
import type { NodeStores } from './stores.ts'
import type { Load } from '../protocols/announce/index.ts'
import type { SkillBeaconInit } from '../protocols/skill-beacon/index.ts'
import type { PrivateKey } from '@libp2p/interface'
import type { Libp2pOptions } from 'libp2p'

/**
 * What a node is built from, beyond its configuration. The LAN preset gives TCP, mDNS and a
 * key kept on disk; the simulator gives the memory transport, an in-process LAN and fresh
 * keys. The node code is the same.
 */
export interface NodeParts {
  privateKey: PrivateKey
  transports: NonNullable<Libp2pOptions['transports']>
  listen: string[]
  peerDiscovery?: Libp2pOptions['peerDiscovery']
  /** The mDNS skill summary service; false where there is no multicast (simulation). */
  skillBeacon: SkillBeaconInit | false
  /** Connection encryption: noise on a network; plaintext between nodes of one process. */
  connectionEncrypters: NonNullable<Libp2pOptions['connectionEncrypters']>
  /** A private-network protector (`--mesh-key`). */
  connectionProtector?: Libp2pOptions['connectionProtector']
  /** Samples this device's load for announcements. */
  load: () => Load
  /** Ping every connection periodically; off in simulation, where it costs CPU for nothing. */
  connectionMonitor: boolean
  /** Also export process metrics (CPU, memory, event loop) on /metrics. */
  processMetrics: boolean
  /** Blocks and records: on disk on a device, in memory in the simulator. */
  stores: NodeStores
  /** Which connections may be made (the simulator's partitions); none on a device. */
  connectionGater?: Libp2pOptions['connectionGater']
  /** libp2p's metrics hook (the simulator counts bytes with it); none on a device. */
  metrics?: Libp2pOptions['metrics']
}

export interface LanPartsOptions {
  dataDir: string
  listen?: string[]
  load: () => Load
  connectionProtector?: Libp2pOptions['connectionProtector']
  /** mDNS query period (ms). */
  mdnsIntervalMs?: number
}

export const DEFAULT_LISTEN = ['/ip4/0.0.0.0/tcp/0']

/** A device on a LAN: TCP, mDNS discovery and skill beacon, key kept in the data dir. */
export async function lanParts (opts: LanPartsOptions): Promise<NodeParts> {
  return {
    privateKey: await loadOrCreatePeerKey(opts.dataDir),
    transports: [tcp()],
    listen: opts.listen !== undefined && opts.listen.length > 0 ? opts.listen : DEFAULT_LISTEN,
    peerDiscovery: [mdns({ interval: opts.mdnsIntervalMs ?? 10_000 })],
    // The beacon is unauthenticated and in clear: a private mesh does not tell the LAN about itself.
    skillBeacon: opts.connectionProtector === undefined ? {} : false,
    connectionEncrypters: [coalescedWrites(noise())],
    connectionProtector: opts.connectionProtector,
    load: opts.load,
    connectionMonitor: true,
    processMetrics: true,
    stores: diskStores(opts.dataDir)
  }
}
