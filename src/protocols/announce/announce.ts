import { EventEmitter } from 'node:events'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import { SingleFlight } from '../../single-flight.ts'
import { announcementSchema, nextSeq, openAnnouncement, peekAnnouncement, sealAnnouncement } from './announcement.ts'
import { ANNOUNCE_TOPIC, DEFAULT_HEARTBEAT_MS, JOIN_ANSWER_DELAY_MS, MAX_QUEUED_ASKS, MAX_SYNC_MS, SYNC_MS, SYNC_SOON_MS } from './constants.ts'
import { MAX_SYNC_ENTRIES, SYNC_TIMEOUT_MS, TABLE_SYNC_PROTOCOL, answerTable, askTable } from './table-sync.ts'
import type { Known } from './table-sync.ts'
import type { Announcement, RejectReason } from './announcement.ts'
import type { GossipSub, Message, SubscriptionChangeData } from '@libp2p/gossipsub'
import type { ComponentLogger, Connection, Logger, PeerId, PrivateKey, Startable, Stream } from '@libp2p/interface'
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal'

/** What the node says of itself; the service adds identity, sequence and state. */
export type AnnouncementContent = Pick<Announcement, 'name' | 'http' | 'addrs' | 'skills' | 'load' | 'modules'>

export interface AnnounceInit {
  /** What to announce, asked afresh for every announcement. */
  describe: () => AnnouncementContent
  /** Re-announce this often when nothing changed (default 2 s). */
  heartbeatMs?: number
  /** How long a goodbye may take before stop goes on without it (default 500 ms). */
  goodbyeTimeoutMs?: number
  topic?: string
  /** Whether a peer is current enough to be passed on to a new neighbour (default: all heard of). */
  current?: (peerId: string) => boolean
}

/** Gossipsub forms its mesh on its heartbeat (1 s): how often a first announcement is retried until it went out through the mesh. */
const REACH_RETRY_MS = 1_000

export interface AnnounceComponents {
  peerId: PeerId
  privateKey: PrivateKey
  pubsub: GossipSub
  logger: ComponentLogger
  registrar: Registrar
  connectionManager: ConnectionManager
}

export interface AnnounceEvents {
  /** A verified announcement of another peer. */
  announcement: [Announcement]
  /** A message on the topic that was dropped, and why. */
  rejected: [RejectReason, string]
}

/**
 * Publishes this node's signed announcement over gossipsub (at start, on change, on every
 * heartbeat, and once it first has a neighbour to hear it) and verifies those of others before
 * gossipsub forwards them: a message that fails is rejected, so it is neither delivered nor
 * spread. A new neighbour is handed the announcements this node knows directly (table-sync.ts).
 */
export class AnnounceService extends EventEmitter<AnnounceEvents> implements Startable {
  readonly heartbeatMs: number
  readonly #components: AnnounceComponents
  readonly #describe: () => AnnouncementContent
  readonly #topic: string
  readonly #goodbyeTimeoutMs: number
  readonly #log: Logger
  readonly #verified = new WeakMap<Message, Announcement>()
  /** the newest envelope of each peer heard of, for neighbours that ask; oldest first */
  readonly #envelopes = new Map<string, { seq: number, bytes: Uint8Array }>()
  readonly #current: (peerId: string) => boolean
  /** this node's newest signed announcement, for neighbours that ask (its seq may trail #seq when a publish failed) */
  #own?: { seq: number, bytes: Uint8Array }
  /**
   * Whether an announcement of ours went out while this node was in the topic's gossip mesh,
   * so that it spread to every node; until then it is sent again every REACH_RETRY_MS.
   */
  #reached = false
  #seq = 0
  #timer?: NodeJS.Timeout
  #soon?: NodeJS.Timeout
  #syncTimer?: NodeJS.Timeout
  /** the wait before the next ask while asking brings nothing */
  #idleSyncMs = SYNC_MS
  /** peers this node has heard of so far, by any path */
  #met = 0
  /**
   * Asks run one after another, each listing what the ones before brought: a node meeting its
   * first neighbours all at once would otherwise be sent the whole table by each of them.
   */
  #asks: Promise<void> = Promise.resolve()
  readonly #asking = new Set<string>()
  /** announcements taken from neighbours' tables so far */
  #taken = 0
  #started = false
  readonly #publishing = new SingleFlight(async () => { await this.#publish('up') }, () => this.#started)

