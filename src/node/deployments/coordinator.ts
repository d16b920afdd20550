import { randomBytes } from 'node:crypto'
import { WasmeshError, isWasmeshError } from '../../errors.ts'
import { MAX_DEPLOY_MESSAGE_BYTES, participants } from '../../protocols/deploy/index.ts'
import { defaultFunctions } from '../../wasm/describe/openapi.ts'
import { collectBids } from './bid-round.ts'
import { biddersFor, qualifiedPeers, rankBids } from './placement.ts'
import type { DeployOptions } from './options.ts'
import type { Manifest } from './manifest.ts'
import type { PlacementPeer } from './placement.ts'
import type { Bid, DeployRequest, DeploymentRecord, PlacedStep } from '../../protocols/deploy/index.ts'
import type { ModuleInfo } from '../../wasm/module-info.ts'
import type { ModuleStore } from '../modules/module-store.ts'

/** What the coordinator needs of the node. */
export interface CoordinatorContext {
  self: string
  options: DeployOptions
  modules: ModuleStore
  /** this node and the peers it can reach, as placement sees them */
  placementPeers: () => PlacementPeer[]
  /** whether a peer is up, as far as this node can tell */
  alive: (peerId: string) => boolean
  /** sends a deploy request to a peer, or handles it here when the peer is this node */
  ask: (peerId: string, req: DeployRequest, timeoutMs: number) => Promise<{ bid?: Bid }>
  /** takes a decided record here and sends it to its participants (and those it drops), then gossips it */
  commit: (record: DeploymentRecord, previous: DeploymentRecord | undefined) => Promise<void>
  log: (message: string) => void
}

/**
 * The coordinator's side of placement: resolve each step's module, ask qualifying peers for
 * bids, award the best, have the winners start, and commit the whole or nothing. Also the
 * later rounds: re-placing steps whose hosts left, and taking over when a coordinator is gone.
 */
export class Coordinator {
  readonly #ctx: CoordinatorContext
  readonly #infos = new Map<string, ModuleInfo>()
  /** deployments being re-placed now: one round at a time each */
  readonly #busy = new Set<string>()

  constructor (ctx: CoordinatorContext) {
    this.#ctx = ctx
  }

