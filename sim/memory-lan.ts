import { generateKeyPair } from '@libp2p/crypto/keys'
import { memory } from '@libp2p/memory'
import { plaintext } from '@libp2p/plaintext'
import { memoryStores } from '../src/node/stores.ts'
import { Rng } from './rng.ts'
import { ToldDiscovery } from './told-discovery.ts'
import type { NodeParts } from '../src/node/parts.ts'
import type { Load } from '../src/protocols/announce/index.ts'
import type { PeerDiscovery, PeerId, PeerInfo, Startable } from '@libp2p/interface'

/**
 * How many members a joiner is told of (and they of it), so each node ends up with about twice
 * that many connections. A real LAN tells everyone of everyone; in one process that is n²
 * handshakes on one thread, and gossip reaches everyone through a sparser graph as well (50
 * nodes: full tables in ~10 s fully connected, ~3.5 s at fanout 4, measured).
 */
const FANOUT = 4

interface Member {
  peerId: PeerId
  addrs: () => PeerInfo['multiaddrs']
  tell: (peer: PeerInfo) => void
}

interface LanComponents {
  peerId: PeerId
  addressManager: { getAddresses: () => PeerInfo['multiaddrs'] }
}

/**
 * An in-process LAN for simulated nodes of one thread (tests): what mDNS is to devices. A node
 * joining it is told of (at most FANOUT of) the members already there, and they of it. The
 * same dialing, gossip and peer-table code then runs as on a real LAN. (`sim/lan.ts` is the
 * simulator's, across threads.)
 */
export class MemoryLan {
  readonly #members = new Map<string, Member>()
  /** who a joiner is told of: the same on every run, so a failing test can be run again alike */
  readonly #rng = new Rng(1)
  #next = 0

  /** A fresh listen address on the memory transport. */
  address (): string {
    return `/memory/wasmesh-${process.pid}-${this.#next++}-${Math.random().toString(36).slice(2, 8)}`
  }

  discovery (): (components: LanComponents) => PeerDiscovery & Startable {
    return (components) => {
      const discovery: ToldDiscovery = new ToldDiscovery({
        onStarted: () => {
          this.join({ peerId: components.peerId, addrs: () => components.addressManager.getAddresses(), tell: (peer) => { discovery.tell(peer) } })
        },
        onStopped: () => { this.leave(components.peerId) }
      })
      return discovery
    }
  }

  join (member: Member): void {
    const others = [...this.#members.values()]
    const chosen = this.#rng.sample(others, FANOUT)
    this.#members.set(member.peerId.toString(), member)
    for (const other of chosen) {
      member.tell({ id: other.peerId, multiaddrs: other.addrs() })
      other.tell({ id: member.peerId, multiaddrs: member.addrs() })
    }
  }

  leave (peerId: PeerId): void {
    this.#members.delete(peerId.toString())
  }
}

const IDLE_LOAD: Load = { cpu: 0, freeMem: 0, instances: 0 }

/**
 * What every simulated node is built from, whatever links it: plaintext (one machine:
 * encryption would only cost CPU, half the dial time, FIELD-NOTES.md), no mDNS beacon, no
 * connection pings, no process metrics, in-memory stores.
 */
export async function simulatedParts (parts: Pick<NodeParts, 'transports' | 'listen' | 'peerDiscovery'> & Partial<NodeParts>): Promise<NodeParts> {
  return {
    skillBeacon: false,
    connectionEncrypters: [plaintext()],
    connectionMonitor: false,
    processMetrics: false,
    ...parts,
    privateKey: parts.privateKey ?? await generateKeyPair('Ed25519'),
    load: parts.load ?? (() => IDLE_LOAD),
    stores: parts.stores ?? memoryStores()
  }
}

/** Parts of a simulated node on `lan`: memory transport, plaintext, fresh key, no mDNS, no connection pings. */
export async function memoryParts (lan: MemoryLan, opts: Pick<Partial<NodeParts>, 'load' | 'connectionProtector' | 'stores' | 'privateKey'> = {}): Promise<NodeParts> {
  return await simulatedParts({ ...opts, transports: [memory()], listen: [lan.address()], peerDiscovery: [lan.discovery()] })
}
