import { peerDiscoverySymbol } from '@libp2p/interface'
import { TypedEventEmitter } from 'main-event'
import type { PeerDiscovery, PeerDiscoveryEvents, PeerInfo, Startable } from '@libp2p/interface'

/**
 * Peer discovery for simulated nodes: what mDNS is to devices. Whoever simulates the LAN tells
 * it of peers; it passes them on to libp2p as mDNS would, asynchronously and only while running.
 */
export class ToldDiscovery extends TypedEventEmitter<PeerDiscoveryEvents> implements PeerDiscovery, Startable {
  readonly #onStarted?: () => void
  readonly #onStopped?: () => void
  #started = false

  /** `onStarted` runs once the node listens (its addresses are known); `onStopped` when it stops. */
  constructor (hooks: { onStarted?: () => void, onStopped?: () => void } = {}) {
    super()
    this.#onStarted = hooks.onStarted
    this.#onStopped = hooks.onStopped
  }

  readonly [peerDiscoverySymbol] = this
  readonly [Symbol.toStringTag] = 'wasmesh:told-discovery'

  async start (): Promise<void> {}

  afterStart (): void {
    this.#started = true
    this.#onStarted?.()
  }

  async stop (): Promise<void> {
    this.#started = false
    this.#onStopped?.()
  }

  /** A peer on the LAN, as an mDNS answer would bring it. */
  tell (peer: PeerInfo): void {
    // Asynchronously, as a network would: never inside the joiner's own start.
    if (this.#started) setImmediate(() => { if (this.#started) this.safeDispatchEvent('peer', { detail: peer }) })
  }
}
