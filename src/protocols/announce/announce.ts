import { EventEmitter } from 'node:events'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import { announcementSchema, nextSeq, openAnnouncement, sealAnnouncement } from './announcement.ts'
import { ANNOUNCE_TOPIC, DEFAULT_HEARTBEAT_MS, JOIN_ANSWER_DELAY_MS } from './constants.ts'
import type { Announcement, RejectReason } from './announcement.ts'
import type { GossipSub, Message, SubscriptionChangeData } from '@libp2p/gossipsub'
import type { ComponentLogger, Logger, PeerId, PrivateKey, Startable } from '@libp2p/interface'

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
}

export interface AnnounceComponents {
  peerId: PeerId
  privateKey: PrivateKey
  pubsub: GossipSub
  logger: ComponentLogger
}

export interface AnnounceEvents {
  /** A verified announcement of another peer. */
  announcement: [Announcement]
  /** A message on the topic that was dropped, and why. */
  rejected: [RejectReason, string]
}

/**
 * Publishes this node's signed announcement over gossipsub (at start, on change, on every
 * heartbeat and when a peer joins the topic) and verifies those of others before gossipsub
 * forwards them: a message that fails is rejected, so it is neither delivered nor spread.
 */
export class AnnounceService extends EventEmitter<AnnounceEvents> implements Startable {
  readonly heartbeatMs: number
  readonly #components: AnnounceComponents
  readonly #describe: () => AnnouncementContent
  readonly #topic: string
  readonly #goodbyeTimeoutMs: number
  readonly #log: Logger
  readonly #verified = new WeakMap<Message, Announcement>()
  #seq = 0
  #timer?: NodeJS.Timeout
  #soon?: NodeJS.Timeout
  #inFlight?: Promise<void>
  #again = false
  #lastPublishedAt = 0
  #started = false

  constructor (components: AnnounceComponents, init: AnnounceInit) {
    super()
    this.#components = components
    this.#describe = init.describe
    this.#topic = init.topic ?? ANNOUNCE_TOPIC
    this.heartbeatMs = init.heartbeatMs ?? DEFAULT_HEARTBEAT_MS
    this.#goodbyeTimeoutMs = init.goodbyeTimeoutMs ?? 500
    this.#log = components.logger.forComponent('wasmesh:announce')
  }

  readonly [Symbol.toStringTag] = 'wasmesh:announce'

  async start (): Promise<void> {}

  /** Called by libp2p once every service has started: gossipsub is running now. */
  afterStart (): void {
    const { pubsub } = this.#components
    pubsub.topicValidators.set(this.#topic, this.#validate)
    pubsub.addEventListener('message', this.#onMessage)
    pubsub.addEventListener('subscription-change', this.#onSubscriptionChange)
    pubsub.subscribe(this.#topic)
    this.#started = true
    void this.announce()
  }

  async stop (): Promise<void> {
    this.#started = false
    clearTimeout(this.#timer)
    clearTimeout(this.#soon)
    const { pubsub } = this.#components
    pubsub.removeEventListener('message', this.#onMessage)
    pubsub.removeEventListener('subscription-change', this.#onSubscriptionChange)
    pubsub.topicValidators.delete(this.#topic)
    await this.#inFlight?.catch(() => {})
  }

  /**
   * Publishes the announcement now. Calls made while one is being signed and sent coalesce
   * into one more, so the newest state always goes out and never twice at once.
   */
  async announce (): Promise<void> {
    if (!this.#started) return
    if (this.#inFlight !== undefined) {
      this.#again = true
      return this.#inFlight
    }
    this.#inFlight = (async () => {
      do {
        this.#again = false
        await this.#publish('up')
      } while (this.#again && this.#started)
    })().finally(() => { this.#inFlight = undefined })
    return this.#inFlight
  }

  /** Tells the mesh this node is leaving, so peers drop it at once; bounded by a timeout. */
  async sayGoodbye (): Promise<void> {
    if (!this.#started) return
    this.#started = false
    clearTimeout(this.#timer)
    clearTimeout(this.#soon)
    await this.#inFlight?.catch(() => {})
    let timeout: NodeJS.Timeout | undefined
    await Promise.race([
      this.#publish('leaving'),
      new Promise<void>(resolve => { timeout = setTimeout(resolve, this.#goodbyeTimeoutMs) })
    ]).finally(() => clearTimeout(timeout))
  }

  async #publish (state: Announcement['state']): Promise<void> {
    const { peerId, privateKey, pubsub } = this.#components
    this.#lastPublishedAt = Date.now()
    this.#seq = nextSeq(this.#seq, this.#lastPublishedAt)
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
      await pubsub.publish(this.#topic, await sealAnnouncement(announcement, privateKey))
    } catch (err) {
      this.#log.error('could not publish announcement - %e', err)
    }
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
    if (announcement !== undefined) this.emit('announcement', announcement)
  }

  /**
   * A peer that just joined the topic learns of us soon rather than at the next heartbeat. The
   * announcement goes to the whole mesh, so joins are answered together, at most once per
   * quarter heartbeat: a node meeting its neighbours one by one does not flood everyone.
   */
  readonly #onSubscriptionChange = (evt: CustomEvent<SubscriptionChangeData>): void => {
    if (!evt.detail.subscriptions.some(s => s.subscribe && s.topic === this.#topic)) return
    if (this.#soon !== undefined || !this.#started) return
    const wait = Math.max(JOIN_ANSWER_DELAY_MS, this.#lastPublishedAt + this.heartbeatMs / 4 - Date.now())
    this.#soon = setTimeout(() => {
      this.#soon = undefined
      void this.announce()
    }, wait)
  }
}
