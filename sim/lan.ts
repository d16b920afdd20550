import { Rng } from './rng.ts'
import type { StartedNode, WorkerNotice } from './worker-protocol.ts'

interface Member extends StartedNode {
  worker: number
}

/**
 * The simulated LAN across threads: what mDNS is to devices. A node joining is told of (at most
 * `fanout` of) the members of its segment, and they of it, each given the addresses that reach
 * the other from its own thread. Telling everyone of everyone would be n² handshakes on two
 * cores; gossip reaches everyone through the sparser graph as well.
 */
export class SimLan {
  readonly #members = new Map<number, Member>()
  readonly #fanout: number
  readonly #rng: Rng
  readonly #send: (worker: number, notice: WorkerNotice) => void
  #segmentOf: Map<number, number> | null = null

  constructor (opts: { fanout: number, seed: number, send: (worker: number, notice: WorkerNotice) => void }) {
    this.#fanout = opts.fanout
    this.#rng = new Rng(opts.seed ^ 0x5eed1a)
    this.#send = opts.send
  }

  join (node: StartedNode, worker: number): void {
    const member = { ...node, worker }
    const others = [...this.#members.values()].filter(m => this.#linked(m.index, member.index))
    this.#members.set(member.index, member)
    for (const other of this.#rng.sample(others, this.#fanout)) this.#introduce(member, other)
  }

  leave (index: number): void {
    this.#members.delete(index)
  }

  /** Splits the LAN (node index -> segment) or, with null, joins it again; on healing, each node hears of some across the old cut. */
  segment (segmentOf: Map<number, number> | null): void {
    const before = this.#segmentOf
    this.#segmentOf = segmentOf
    if (segmentOf !== null || before === null) return
    const all = [...this.#members.values()]
    for (const member of all) {
      const across = all.filter(m => (before.get(m.index) ?? 0) !== (before.get(member.index) ?? 0))
      for (const other of this.#rng.sample(across, Math.ceil(this.#fanout / 2))) this.#introduce(member, other)
    }
  }

  #linked (a: number, b: number): boolean {
    return this.#segmentOf === null || (this.#segmentOf.get(a) ?? 0) === (this.#segmentOf.get(b) ?? 0)
  }

  #introduce (a: Member, b: Member): void {
    this.#send(a.worker, { op: 'tell', to: a.index, peer: { id: b.peerId, addrs: a.worker === b.worker ? b.local : b.remote } })
    this.#send(b.worker, { op: 'tell', to: b.index, peer: { id: a.peerId, addrs: a.worker === b.worker ? a.local : a.remote } })
  }
}