  constructor (components: AnnounceComponents, init: AnnounceInit) {
    super()
    this.#components = components
    this.#describe = init.describe
    this.#topic = init.topic ?? ANNOUNCE_TOPIC
    this.heartbeatMs = init.heartbeatMs ?? DEFAULT_HEARTBEAT_MS
    this.#goodbyeTimeoutMs = init.goodbyeTimeoutMs ?? 500
    this.#current = init.current ?? (() => true)
    this.#log = components.logger.forComponent('wasmesh:announce')
  }

  readonly [Symbol.toStringTag] = 'wasmesh:announce'

  async start (): Promise<void> {
    await this.#components.registrar.handle(TABLE_SYNC_PROTOCOL, this.#onSync, { maxInboundStreams: 8, maxOutboundStreams: 8 })
  }

  /** Called by libp2p once every service has started: gossipsub is running now. */
  afterStart (): void {
    const { pubsub } = this.#components
    pubsub.topicValidators.set(this.#topic, this.#validate)
    pubsub.addEventListener('message', this.#onMessage)
    pubsub.addEventListener('subscription-change', this.#onSubscriptionChange)
    pubsub.subscribe(this.#topic)
    this.#started = true
    void this.announce()
    this.#idleSyncMs = SYNC_MS
    this.#nextSync(SYNC_MS)
  }

  async stop (): Promise<void> {
    this.#started = false
    clearTimeout(this.#timer)
    clearTimeout(this.#soon)
    clearTimeout(this.#syncTimer)
    const { pubsub } = this.#components
    pubsub.removeEventListener('message', this.#onMessage)
    pubsub.removeEventListener('subscription-change', this.#onSubscriptionChange)
    pubsub.topicValidators.delete(this.#topic)
    await this.#components.registrar.unhandle(TABLE_SYNC_PROTOCOL)
    await this.#publishing.settled()
  }

  /**
   * Publishes the announcement now. Calls made while one is being signed and sent coalesce
   * into one more, so the newest state always goes out and never twice at once.
   */
  async announce (): Promise<void> {
    if (!this.#started) return
    await this.#publishing.run()
  }

  /** Tells the mesh this node is leaving, so peers drop it at once; bounded by a timeout. */
  async sayGoodbye (): Promise<void> {
    if (!this.#started) return
    this.#started = false
    clearTimeout(this.#timer)
    clearTimeout(this.#soon)
    clearTimeout(this.#syncTimer)
    await this.#publishing.settled()
    let timeout: NodeJS.Timeout | undefined
    await Promise.race([
      this.#publish('leaving'),
      new Promise<void>(resolve => { timeout = setTimeout(resolve, this.#goodbyeTimeoutMs) })
    ]).finally(() => clearTimeout(timeout))
  }

  async #publish (state: Announcement['state']): Promise<void> {
    const { peerId, privateKey, pubsub } = this.#components
    this.#seq = nextSeq(this.#seq, Date.now())
    const announcement: Announcement = {
      v: 1,
      peerId: peerId.toString(),
      seq: this.#seq,
      state,
      heartbeatMs: this.heartbeatMs,
      ...this.#describe()
    }
    // The heartbeat is the longest silence: any announcement restarts its count.
    clearTimeout(this.#timer)
    if (state === 'up') {
      this.#timer = setTimeout(() => { void this.announce() }, this.heartbeatMs)
      this.#timer.unref()
    }
    const own = announcementSchema.safeParse(announcement)
    if (!own.success) {
      // Peers would drop it as malformed: say so here rather than be silently invisible.
      this.#log.error('not publishing an announcement peers would refuse: %s', own.error.issues.map(i => `${i.path.join('.')}: ${i.message}`).join('; '))
      return
    }
    try {
      const bytes = await sealAnnouncement(announcement, privateKey)
      if (state === 'up') this.#own = { seq: announcement.seq, bytes }
      const meshed = meshPeers(pubsub, this.#topic) > 0
      const { recipients } = await pubsub.publish(this.#topic, bytes)
      if (meshed && recipients.length > 0) this.#reached = true
    } catch (err) {
      this.#log.error('could not publish announcement - %e', err)
    }
    if (state === 'up' && this.#started && !this.#reached && this.#soon === undefined) this.#soonAnnounce(REACH_RETRY_MS)
  }

  readonly #validate = async (_propagatedBy: PeerId, msg: Message): Promise<TopicValidatorResult> => {
    const opened = await openAnnouncement(msg.data)
    if (!opened.ok) {
      this.#log('dropped announcement: %s (%s)', opened.reason, opened.detail)
      this.emit('rejected', opened.reason, opened.detail)
      return TopicValidatorResult.Reject
    }
    this.#verified.set(msg, opened.announcement)
    return TopicValidatorResult.Accept
  }

  readonly #onMessage = (evt: CustomEvent<Message>): void => {
    if (evt.detail.topic !== this.#topic) return
    const announcement = this.#verified.get(evt.detail)
    if (announcement === undefined) return
    // Remembered as delivered, not as validated: a validated message is not always delivered.
    this.#remember(announcement, evt.detail.data)
    this.emit('announcement', announcement)
  }

  #remember (ann: Announcement, bytes: Uint8Array): void {
    if (ann.state === 'leaving') {
      this.#envelopes.delete(ann.peerId)
      return
    }
    if (!isNewer(this.#envelopes, ann.peerId, ann.seq)) return
    if (!this.#envelopes.delete(ann.peerId)) this.#met++ // re-inserted last: the map's order is age
    this.#envelopes.set(ann.peerId, { seq: ann.seq, bytes })
    if (this.#envelopes.size > MAX_SYNC_ENTRIES) this.#envelopes.delete(this.#envelopes.keys().next().value as string)
  }

  /**
   * A neighbour joined the topic: this node asks it for the announcements it lacks (and the
   * neighbour asks this node). Until an announcement of ours went out through the mesh (the
   * first one, at start, usually reaches nobody), ours goes out again.
   */
  readonly #onSubscriptionChange = (evt: CustomEvent<SubscriptionChangeData>): void => {
    if (!evt.detail.subscriptions.some(s => s.subscribe && s.topic === this.#topic)) return
    if (!this.#started) return
    this.#askTable(evt.detail.peerId)
    if (this.#reached) return
    clearTimeout(this.#soon)
    this.#soonAnnounce(JOIN_ANSWER_DELAY_MS)
  }

  /**
   * Anti-entropy: what a random neighbour knows that this node missed. While asking brings news,
   * again within a second; while the mesh still grows, at the sync period; once it is settled,
   * less and less often.
   */
  #nextSync (delayMs: number): void {
    this.#syncTimer = setTimeout(() => {
      const neighbours = this.#components.pubsub.getSubscribers(this.#topic)
      const taken = this.#taken
      const met = this.#met
      if (neighbours.length > 0) this.#askTable(neighbours[Math.floor(Math.random() * neighbours.length)])
      void this.#asks.then(() => {
        if (!this.#started) return
        const next = nextSync(this.#idleSyncMs, { taken: this.#taken > taken, met: this.#met > met })
        this.#idleSyncMs = next.idleMs
        this.#nextSync(next.delayMs)
      })
    }, delayMs)
    this.#syncTimer.unref()
  }

  #soonAnnounce (delayMs: number): void {
    this.#soon = setTimeout(() => {
      this.#soon = undefined
      void this.announce()
    }, delayMs)
    this.#soon.unref()
  }

  #askTable (peer: PeerId): void {
    const id = peer.toString()
    if (this.#asking.has(id) || this.#asking.size >= MAX_QUEUED_ASKS) return
    this.#asking.add(id)
    this.#asks = this.#asks.then(async () => {
      try {
        if (this.#started) await this.#ask(peer)
      } finally {
        this.#asking.delete(id)
      }
    })
  }

  /** (Negotiated before the request is written: with lazy negotiation, requests went unanswered over TCP.) */
  async #ask (peer: PeerId): Promise<void> {
    const signal = AbortSignal.timeout(SYNC_TIMEOUT_MS)
    const self = this.#components.peerId.toString()
    const known: Known = []
    // Only current peers: a neighbour that lacks a departed peer's announcement is not asked to fetch it back.
    for (const [peerId, { seq }] of this.#envelopes) if (this.#current(peerId)) known.push([peerId, seq])
    let stream: Stream | undefined
    try {
      stream = await this.#components.connectionManager.openStream(peer, TABLE_SYNC_PROTOCOL, { signal, negotiateFully: true })
      for await (const bytes of askTable(stream, known, signal)) await this.#take(bytes, self)
      await stream.close({ signal }).catch(() => {})
    } catch (err) {
      stream?.abort(err as Error)
      this.#log('could not get the table of %p: %s', peer, (err as Error).message)
    }
  }

  /** One announcement a neighbour handed over: checked and taken if newer than what this node knows. */
  async #take (bytes: Uint8Array, self: string): Promise<void> {
    const peek = peekAnnouncement(bytes)
    if (peek === undefined || peek.peerId === self || !isNewer(this.#envelopes, peek.peerId, peek.seq)) return
    const opened = await openAnnouncement(bytes)
    if (!opened.ok) {
      this.emit('rejected', opened.reason, opened.detail)
      return
    }
    if (opened.announcement.state !== 'up') return
    this.#remember(opened.announcement, bytes)
    this.#taken++
    this.emit('announcement', opened.announcement)
  }

  /** A neighbour asks for the announcements it lacks: ours and those of current peers newer than what it has. */
  readonly #onSync = async (stream: Stream, connection: Connection): Promise<void> => {
    const signal = AbortSignal.timeout(SYNC_TIMEOUT_MS)
    const asker = connection.remotePeer.toString()
    const self = this.#components.peerId.toString()
    try {
      await answerTable(stream, (known) => {
        // Push as well as pull: what the asker has that this node lacks, this node asks back for.
        if (this.#started && knowsNewer(known, this.#envelopes, self)) this.#askTable(connection.remotePeer)
        const picked: Uint8Array[] = []
        if (this.#own !== undefined && (known.get(self) ?? -1) < this.#own.seq) picked.push(this.#own.bytes)
        for (const [peerId, { seq, bytes }] of this.#envelopes) {
          if (peerId !== asker && (known.get(peerId) ?? -1) < seq && this.#current(peerId)) picked.push(bytes)
        }
        return picked
      }, signal)
    } catch (err) {
      this.#log('table for %p failed: %s', connection.remotePeer, (err as Error).message)
      stream.abort(err as Error)
    }
  }
}

/**
 * The wait before the next anti-entropy ask, and the idle wait after it, from what happened since
 * the last ask: it brought announcements (`taken`): soon; new peers were heard of by any path
 * (`met`: the mesh still grows, and some node may lack what this one lacks): the sync period;
 * neither: the idle wait, doubling up to MAX_SYNC_MS (in a settled mesh of hundreds, every ask
 * moves a whole table to bring nothing). Pure.
 */
export function nextSync (idleMs: number, since: { taken: boolean, met: boolean }): { delayMs: number, idleMs: number } {
  if (since.taken) return { delayMs: SYNC_SOON_MS, idleMs: SYNC_MS }
  if (since.met) return { delayMs: SYNC_MS, idleMs: SYNC_MS }
  return { delayMs: idleMs, idleMs: Math.min(idleMs * 2, MAX_SYNC_MS) }
}

/** Whether `seq` is newer than the envelope `envelopes` holds for `peerId` (or there is none). */
function isNewer (envelopes: ReadonlyMap<string, { seq: number }>, peerId: string, seq: number): boolean {
  return (envelopes.get(peerId)?.seq ?? -1) < seq
}

/** Whether `known` (an asker's peer ids and sequences) holds an announcement newer than this node's `envelopes`, its own aside. Pure. */
export function knowsNewer (known: ReadonlyMap<string, number>, envelopes: ReadonlyMap<string, { seq: number }>, self: string): boolean {
  for (const [peerId, seq] of known) {
    if (peerId !== self && isNewer(envelopes, peerId, seq)) return true
  }
  return false
}

/** Peers in this node's gossip mesh for `topic` (the implementation has it; the exported interface does not say so). */
function meshPeers (pubsub: GossipSub, topic: string): number {
  return (pubsub as unknown as { getMeshPeers?: (topic: string) => string[] }).getMeshPeers?.(topic).length ?? 0
}
