import { dialDelayMs } from './dial-policy.ts'
import type { Libp2p, PeerInfo } from '@libp2p/interface'

const DIAL_TIMEOUT_MS = 5_000

/** Dials discovered peers, one connection per pair (see `dialDelayMs`). */
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
    if (this.#stopped || this.#pending.has(id) || this.#connected(peer)) return
    const delay = dialDelayMs(this.#libp2p.peerId.toString(), id, this.#fallbackMs)
    const timer = setTimeout(() => {
      this.#pending.delete(id)
      if (this.#stopped || this.#connected(peer)) return
      const target = peer.multiaddrs.length > 0 ? peer.multiaddrs : peer.id
      this.#libp2p.dial(target, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) }).catch(() => {
        // Unreachable now; discovery will offer it again.
      })
    }, delay)
    timer.unref()
    this.#pending.set(id, timer)
  }

  stop (): void {
    this.#stopped = true
    for (const t of this.#pending.values()) clearTimeout(t)
    this.#pending.clear()
  }

  /** Connected, or a dial (ours, or one libp2p started for another reason) is under way. */
  #connected (peer: PeerInfo): boolean {
    return this.#libp2p.getConnections(peer.id).length > 0 ||
      this.#libp2p.getDialQueue().some(dial => dial.peerId?.equals(peer.id) === true)
  }
}
