import { EventEmitter } from 'node:events'
import { DEFAULT_HEARTBEAT_MS, DEFAULT_MISSED_HEARTBEATS } from '../protocols/announce/constants.ts'
import { catalogDescriptor } from '../wasm/skills/catalog.ts'
import { skillsDigest } from '../wasm/skills/descriptor.ts'
import type { Announcement, Load } from '../protocols/announce/announcement.ts'
import type { SkillSummary } from '../protocols/skill-beacon/summary.ts'
import type { SkillDescriptor } from '../wasm/skills/descriptor.ts'

export interface PeerEntry {
  peerId: string
  name: string
  addrs: string[]
  http: string | null
  skills: SkillDescriptor[]
  digest: string
  /** Modules the peer announced it holds. */
  modules: Announcement['modules']
  load: Load
  /** 0 while the peer is known from mDNS only. */
  seq: number
  heartbeatMs: number
  lastSeenMs: number
  /** Past this time the peer is dropped unless heard from again. */
  deadlineMs: number
  /** `mdns`: only the LAN summary is known (skills from the catalogue); `gossip`: a signed announcement. */
  source: 'mdns' | 'gossip'
}

export type LeaveReason = 'left' | 'expired'

export interface PeerTableEvents {
  join: [PeerEntry]
  change: [PeerEntry, PeerEntry]
  leave: [PeerEntry, LeaveReason]
}

export interface PeerTableOptions {
  /** This node's own peer id: its own announcements are not entered. */
  self: string
  /** Heartbeats a peer may miss before it is dropped (default 3). */
  missedHeartbeats?: number
  /** Heartbeat assumed for peers known from mDNS only (default 2 s). */
  defaultHeartbeatMs?: number
  /** Most peers the table holds; newcomers beyond it are ignored (default 1024). */
  maxPeers?: number
  /** Most of those known from an (unsigned) mDNS summary only (default 256). */
  maxSummaryPeers?: number
  now?: () => number
}

export const PEER_TABLE_DEFAULTS = {
  missedHeartbeats: DEFAULT_MISSED_HEARTBEATS,
  defaultHeartbeatMs: DEFAULT_HEARTBEAT_MS,
  maxPeers: 1024,
  maxSummaryPeers: 256,
  /** How long the last sequence number of a departed peer is remembered, against replays. */
  tombstoneMs: 10 * 60_000,
  /** Most departed peers remembered. */
  maxTombstones: 4096
} as const

export type Decision = 'join' | 'change' | 'refresh' | 'leave' | 'stale'

/**
 * What an announcement does to the table, given what it holds of that peer and, if the peer
 * left or expired lately, the last sequence number it had (so a replayed old announcement
 * cannot bring it back). Pure: the table and tests share it.
 */
export function decideAnnouncement (known: PeerEntry | undefined, lastSeqOfDeparted: number | undefined, ann: Announcement): Decision {
  if (lastSeqOfDeparted !== undefined && ann.seq <= lastSeqOfDeparted) return 'stale'
  if (known !== undefined && known.source === 'gossip' && ann.seq <= known.seq) return 'stale'
  if (ann.state === 'leaving') return known === undefined ? 'stale' : 'leave'
  if (known === undefined) return 'join'
  return describesSamePeer(known, entryFields(ann)) ? 'refresh' : 'change'
}

type Described = Pick<PeerEntry, 'name' | 'http' | 'addrs' | 'digest' | 'modules'>

/**
 * An opened announcement is deep-frozen and shared (openAnnouncement): its fields, the skills
 * digest above all, are worked out once however many tables take it (hundreds in a simulator).
 */
const fieldsOf = new WeakMap<Announcement, Described>()

function entryFields (ann: Announcement): Described {
  const known = fieldsOf.get(ann)
  if (known !== undefined) return known
  const fields = { name: ann.name, http: ann.http, addrs: ann.addrs, digest: skillsDigest(ann.skills), modules: ann.modules }
  if (Object.isFrozen(ann)) fieldsOf.set(ann, fields)
  return fields
}

