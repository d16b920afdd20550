import { dialDelayMs } from './dial-policy.ts'
import type { Libp2p, PeerInfo } from '@libp2p/interface'

const DIAL_TIMEOUT_MS = 5_000
/** A failed dial is tried again after 1 s, 2 s, 4 s... up to this many times. */
const MAX_RETRIES = 6
/** Most peers with a dial scheduled, first or retry (a flood of discoveries must not grow timers without bound). */
const MAX_SCHEDULED = 1024

/**
 * Dials discovered peers, one connection per pair (see `dialDelayMs`), and tries again when a
 * dial fails: libp2p reports a peer as discovered only the first time it enters the peer store,
 * so a first dial that failed (a peer still starting, a loaded host) would otherwise never be
 * repeated however often mDNS answers.
 */
export class PeerDialer {
  readonly #libp2p: Libp2p
  readonly #fallbackMs: number
  readonly #pending = new Map<string, NodeJS.Timeout>()
  #stopped = false

  constructor (libp2p: Libp2p, fallbackMs: number) {
    this.#libp2p = libp2p
    this.#fallbackMs = fallbackMs
  }

  discovered (peer: PeerInfo): void {
    const id = peer.id.toString()
    if (this.#stopped || this.#pending.has(id) || this.#pending.size >= MAX_SCHEDULED || this.#connected(peer)) return
    this.#schedule(peer, dialDelayMs(this.#libp2p.peerId.toString(), id, this.#fallbackMs), 0)
  }

  stop (): void {
    this.#stopped = true
    for (const t of this.#pending.values()) clearTimeout(t)
    this.#pending.clear()
  }

  #schedule (peer: PeerInfo, delayMs: number, attempt: number): void {
    const id = peer.id.toString()
    const timer = setTimeout(() => {
      this.#pending.delete(id)
      if (this.#stopped || this.#connected(peer)) return
      const target = peer.multiaddrs.length > 0 ? peer.multiaddrs : peer.id
      this.#libp2p.dial(target, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) }).catch(() => {
        if (this.#stopped || attempt >= MAX_RETRIES || this.#pending.size >= MAX_SCHEDULED || this.#pending.has(id)) return
        this.#schedule(peer, 1_000 * 2 ** attempt, attempt + 1)
      })
    }, delayMs)
    timer.unref()
    this.#pending.set(id, timer)
  }

  /** Connected, or a dial (ours, or one libp2p started for another reason) is under way. */
  #connected (peer: PeerInfo): boolean {
    return this.#libp2p.getConnections(peer.id).length > 0 ||
      this.#libp2p.getDialQueue().some(dial => dial.peerId?.equals(peer.id) === true)
  }
}
