import { peerIdFromString } from '@libp2p/peer-id'
import { CID } from 'multiformats/cid'
import { WasmeshError } from '../../errors.ts'
import { involves, participants } from '../../protocols/deploy/index.ts'
import { learnAddrs } from '../peer-addrs.ts'
import { CallRouter } from './call-router.ts'
import { Coordinator, audience } from './coordinator.ts'
import { DeploymentBook } from './deployment-book.ts'
import { HostedSteps } from './hosted-steps.ts'
import { DEFAULT_DEPLOY_OPTIONS } from './options.ts'
import { parseManifest } from './manifest.ts'
import { aheadOf, succession } from './placement.ts'
import type { Entry } from './call-router.ts'
import type { Logger, PeerId } from '@libp2p/interface'
import type { DeployOptions } from './options.ts'
import type { PlacementPeer } from './placement.ts'
import type { Load } from '../../protocols/announce/index.ts'
import type { CallService } from '../../protocols/call/index.ts'
import type { CallAnswer } from '../../protocols/call/messages.ts'
import type { Bid, DeployAccepted, DeployRequest, DeployService, DeploymentRecord } from '../../protocols/deploy/index.ts'
import type { WasmRuntime } from '../../wasm/runtime/index.ts'
import type { SkillDescriptor } from '../../wasm/skills/descriptor.ts'
import type { ModuleStore } from '../modules/module-store.ts'
import type { PeerTable } from '../peer-table.ts'
import type { Libp2p } from '@libp2p/interface'
import type { Datastore } from 'interface-datastore'

export interface DeploymentsInit {
  libp2p: Libp2p<{ deploy: DeployService, call: CallService }>
  name: string
  peers: PeerTable
  modules: ModuleStore
  runtime: WasmRuntime
  datastore: Datastore
  stepsDir: string
  skills: () => readonly SkillDescriptor[]
  load: () => Load
  fetchTimeoutMs: number
  options?: Partial<DeployOptions>
}

/**
 * This node's part in deployments: coordinator of those submitted here, host of the steps it
 * won, router of calls for all of them. No node is in charge of all: each deployment has its
 * coordinator (holding a lease it renews with each participant directly); when that one is
 * gone, the lowest live participant takes over.
 */
export class Deployments {
  readonly options: DeployOptions
  readonly book: DeploymentBook
  readonly steps: HostedSteps
  readonly router: CallRouter
  readonly #init: DeploymentsInit
  readonly #self: string
  readonly #coordinator: Coordinator
  /**
   * Peers whose connection dropped and which did not answer a dial, with when: gone until heard
   * from again (an announcement after that time), which after a partition heals may come
   * through gossip only, with no direct connection to clear it.
   */
  readonly #gone = new Map<string, number>()
  /** when each deployment's coordinator was last heard from */
  readonly #heardAt = new Map<string, number>()
  /** when a newer record was last re-published in answer to an older one, per deployment */
  readonly #answeredAt = new Map<string, number>()
  /**
   * Records restored from disk may be stale: until a lease period has passed (time to hear a
   * newer one), this node neither heals nor takes over those.
   */
  readonly #restored = new Set<string>()
  #quietUntil = 0
  readonly #log: Logger
  #timer?: NodeJS.Timeout
  #stopped = false
  /** when this node last gossiped each record it coordinates */
  readonly #publishedAt = new Map<string, number>()
  /** deployment and peer pairs with a commit or renewal on its way */
  readonly #telling = new Set<string>()
  /** peers being dialled to learn whether they are gone */
  readonly #probing = new Set<string>()
  /**
   * Peers ahead of this node in a succession that did not answer its dial, and when: passed over
   * when working out who takes over (only there: a dial that was merely slow must not move steps
   * or calls off a live peer), until heard from again.
   */
  readonly #unanswered = new Map<string, number>()
  /** newcomers told directly since the last tick (see joinTellsPerRenewal) */
  #joinTells = 0