/** True when nothing a user or a placement decision cares about differs (load and times aside). */
function describesSamePeer (a: Described, b: Described): boolean {
  return a.name === b.name && a.http === b.http && a.digest === b.digest &&
    a.addrs.length === b.addrs.length && a.addrs.every((x, i) => x === b.addrs[i]) &&
    holdingsKey(a.modules) === holdingsKey(b.modules)
}

function holdingsKey (modules: Announcement['modules']): string {
  return modules.map(m => `${m.cid}:${m.name ?? ''}:${m.description ?? ''}`).join(' ')
}

/**
 * The peers this node knows: the newest announcement of each, when it was last heard, and
 * when it will be dropped. Emits `join`, `change` and `leave`.
 */
export class PeerTable extends EventEmitter<PeerTableEvents> {
  readonly #peers = new Map<string, PeerEntry>()
  /** Departed peer id -> its last seq, for a while (insertion order = age, for eviction). */
  readonly #tombstones = new Map<string, { seq: number, untilMs: number }>()
  readonly #self: string
  readonly #missed: number
  readonly #defaultHeartbeatMs: number
  readonly #maxPeers: number
  readonly #maxSummaryPeers: number
  readonly #now: () => number
  /** no entry's deadline is before this (it may be earlier than the soonest): sweeps skip till then */
  #sweepAtMs = Infinity

  constructor (opts: PeerTableOptions) {
    super()
    this.#self = opts.self
    this.#missed = opts.missedHeartbeats ?? PEER_TABLE_DEFAULTS.missedHeartbeats
    this.#defaultHeartbeatMs = opts.defaultHeartbeatMs ?? PEER_TABLE_DEFAULTS.defaultHeartbeatMs
    this.#maxPeers = opts.maxPeers ?? PEER_TABLE_DEFAULTS.maxPeers
    this.#maxSummaryPeers = opts.maxSummaryPeers ?? PEER_TABLE_DEFAULTS.maxSummaryPeers
    this.#now = opts.now ?? Date.now
  }

  get size (): number {
    return this.#peers.size
  }

  get (peerId: string): PeerEntry | undefined {
    return this.#peers.get(peerId)
  }