  async deploy (manifest: Manifest): Promise<DeploymentRecord> {
    const { self } = this.#ctx
    const steps = await Promise.all(manifest.steps.map(async (s, i) => await this.#resolveStep(s, i)))
    const draft: DeploymentRecord = {
      id: `${manifest.name}-${randomBytes(4).toString('hex')}`,
      name: manifest.name,
      version: 1,
      coordinator: self,
      status: 'active',
      createdAt: Date.now(),
      config: manifest.config,
      steps
    }
    // Every participant must be able to take the record, descriptions and config included.
    const size = Buffer.byteLength(JSON.stringify({ record: { ...draft, steps: steps.map(s => ({ ...s, peers: Array(s.replicas).fill(self) })) }, n: 0 }))
    if (size > MAX_RECORD_BYTES) {
      throw new WasmeshError('too-large', `the deployment record would be ${size} bytes, over the limit of ${MAX_RECORD_BYTES} (fewer steps, smaller config or descriptions)`)
    }
    const awarded: Array<{ peerId: string, index: number }> = []
    try {
      for (let index = 0; index < steps.length; index++) {
        const winners = await this.#place(draft, index, steps[index].replicas, new Set())
        if (winners.length === 0) {
          throw new WasmeshError('unsatisfiable', `no qualifying peer could start step ${index} (${steps[index].module}.${steps[index].function})`, { step: index, missing: [] })
        }
        steps[index].peers = winners
        awarded.push(...winners.map(peerId => ({ peerId, index })))
      }
    } catch (err) {
      await this.#abort(draft, awarded.map(a => a.peerId))
      throw err
    }
    const record = { ...draft, status: statusOf(steps) }
    await this.#ctx.commit(record, undefined)
    return record
  }

  /**
   * Re-places what lost its hosts: each step keeps its live hosts and gets new ones up to its
   * replicas. Commits a new version when anything changed; a step with no host left and no
   * peer to take it leaves the deployment `degraded` until one appears.
   */
  async heal (record: DeploymentRecord): Promise<void> {
    if (this.#busy.has(record.id) || record.status === 'removed') return
    this.#busy.add(record.id)
    try {
      const steps = record.steps.map(s => ({ ...s, peers: s.peers.filter(p => this.#ctx.alive(p)) }))
      let changed = steps.some((s, i) => s.peers.length !== record.steps[i].peers.length)
      const added: string[] = []
      for (let index = 0; index < steps.length; index++) {
        const step = steps[index]
        if (step.peers.length >= step.replicas) continue
        const draft = { ...record, version: record.version + 1, steps }
        const winners = await this.#place(draft, index, step.replicas - step.peers.length, new Set(record.steps[index].peers))
          .catch((err: Error) => { this.#ctx.log(`re-placing ${record.id} step ${index}: ${err.message}`); return [] })
        if (winners.length > 0) {
          step.peers = [...step.peers, ...winners]
          added.push(...winners)
          changed = true
        }
      }
      const status = statusOf(steps)
      if (!changed && status === record.status && record.coordinator === this.#ctx.self) return
      await this.#ctx.commit({ ...record, version: record.version + 1, coordinator: this.#ctx.self, status, steps }, record)
    } finally {
      this.#busy.delete(record.id)
    }
  }

  /** Removes a deployment everywhere (any node may). */
  async undeploy (record: DeploymentRecord): Promise<DeploymentRecord> {
    const removed: DeploymentRecord = { ...record, version: record.version + 1, coordinator: this.#ctx.self, status: 'removed' }
    await this.#ctx.commit(removed, record)
    return removed
  }

  async #resolveStep (step: Manifest['steps'][number], index: number): Promise<PlacedStep> {
    const field = `steps.${index}`
    const module = await this.#ctx.modules.resolve(step.module, { timeoutMs: this.#ctx.options.resolveTimeoutMs })
      .catch((err: unknown) => {
        if (isWasmeshError(err) && err.code === 'not-found') throw new WasmeshError('not-found', `${field}.module: ${err.message}`, { field: `${field}.module` })
        throw err
      })
    const exported = module.info.exports.some(e => e.kind === 'function' && e.name === step.function)
    if (!exported) {
      throw new WasmeshError('not-found', `${field}.function: module ${step.module} exports no function "${step.function}"`, { field: `${field}.function` })
    }
    this.#infos.set(module.cid, module.info)
    return {
      module: step.module,
      cid: module.cid,
      descriptionCid: module.descriptionCid,
      function: step.function,
      // Undescribed: numbers in and out, as the module's OpenAPI shows it (null if HTTP cannot call it).
      description: module.description?.functions[step.function] ?? defaultFunctions(module.info)[step.function] ?? null,
      replicas: step.replicas,
      ...(step.peer !== undefined ? { pin: step.peer } : {}),
      requires: module.info.requires,
      peers: []
    }
  }

  /** A bid round for one step, then awards in rank order until `count` winners started it. */
  async #place (draft: DeploymentRecord, index: number, count: number, exclude: ReadonlySet<string>): Promise<string[]> {
    const { options } = this.#ctx
    const step = draft.steps[index]
    const info = await this.#info(step.cid)
    const peers = this.#ctx.placementPeers().filter(p => !exclude.has(p.peerId) && !step.peers.includes(p.peerId))
    const qualified = qualifiedPeers(info, peers, step.pin)
    const bidders = biddersFor(qualified, options.maxBidders)
    const bids = await collectBids(bidders.map(async (p) => {
      try {
        const { bid } = await this.#ctx.ask(p.peerId, { type: 'bid', deployment: draft.id, cid: step.cid }, options.bidTimeoutMs)
        return bid === undefined ? undefined : { peerId: p.peerId, bid }
      } catch {
        return undefined // silent or refusing: not a candidate this round
      }
    }), options.bidTimeoutMs, count) // the grace for stragglers is a bid's own time to answer
    const neighbours = new Set([...(draft.steps[index - 1]?.peers ?? []), ...(draft.steps[index + 1]?.peers ?? [])])
    const ranked = rankBids(bids, neighbours)
    const winners: string[] = []
    for (const peerId of ranked) {
      if (winners.length === count) break
      const tentative = { ...draft, steps: draft.steps.map((s, i) => i === index ? { ...s, peers: [...s.peers, ...winners, peerId] } : s) }
      try {
        await this.#ctx.ask(peerId, { type: 'prepare', record: tentative, step: index, holders: this.#ctx.modules.local(step.cid) !== undefined ? [this.#ctx.self] : [] }, options.prepareTimeoutMs)
        winners.push(peerId)
      } catch (err) {
        this.#ctx.log(`${peerId} could not start ${draft.id} step ${index}: ${(err as Error).message}`)
      }
    }
    return winners
  }

  async #info (cid: string): Promise<ModuleInfo> {
    const known = this.#infos.get(cid) ?? this.#ctx.modules.local(cid)?.info
    if (known !== undefined) return known
    // A fetch of a CID nobody announced would wait out its whole timeout.
    if (this.#ctx.modules.holders(cid).length === 0) throw new WasmeshError('not-found', `no reachable peer holds module ${cid}`)
    const module = await this.#ctx.modules.resolve(cid, { timeoutMs: this.#ctx.options.resolveTimeoutMs })
    this.#infos.set(cid, module.info)
    return module.info
  }

  async #abort (draft: DeploymentRecord, peers: string[]): Promise<void> {
    await Promise.allSettled([...new Set(peers)].map(async p => {
      await this.#ctx.ask(p, { type: 'abort', deployment: draft.id, version: draft.version }, this.#ctx.options.commitTimeoutMs)
    }))
  }
}

/** Room left in a deploy message around the record (a prepare names a step and holders). */
const MAX_RECORD_BYTES = MAX_DEPLOY_MESSAGE_BYTES - 4096

/** `active` while every step has all its replicas, `degraded` otherwise. */
export function statusOf (steps: readonly PlacedStep[]): 'active' | 'degraded' {
  return steps.every(s => s.peers.length >= s.replicas) ? 'active' : 'degraded'
}

/** Everyone who must hear of a record: its participants and those of the one it replaces. */
export function audience (record: DeploymentRecord, previous: DeploymentRecord | undefined): string[] {
  return [...new Set([...participants(record), ...(previous === undefined ? [] : [...participants(previous), previous.coordinator])])]
}
