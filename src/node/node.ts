import { createHash } from 'node:crypto'
import { hostname, networkInterfaces } from 'node:os'
import { gossipsub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { WasmeshError } from '../errors.ts'
import { NODE_NAME } from '../protocols/announce/node-name.ts'
import { ANNOUNCE_TOPIC, DEFAULT_HEARTBEAT_MS, DEFAULT_MISSED_HEARTBEATS, MAX_ANNOUNCED_ADDRS, announce } from '../protocols/announce/index.ts'
import { DEFAULT_FETCH_TIMEOUT_MS, MAX_ANNOUNCED_MODULES, moduleExchange } from '../protocols/modules/index.ts'
import { skillBeacon } from '../protocols/skill-beacon/index.ts'
import { callService } from '../protocols/call/index.ts'
import { DEPLOYMENTS_TOPIC, deployProtocol } from '../protocols/deploy/index.ts'
import { Deployments } from './deployments/deployments.ts'
import { DEFAULT_DEPLOY_OPTIONS } from './deployments/options.ts'
import type { DeployOptions } from './deployments/options.ts'
import type { CallService } from '../protocols/call/index.ts'
import type { DeployService } from '../protocols/deploy/index.ts'
import { DEFAULT_MODULE_LIMITS } from '../wasm/limits.ts'
import { WasmRuntime } from '../wasm/runtime/index.ts'
import { skillsDigest } from '../wasm/skills/descriptor.ts'
import { skillDescriptors } from '../wasm/skills/skills-file.ts'
import { learnAddrs } from './peer-addrs.ts'
import { PeerDialer } from './peer-dialer.ts'
import { advertisedHttpUrl } from './http-url.ts'
import { NodeMetrics } from './metrics.ts'
import { PeerTable } from './peer-table.ts'
import { startHttpApi } from './http/server.ts'
import { ModuleStore } from './modules/module-store.ts'
import type { RemoteHolding } from './modules/module-store.ts'
import type { ModuleExchange } from '../protocols/modules/index.ts'
import type { ModuleLimits } from '../wasm/limits.ts'
import type { NodeParts } from './parts.ts'
import type { AnnounceService, AnnouncementContent } from '../protocols/announce/index.ts'
import type { SkillBeacon, SkillSummary } from '../protocols/skill-beacon/index.ts'
import type { SkillDescriptor } from '../wasm/skills/descriptor.ts'
import type { ConfiguredSkill } from '../wasm/skills/skills-file.ts'
import type { HttpApi } from './http/server.ts'
import type { GossipSub } from '@libp2p/gossipsub'
import type { Identify } from '@libp2p/identify'
import type { Libp2p } from '@libp2p/interface'
import type { Ping } from '@libp2p/ping'

export interface NodeOptions {
  /** Human name, announced with the peer id (default: the host name). */
  name?: string
  /** Skills from the skills file; `sys` is always offered besides. */
  skills?: ConfiguredSkill[]
  /** Where to serve the HTTP API; false for none (simulation). */
  http?: { host: string, port: number } | false
  /** Re-announce period (default 2 s). */
  heartbeatMs?: number
  /** Heartbeats a peer may miss before it is dropped (default 3). */
  missedHeartbeats?: number
  /** How long the higher peer id waits before dialing a discovered peer itself (default 300 ms). */
  dialFallbackMs?: number
  /** What modules this node accepts (size, memory); see src/wasm/limits.ts for the defaults. */
  limits?: Partial<ModuleLimits>
  /** How long fetching a module from peers may take before it fails with `not-found` (default 20 s). */
  fetchTimeoutMs?: number
  /** Placement, leases and calls; see src/node/deployments/options.ts for the defaults. */
  deploy?: Partial<DeployOptions>
  parts: NodeParts
}

export const NODE_DEFAULTS = {
  heartbeatMs: DEFAULT_HEARTBEAT_MS,
  missedHeartbeats: DEFAULT_MISSED_HEARTBEATS,
  dialFallbackMs: 300,
  /** Largest gossip message accepted at all (announcements are checked against their own, lower limit). */
  maxGossipBytes: 256 * 1024
} as const

/** The gossip topics wasmesh uses; messages on any other topic are refused. */
const TOPICS = [ANNOUNCE_TOPIC, DEPLOYMENTS_TOPIC]

export type NodeServices = {
  identify: Identify
  ping: Ping
  pubsub: GossipSub
  announce: AnnounceService
  deploy: DeployService
  call: CallService
  beacon?: SkillBeacon
}

/**
 * A wasmesh node: libp2p (transport, discovery, gossipsub), the announce protocol, the peer
 * table it feeds, and the HTTP API. Everything that varies between a device and the simulator
 * comes in through `parts`.
 */
export class WasmeshNode {
  readonly name: string
  readonly libp2p: Libp2p<NodeServices>
  readonly peers: PeerTable
  readonly metrics: NodeMetrics
  readonly modules: ModuleStore
  /** runs this node's guests; its instance count goes out in the announced load */
  readonly runtime: WasmRuntime
  /** deployments this node coordinates, hosts steps of, or routes calls for */
  readonly deployments: Deployments
  readonly #exchange: ModuleExchange
  #skills: SkillDescriptor[]
  #http?: HttpApi
  #startedAt = 0
  #sweeper?: NodeJS.Timeout
  #announcedAddrs = ''
  readonly #dialer: PeerDialer
  readonly #opts: NodeOptions

  private constructor (opts: NodeOptions, libp2p: Libp2p<NodeServices>, skills: SkillDescriptor[], name: string) {
    this.#opts = opts
    this.name = name
    this.libp2p = libp2p
    this.#skills = skills
    this.peers = new PeerTable({
      self: libp2p.peerId.toString(),
      missedHeartbeats: opts.missedHeartbeats ?? NODE_DEFAULTS.missedHeartbeats,
      defaultHeartbeatMs: opts.heartbeatMs ?? NODE_DEFAULTS.heartbeatMs
    })
    this.metrics = new NodeMetrics(() => this.peers.size, opts.parts.processMetrics)
    this.#dialer = new PeerDialer(libp2p, opts.dialFallbackMs ?? NODE_DEFAULTS.dialFallbackMs)
    const { stores } = opts.parts
    this.#exchange = moduleExchange({
      libp2p,
      blockstore: stores.blockstore,
      datastore: stores.datastore,
      findHolders: (cid) => this.#remoteHoldings({ cid }).map(h => ({ peerId: h.peerId, addrs: this.peers.get(h.peerId)?.addrs ?? [] }))
    })
    this.runtime = new WasmRuntime({ skills: opts.skills ?? [], limits: opts.limits })
    this.modules = new ModuleStore({
      exchange: this.#exchange,
      datastore: stores.datastore,
      limits: { ...DEFAULT_MODULE_LIMITS, ...opts.limits },
      fetchTimeoutMs: opts.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS,
      remoteHoldings: (match) => this.#remoteHoldings(match),
      onChange: () => { void this.libp2p.services.announce.announce() }
    })
    this.deployments = new Deployments({
      libp2p,
      name,
      peers: this.peers,
      modules: this.modules,
      runtime: this.runtime,
      datastore: stores.datastore,
      stepsDir: stores.stepsDir,
      skills: () => this.#skills,
      load: () => ({ ...opts.parts.load(), instances: this.runtime.instances }),
      fetchTimeoutMs: opts.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS,
      options: opts.deploy
    })
    this.#wire()
  }

  static async create (opts: NodeOptions): Promise<WasmeshNode> {
    const { parts } = opts
    const name = opts.name ?? hostname().slice(0, 64)
    if (!NODE_NAME.test(name)) throw new WasmeshError('bad-request', `name: "${name}" must be 1 to 64 characters, none of them control characters`, { field: 'name' })
    const skills = skillDescriptors(opts.skills ?? [])
    let node: WasmeshNode | undefined
    const services: Record<string, (components: any) => unknown> = {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub({
        allowPublishToZeroTopicPeers: true,
        ignoreDuplicatePublishError: true,
        // Every LAN peer shares one NAT or subnet, often one IP: colocation scoring would
        // graylist them and stop gossip (FIELD-NOTES.md).
        scoreParams: { IPColocationFactorWeight: 0 },
        // Announcements are signed envelopes checked by their topic's validator; gossipsub's
        // own per-message signature would be a second one, checked by every node for every
        // copy (half the CPU of a converging mesh, measured). Deployment records are checked
        // for shape only (signing them is still to do: see the README).
        globalSignaturePolicy: 'StrictNoSign',
        D: 4,
        Dlo: 3,
        Dhi: 6,
        Dlazy: 4,
        idontwantMinDataSize: 16 * 1024,
        maxInboundDataLength: NODE_DEFAULTS.maxGossipBytes,
        allowedTopics: TOPICS,
        // Recognise copies of a message before checking its signature: most of what a node
        // receives in a dense mesh is copies, and the signature check is the costly part.
        fastMsgIdFn: fastMessageId
      }),
      deploy: deployProtocol(),
      call: callService({
        maxFileBytes: opts.deploy?.maxCallFileBytes ?? DEFAULT_DEPLOY_OPTIONS.maxCallFileBytes,
        beforeOpen: async (peerId) => { if (node !== undefined) await learnAddrs(node.libp2p, node.peers, peerId) }
      }),
      announce: announce({
        heartbeatMs: opts.heartbeatMs ?? NODE_DEFAULTS.heartbeatMs,
        // Passed on to new neighbours: peers heard of through signed announcements and not gone since.
        current: (peerId) => node?.peers.get(peerId)?.source === 'gossip',
        describe: () => {
          if (node === undefined) throw new Error('node not built yet')
          return node.#describe()
        }
      })
    }
    if (parts.skillBeacon !== false) services.beacon = skillBeacon(parts.skillBeacon)
    const libp2p = await createLibp2p({
      start: false,
      privateKey: parts.privateKey,
      addresses: { listen: parts.listen },
      transports: parts.transports,
      connectionEncrypters: parts.connectionEncrypters,
      streamMuxers: [yamux()],
      connectionProtector: parts.connectionProtector,
      peerDiscovery: parts.peerDiscovery,
      connectionManager: {
        // LAN peers arrive in bursts from one subnet (or all from loopback in tests).
        inboundConnectionThreshold: 1_000,
        maxConnections: 500
      },
      connectionMonitor: { enabled: parts.connectionMonitor },
      connectionGater: parts.connectionGater,
      metrics: parts.metrics,
      services
    }) as unknown as Libp2p<NodeServices>
    node = new WasmeshNode(opts, libp2p, skills, name)
    return node
  }

  get peerId (): string {
    return this.libp2p.peerId.toString()
  }

  get skills (): SkillDescriptor[] {
    return this.#skills
  }

  /** Where peers reach this node's HTTP API; worked out afresh, as addresses come and go (DHCP). */
  get httpUrl (): string | null {
    const http = this.#opts.http
    if (http === undefined || http === false || this.#http === undefined) return null
    return advertisedHttpUrl(http.host, this.#http.port, networkInterfaces())
  }

  get uptimeMs (): number {
    return this.#startedAt === 0 ? 0 : Date.now() - this.#startedAt
  }

  get addrs (): string[] {
    return this.libp2p.getMultiaddrs().map(String)
  }

  async start (): Promise<void> {
    const { stores } = this.#opts.parts
    await stores.open()
    try {
      await this.#exchange.start()
      await this.modules.open()
    } catch (err) {
      await this.#exchange.stop().catch(() => {})
      await stores.close().catch(() => {})
      throw new WasmeshError('unavailable', `the module store could not open: ${oneLine((err as Error).message)}`)
    }
    const http = this.#opts.http
    try {
      if (http !== undefined && http !== false) {
        this.#http = await startHttpApi(this, http)
      }
      await this.libp2p.start()
      await this.deployments.start()
    } catch (err) {
      await Promise.resolve(this.libp2p.stop()).catch(() => {})
      await this.#http?.close()
      await this.modules.close()
      await this.#exchange.stop().catch(() => {})
      await stores.close().catch(() => {})
      if (err instanceof WasmeshError) throw err
      throw new WasmeshError('unavailable', `libp2p could not start: ${oneLine((err as Error).message)}`)
    }
    this.#startedAt = Date.now()
    const sweepMs = Math.max(50, Math.min(500, (this.#opts.heartbeatMs ?? NODE_DEFAULTS.heartbeatMs) / 4))
    this.#sweeper = setInterval(() => this.peers.expire(), sweepMs)
    this.#sweeper.unref()
  }

  /**
   * Says goodbye to the mesh, then stops serving. `goodbye: false` stops as a crash would:
   * peers are told nothing and find out as they do when a device is unplugged (the simulator).
   */
  async stop (opts: { goodbye?: boolean } = {}): Promise<void> {
    clearInterval(this.#sweeper)
    this.#dialer.stop()
    if (opts.goodbye !== false) await this.libp2p.services.announce.sayGoodbye()
    await this.#http?.close()
    await this.deployments.stop()
    this.runtime.close()
    await this.modules.close()
    await this.#exchange.stop()
    await this.libp2p.stop()
    await this.#opts.parts.stores.close()
    this.peers.clear()
  }

  /** Replaces the configured skills and tells the mesh at once. */
  async setSkills (configured: ConfiguredSkill[]): Promise<void> {
    this.#skills = skillDescriptors(configured)
    this.runtime.setSkills(configured)
    await this.libp2p.services.announce.announce()
  }

  /** What the next announcement says; the LAN summary follows it (sent only when it changed). */
  #describe (): AnnouncementContent {
    const content = {
      name: this.name,
      http: this.httpUrl,
      addrs: this.#announceableAddrs(),
      skills: this.#skills,
      load: { ...this.#opts.parts.load(), instances: this.runtime.instances },
      modules: this.modules.holdings(MAX_ANNOUNCED_MODULES)
    }
    this.#announcedAddrs = content.addrs.join(' ')
    this.libp2p.services.beacon?.publish(this.#summary(content.http))
    return content
  }

  /** Modules peers announced they hold, by CID or name. */
  #remoteHoldings (match: { cid?: string, name?: string }): RemoteHolding[] {
    const found: RemoteHolding[] = []
    for (const peer of this.peers.list()) {
      for (const held of peer.modules) {
        if ((match.cid === undefined || held.cid === match.cid) && (match.name === undefined || held.name === match.name)) {
          found.push({ ...held, peerId: peer.peerId })
        }
      }
    }
    return found
  }

  #announceableAddrs (): string[] {
    return this.addrs.slice(0, MAX_ANNOUNCED_ADDRS)
  }

  #summary (http: string | null): SkillSummary {
    return { peerId: this.peerId, name: this.name, skills: this.#skills.map(s => s.name), digest: skillsDigest(this.#skills), http }
  }

  #wire (): void {
    const { announce, beacon } = this.libp2p.services
    announce.on('announcement', (ann) => {
      this.metrics.announcementsReceived.inc()
      this.peers.applyAnnouncement(ann)
    })
    announce.on('rejected', (reason) => { this.metrics.announcementsDropped.inc({ reason }) })
    beacon?.on('summary', (summary) => this.peers.applySummary(summary))
    beacon?.on('goodbye', (peerId) => { this.peers.applySummaryGoodbye(peerId) })
    this.libp2p.addEventListener('peer:discovery', (evt) => { this.#dialer.discovered(evt.detail) })
    this.libp2p.addEventListener('peer:disconnect', (evt) => { this.peers.markDisconnected(evt.detail.toString()) })
    // New or lost listen addresses are a change peers must hear of (the event fires for much else).
    this.libp2p.addEventListener('self:peer:update', () => {
      if (this.#announceableAddrs().join(' ') !== this.#announcedAddrs) void announce.announce()
    })
    this.peers.on('join', () => this.metrics.peerEvents.inc({ event: 'join' }))
    this.peers.on('change', () => this.metrics.peerEvents.inc({ event: 'change' }))
    this.peers.on('leave', () => this.metrics.peerEvents.inc({ event: 'leave' }))
  }
}

/** An error message without its stack lines, on one line. */
function oneLine (message: string): string {
  return message.split('\n').map(l => l.trim()).filter(l => l !== '' && !l.startsWith('at ')).join(' ')
}

/** Gossipsub's fast message id: a hash of what the message says and who first published it. */
function fastMessageId (msg: { data?: Uint8Array | null, from?: Uint8Array | null, seqno?: Uint8Array | null }): string {
  const hash = createHash('sha1')
  if (msg.from != null) hash.update(msg.from)
  if (msg.seqno != null) hash.update(msg.seqno)
  if (msg.data != null) hash.update(msg.data)
  return hash.digest('base64')
}