  list (): PeerEntry[] {
    return [...this.#peers.values()]
  }

  applyAnnouncement (ann: Announcement): Decision {
    if (ann.peerId === this.#self) return 'stale'
    const now = this.#now()
    const known = this.#peers.get(ann.peerId)
    const decision = decideAnnouncement(known, this.#tombstones.get(ann.peerId)?.seq, ann)
    switch (decision) {
      case 'stale':
        return decision
      case 'leave':
        this.#remove(ann.peerId, 'left', ann.seq)
        return decision
      default: {
        if (decision === 'join' && this.#peers.size >= this.#maxPeers) return 'stale'
        this.#tombstones.delete(ann.peerId)
        const entry: PeerEntry = {
          ...entryFields(ann),
          peerId: ann.peerId,
          skills: ann.skills,
          load: ann.load,
          seq: ann.seq,
          heartbeatMs: ann.heartbeatMs,
          lastSeenMs: now,
          deadlineMs: now + this.#silenceMs(ann.heartbeatMs),
          source: 'gossip'
        }
        this.#set(entry)
        if (decision === 'join') this.emit('join', entry)
        else if (decision === 'change' && known !== undefined) this.emit('change', entry, known)
        return decision
      }
    }
  }

  /**
   * A LAN summary (mDNS) tells of a peer before its first announcement arrives. It enters an
   * unknown peer, with the catalogue's descriptors for the skills it names; it never overrides
   * what a signed announcement said.
   */
  applySummary (summary: SkillSummary): Decision {
    if (summary.peerId === this.#self || this.#tombstones.has(summary.peerId)) return 'stale'
    const known = this.#peers.get(summary.peerId)
    if (known?.source === 'gossip') return 'stale'
    if (known === undefined && (this.#peers.size >= this.#maxPeers || this.#summaryOnly() >= this.#maxSummaryPeers)) return 'stale'
    const now = this.#now()
    const skills = summary.skills.map(catalogDescriptor).filter(d => d !== undefined)
    const entry: PeerEntry = {
      peerId: summary.peerId,
      name: summary.name,
      addrs: known?.addrs ?? [],
      http: summary.http,
      skills,
      digest: summary.digest,
      modules: known?.modules ?? [],
      load: known?.load ?? { cpu: 0, freeMem: 0, instances: 0 },
      seq: 0,
      heartbeatMs: this.#defaultHeartbeatMs,
      lastSeenMs: now,
      deadlineMs: now + this.#silenceMs(this.#defaultHeartbeatMs),
      source: 'mdns'
    }
    this.#set(entry)
    if (known === undefined) {
      this.emit('join', entry)
      return 'join'
    }
    if (describesSamePeer(known, entry)) return 'refresh'
    this.emit('change', entry, known)
    return 'change'
  }

  /**
   * A peer's LAN beacon said goodbye. That is unsigned, so it only removes what the beacon
   * itself brought (a peer known from its summary); a signed announcement outweighs it.
   */
  applySummaryGoodbye (peerId: string): void {
    if (this.#peers.get(peerId)?.source === 'mdns') this.#remove(peerId, 'left', 0)
  }

  /**
   * The direct connection to a peer closed. It may still be reachable through others, so it
   * stays if it is heard from within one heartbeat (and a half); otherwise it goes.
   */
  markDisconnected (peerId: string): void {
    const entry = this.#peers.get(peerId)
    if (entry === undefined) return
    entry.deadlineMs = Math.min(entry.deadlineMs, this.#now() + entry.heartbeatMs * 1.5)
    this.#sweepAtMs = Math.min(this.#sweepAtMs, entry.deadlineMs)
  }

  #set (entry: PeerEntry): void {
    this.#peers.set(entry.peerId, entry)
    this.#sweepAtMs = Math.min(this.#sweepAtMs, entry.deadlineMs)
  }

  /** Drops the peers whose deadline passed. */
  expire (): PeerEntry[] {
    const now = this.#now()
    const gone: PeerEntry[] = []
    // Run every few hundred ms on each node (hundreds in a simulator): scan only once a deadline may have passed.
    if (now > this.#sweepAtMs) {
      let soonest = Infinity
      for (const e of this.#peers.values()) {
        if (e.deadlineMs < now) gone.push(e)
        else soonest = Math.min(soonest, e.deadlineMs)
      }
      this.#sweepAtMs = soonest
    }
    for (const e of gone) this.#remove(e.peerId, 'expired', e.seq)
    for (const [id, t] of this.#tombstones) {
      if (t.untilMs >= now) break // oldest first: the rest are younger
      this.#tombstones.delete(id)
    }
    return gone
  }

  clear (): void {
    this.#peers.clear()
    this.#sweepAtMs = Infinity
    this.#tombstones.clear()
  }

  #summaryOnly (): number {
    let n = 0
    for (const e of this.#peers.values()) if (e.source === 'mdns') n++
    return n
  }

  #silenceMs (heartbeatMs: number): number {
    return heartbeatMs * (this.#missed + 0.5)
  }

  /** Drops a peer, remembering its last sequence number for a while (0 = nothing signed to remember). */
  #remove (peerId: string, reason: LeaveReason, lastSeq: number): void {
    const entry = this.#peers.get(peerId)
    if (entry === undefined) return
    this.#peers.delete(peerId)
    if (lastSeq > 0) {
      this.#tombstones.delete(peerId)
      this.#tombstones.set(peerId, { seq: lastSeq, untilMs: this.#now() + PEER_TABLE_DEFAULTS.tombstoneMs })
      if (this.#tombstones.size > PEER_TABLE_DEFAULTS.maxTombstones) {
        this.#tombstones.delete(this.#tombstones.keys().next().value as string)
      }
    }
    this.emit('leave', entry, reason)
  }
}