  constructor (init: DeploymentsInit) {
    this.#init = init
    this.options = { ...DEFAULT_DEPLOY_OPTIONS, ...init.options }
    this.#self = init.libp2p.peerId.toString()
    this.book = new DeploymentBook(init.datastore, this.#self)
    // One logger per node (DEBUG=wasmesh:deployments*): a simulator runs hundreds in one process.
    this.#log = init.libp2p.logger.forComponent(`wasmesh:deployments:${init.name}`)
    // Messages may hold error text: never read as format codes.
    const log = (message: string): void => { this.#log('%s', message) }
    this.steps = new HostedSteps({
      self: this.#self,
      modules: init.modules,
      runtime: init.runtime,
      stepsDir: init.stepsDir,
      fetchTimeoutMs: init.fetchTimeoutMs,
      preparedTtlMs: this.options.preparedTtlMs,
      maxOutputBytes: this.options.maxCallFileBytes,
      log
    })
    this.#coordinator = new Coordinator({
      self: this.#self,
      options: this.options,
      modules: init.modules,
      placementPeers: () => this.#placementPeers(),
      alive: (p) => this.#alive(p),
      ask: async (peerId, req, timeoutMs) => await this.#ask(peerId, req, timeoutMs),
      commit: async (record, previous) => { await this.#commit(record, previous) },
      log
    })
    this.router = new CallRouter({
      self: this.#self,
      book: this.book,
      steps: this.steps,
      guestTimeoutMs: init.runtime.limits.callTimeoutMs,
      usable: (p) => this.#alive(p),
      send: async (peerId, req, signal) => await init.libp2p.services.call.call(peerId, req, { signal })
    })
  }

  /** Comes back to the deployments kept on disk and starts taking requests. */
  async start (): Promise<void> {
    const { libp2p } = this.#init
    this.#quietUntil = Date.now() + this.options.leaseMs
    for (const record of await this.book.restore()) {
      this.#restored.add(record.id)
      this.#heardAt.set(record.id, Date.now())
      this.steps.commit(record)
    }
    libp2p.services.deploy.handle(async (req) => await this.#handle(req))
    libp2p.services.deploy.on('record', (record) => { void this.#received(record) })
    libp2p.services.call.handle(this.router.handle)
    libp2p.addEventListener('peer:disconnect', this.#onDisconnect)
    libp2p.addEventListener('peer:connect', this.#onConnect)
    this.#init.peers.on('leave', this.#onLeave)
    this.#init.peers.on('join', this.#onJoin)
    this.#timer = setInterval(() => { this.#tick() }, this.options.leaseRenewMs)
    this.#timer.unref()
  }

  async stop (): Promise<void> {
    this.#stopped = true
    clearInterval(this.#timer)
    const { libp2p } = this.#init
    libp2p.removeEventListener('peer:disconnect', this.#onDisconnect)
    libp2p.removeEventListener('peer:connect', this.#onConnect)
    this.#init.peers.off('leave', this.#onLeave)
    this.#init.peers.off('join', this.#onJoin)
    await this.steps.close()
  }

  async deploy (input: unknown): Promise<DeploymentRecord> {
    return await this.#coordinator.deploy(parseManifest(input))
  }

  async undeploy (ref: string): Promise<DeploymentRecord> {
    return await this.#coordinator.undeploy(this.book.find(ref))
  }

  async call (entry: Entry): Promise<CallAnswer> {
    return await this.router.call(entry)
  }

  list (): DeploymentRecord[] {
    return this.book.list()
  }

  get (ref: string): DeploymentRecord {
    return this.book.find(ref)
  }

  /** The node's name for a peer id (itself included), for views. */
  nameOf (peerId: string): string {
    return peerId === this.#self ? this.#init.name : this.#init.peers.get(peerId)?.name ?? peerId
  }

  async #handle (req: DeployRequest): Promise<DeployAccepted> {
    switch (req.type) {
      case 'bid':
        return { ok: true, bid: this.#bid(req.cid) }
      case 'prepare':
        if (!req.record.steps[req.step]?.peers.includes(this.#self)) throw new WasmeshError('bad-request', `step ${req.step} is not awarded to this node`)
        await this.steps.prepare(req.record, req.step, req.holders)
        return { ok: true }
      case 'commit':
        await this.#received(req.record)
        return { ok: true }
      case 'abort':
        this.steps.abort(req.deployment, req.version)
        return { ok: true }
    }
  }

  /** A record from a peer (commit or gossip): taken if newer; the coordinator's renewals refresh its lease. */
  async #received (record: DeploymentRecord): Promise<void> {
    if (this.#stopped) return
    const known = this.book.latest(record.id)
    if (known !== undefined && known.version === record.version && known.coordinator === record.coordinator && known.status === record.status) {
      this.#heardAt.set(record.id, Date.now())
      return
    }
    const previous = await this.book.apply(record)
    if (previous === false) {
      // Someone still spreads an older record (back from a restart, or cut off for a while): tell it.
      if (known !== undefined) this.#answerStale(known)
      return
    }
    if (record.status === 'removed') this.#heardAt.delete(record.id)
    else this.#heardAt.set(record.id, Date.now())
    if (record.status === 'removed' || record.coordinator !== this.#self) this.#publishedAt.delete(record.id)
    this.steps.commit(record)
    this.#keepModules(record)
  }

  /**
   * A participant keeps a copy of every module of the deployment, so that whichever node takes
   * over or re-places a step finds the module on a live peer, not only on the one that left.
   */
  #keepModules (record: DeploymentRecord): void {
    if (record.status === 'removed' || !participants(record).includes(this.#self)) return
    const { modules } = this.#init
    for (const step of record.steps) {
      if (modules.local(step.cid) !== undefined) continue
      modules.fetch(CID.parse(step.cid), { timeoutMs: this.#init.fetchTimeoutMs, descriptionCid: step.descriptionCid })
        .catch((err: Error) => { this.#log('keeping module %s: %s', step.cid, err.message) })
    }
  }

  /** Re-publishes a newer record than one just heard, at most once a lease period per deployment. */
  #answerStale (newer: DeploymentRecord): void {
    const now = Date.now()
    if ((this.#answeredAt.get(newer.id) ?? 0) + this.options.leaseRenewMs > now) return
    this.#answeredAt.set(newer.id, now)
    if (this.#answeredAt.size > 4096) this.#answeredAt.delete(this.#answeredAt.keys().next().value as string)
    void this.#publish(newer)
  }

  /** Takes a decided record here, tells everyone concerned directly, then the mesh by gossip. */
  async #commit (record: DeploymentRecord, previous: DeploymentRecord | undefined): Promise<void> {
    // A record that lost to a newer one meanwhile (another node's heal or removal) is dropped.
    if (await this.book.apply(record) === false) return
    if (this.#log.enabled) this.#log('committing %s v%d (%s, coordinator %s): %s', record.id, record.version, record.status, this.nameOf(record.coordinator), record.steps.map(s => s.peers.map(p => this.nameOf(p)).join('+')).join(' | '))
    if (record.status === 'removed') this.#heardAt.delete(record.id)
    else this.#heardAt.set(record.id, Date.now())
    this.steps.commit(record)
    this.#keepModules(record)
    const others = audience(record, previous).filter(p => p !== this.#self && this.#alive(p))
    await Promise.allSettled(others.map(async p => {
      await this.#ask(p, { type: 'commit', record }, this.options.commitTimeoutMs)
    }))
    await this.#publish(record)
  }

  async #ask (peerId: string, req: DeployRequest, timeoutMs: number, openTimeoutMs = this.options.openTimeoutMs): Promise<DeployAccepted> {
    if (peerId === this.#self) return await this.#handle(req)
    await learnAddrs(this.#init.libp2p, this.#init.peers, peerId)
    return await this.#init.libp2p.services.deploy.ask(peerId, req, timeoutMs, openTimeoutMs)
  }

  /** Each lease period: renews the leases this node holds (and now and then re-publishes them), then reviews. */
  #tick (): void {
    if (this.#stopped) return
    const now = Date.now()
    this.#joinTells = 0
    for (const record of this.book.list()) {
      if (record.coordinator !== this.#self) continue
      for (const p of participants(record)) this.#tell(p, record)
      if (now - (this.#publishedAt.get(record.id) ?? 0) >= this.options.republishMs) void this.#publish(record)
    }
    this.#review()
  }

  /** Gossips a record; one this node coordinates counts as its periodic re-publication. */
  async #publish (record: DeploymentRecord): Promise<void> {
    if (record.status !== 'removed' && record.coordinator === this.#self) this.#publishedAt.set(record.id, Date.now())
    else this.#publishedAt.delete(record.id)
    await this.#init.libp2p.services.deploy.publish(record)
  }

  /**
   * Sends a record to one peer as a commit (a renewal when unchanged); one at a time per peer and
   * deployment. Also to a peer this node thinks gone: it may be alive and only unreachable from
   * here, and it must not take over for want of a renewal while its replacement is being placed.
   * Within the lease: the open gets half of it, the answer a renewal period.
   */
  #tell (peerId: string, record: DeploymentRecord): void {
    const key = `${record.id} ${peerId}`
    if (peerId === this.#self || this.#telling.has(key)) return
    this.#telling.add(key)
    this.#ask(peerId, { type: 'commit', record }, this.options.leaseRenewMs, this.options.leaseMs / 2)
      .catch((err: Error) => { this.#log('telling %s of %s: %s', this.nameOf(peerId), record.id, err.message) })
      .finally(() => { this.#telling.delete(key) })
  }

  /**
   * Heals what lost hosts among the deployments this node coordinates, and takes over those whose
   * coordinator is gone. It only starts heals, so a burst of departures costs a scan each.
   */
  #review (): void {
    if (this.#stopped) return
    const now = Date.now()
    if (now >= this.#quietUntil) this.#restored.clear()
    let everyone: string[] | undefined
    for (const record of this.book.list()) {
      const quiet = this.#restored.has(record.id)
      if (record.coordinator === this.#self) {
        if (!quiet && this.#needsHealing(record)) this.#heal(record)
        continue
      }
      if (quiet) continue
      // (involves: the coordinator is not this node here, so it asks whether this node hosts a step)
      const leaseMs = involves(record, this.#self) ? this.options.leaseMs : this.options.leaseMs + 2 * this.options.republishMs
      const silentMs = now - (this.#heardAt.get(record.id) ?? now)
      const lapsed = !this.#alive(record.coordinator) || silentMs > leaseMs
      if (!lapsed) continue
      // one more for each renewal period the deployment stays without a coordinator past its lease
      const ahead = this.options.probeAhead + Math.max(0, Math.floor((silentMs - leaseMs) / this.options.leaseRenewMs))
      const order = succession(record, (p) => this.#inLine(p), () => (everyone ??= [this.#self, ...this.#init.peers.list().map(p => p.peerId)]), ahead + 1)
      if (order[0] === this.#self) {
        this.#log('taking over %s from %s', record.id, this.nameOf(record.coordinator))
        this.#heal(record)
      } else {
        for (const p of aheadOf(order, this.#self, ahead)) this.#probeIfUnconnected(p)
      }
    }
  }

  /** Starts re-placing a deployment (one round at a time each, the coordinator sees to that) without holding up the review of the others. */
  #heal (record: DeploymentRecord): void {
    this.#coordinator.heal(record).catch((err: Error) => { this.#log('healing %s failed: %s', record.id, err.message) })
  }

  #needsHealing (record: DeploymentRecord): boolean {
    return record.status === 'degraded' || record.steps.some(s => s.peers.some(p => !this.#alive(p)))
  }

  /**
   * A peer new to this node hears at once of the deployments this node coordinates, rather than
   * at the next re-publication: directly while few join, by gossip at the next tick when many do.
   */
  readonly #onJoin = (entry: { peerId: string }): void => {
    if (this.#stopped) return
    const mine = this.book.list().filter(r => r.coordinator === this.#self)
    if (mine.length === 0) return
    if (this.#joinTells < this.options.joinTellsPerRenewal) {
      this.#joinTells++
      for (const record of mine) this.#tell(entry.peerId, record)
    } else {
      for (const record of mine) this.#publishedAt.delete(record.id) // due at the next tick
    }
  }

  /** Heals at once what a departed peer hosted, rather than at the next tick. */
  readonly #onLeave = (entry: { peerId: string }): void => {
    // out of the table: not alive either way, and the maps stay bounded
    this.#gone.delete(entry.peerId)
    this.#unanswered.delete(entry.peerId)
    this.#review()
  }

  readonly #onConnect = (evt: CustomEvent<{ toString: () => string }>): void => {
    this.#gone.delete(evt.detail.toString())
    this.#unanswered.delete(evt.detail.toString())
  }

  /**
   * A dropped connection may be a hiccup or a dead peer: a dial tells which, in well under a
   * heartbeat. Only peers this node depends on for a deployment are probed.
   */
  readonly #onDisconnect = (evt: CustomEvent<PeerId>): void => {
    if (this.#stopped || !this.book.involves(evt.detail.toString())) return
    this.#probe(evt.detail, this.#gone)
  }

  #probeIfUnconnected (peerId: string): void {
    let peer: PeerId
    try {
      peer = peerIdFromString(peerId)
    } catch {
      return // not a peer id (a table entry from an unsigned source): never dialled, never the successor's business
    }
    if (this.#init.libp2p.getConnections(peer).length === 0) this.#probe(peer, this.#unanswered)
  }

  /** Dials the peer: one that does not answer within probeTimeoutMs is marked in `marks` until heard from again, and the deployments are reviewed. */
  #probe (peer: PeerId, marks: Map<string, number>): void {
    const peerId = peer.toString()
    if (this.#probing.has(peerId)) return
    this.#probing.add(peerId)
    const { libp2p } = this.#init
    learnAddrs(libp2p, this.#init.peers, peerId)
      .then(async () => { await libp2p.dial(peer, { signal: AbortSignal.timeout(this.options.probeTimeoutMs) }) })
      .then(
        () => { marks.delete(peerId) },
        () => {
          if (this.#stopped || libp2p.getConnections(peer).length > 0) return
          marks.set(peerId, Date.now())
          this.#review()
        })
      .finally(() => { this.#probing.delete(peerId) })
  }

  #alive (peerId: string): boolean {
    if (peerId === this.#self) return true
    const entry = this.#init.peers.get(peerId)
    return entry !== undefined && !this.#markedSince(this.#gone, peerId, entry.lastSeenMs)
  }

  /** Whether the peer may take over a deployment: alive, and it answered any dial of a succession probe. */
  #inLine (peerId: string): boolean {
    if (peerId === this.#self) return true
    const entry = this.#init.peers.get(peerId)
    return entry !== undefined && !this.#markedSince(this.#gone, peerId, entry.lastSeenMs) && !this.#markedSince(this.#unanswered, peerId, entry.lastSeenMs)
  }

  /** Whether the peer was marked in `marks` and not heard from since; forgets the mark once heard from. */
  #markedSince (marks: Map<string, number>, peerId: string, lastSeenMs: number): boolean {
    const markedAt = marks.get(peerId)
    if (markedAt === undefined) return false
    if (lastSeenMs <= markedAt) return true
    marks.delete(peerId)
    return false
  }

  #placementPeers (): PlacementPeer[] {
    const self: PlacementPeer = { peerId: this.#self, name: this.#init.name, skills: this.#init.skills(), load: this.#init.load() }
    const others = this.#init.peers.list()
      .filter(p => !this.#markedSince(this.#gone, p.peerId, p.lastSeenMs))
      .map(p => ({ peerId: p.peerId, name: p.name, skills: p.skills, load: p.load }))
    return [self, ...others]
  }

  #bid (cid: string): Bid {
    const { freeMem, cpu, instances } = this.#init.load()
    return { freeMem, cpu, instances, cached: this.#init.modules.local(cid) !== undefined }
  }
}
