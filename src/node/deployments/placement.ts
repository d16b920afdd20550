/**
 * Where steps run, as pure decisions: which peers can run a module, who is asked to bid, how
 * bids compare, who takes over a deployment, which host a call goes to. The node and the
 * simulator share them; none does I/O.
 */
import { WasmeshError } from '../../errors.ts'
import { linkCheck } from '../../wasm/skills/link-check.ts'
import type { Load } from '../../protocols/announce/index.ts'
import type { Bid, DeploymentRecord } from '../../protocols/deploy/index.ts'
import type { ModuleInfo } from '../../wasm/module-info.ts'
import type { SkillDescriptor } from '../../wasm/skills/descriptor.ts'

/** A node that might run a step, as this node knows it (itself included). */
export interface PlacementPeer {
  peerId: string
  name: string
  skills: readonly SkillDescriptor[]
  load: Load
}

/**
 * The peers whose skills link the module (names, functions and signatures), narrowed to the
 * pinned peer (id or node name) if the step has one. None: `unsatisfiable`, naming the skills
 * no peer offers (or, when each is offered somewhere but not as the module needs, the problems).
 */
export function qualifiedPeers (info: ModuleInfo, peers: readonly PlacementPeer[], pin?: string): PlacementPeer[] {
  const pool = pin === undefined ? peers : peers.filter(p => p.peerId === pin || p.name === pin)
  if (pool.length === 0) {
    throw new WasmeshError('unsatisfiable', `no reachable peer is "${pin ?? ''}"`, { missing: [], peer: pin })
  }
  const checks = pool.map(peer => ({ peer, check: linkCheck(info, peer.skills) }))
  const qualified = checks.filter(c => c.check.problems.length === 0).map(c => c.peer)
  if (qualified.length > 0) return qualified
  const offered = new Set(pool.flatMap(p => p.skills.map(s => s.name)))
  const missing = info.requires.filter(skill => !offered.has(skill))
  const where = pin === undefined ? 'no reachable peer' : `peer "${pin}"`
  if (missing.length > 0) {
    throw new WasmeshError('unsatisfiable', `${where} offers the skills ${missing.map(s => `"${s}"`).join(', ')}`, { missing })
  }
  const problems = [...new Set(checks.flatMap(c => c.check.problems))]
  throw new WasmeshError('unsatisfiable', `${where} offers what the module needs: ${problems.slice(0, 5).join('; ')}`, { missing: [], problems })
}

/** Lower is better: what a peer's announced load says of it, before it is asked. */
function announcedCost (load: Load): number {
  return load.instances * 0.1 + load.cpu * 2 - Math.min(load.freeMem / 2 ** 30, 4)
}

/**
 * Who is asked to bid: everyone on a small LAN; past `max`, the best announced (a bid round
 * to hundreds of peers would cost more than a slightly worse placement).
 */
export function biddersFor (qualified: readonly PlacementPeer[], max: number): PlacementPeer[] {
  return [...qualified]
    .sort((a, b) => announcedCost(a.load) - announcedCost(b.load) || compare(a.peerId, b.peerId))
    .slice(0, max)
}

/**
 * A bid's worth, higher better: free memory (up to 4 GiB counts), little CPU load and few
 * guests; the module already there saves a fetch; next to a neighbouring step saves a hop
 * per call.
 */
export function scoreBid (bid: Bid, colocated: boolean): number {
  return Math.min(bid.freeMem / 2 ** 30, 4) - bid.cpu * 2 - bid.instances * 0.1 +
    (bid.cached ? 1 : 0) + (colocated ? 1.5 : 0)
}

/** Bidders best first; ties go to the lower peer id, so every run decides alike. */
export function rankBids (bids: ReadonlyArray<{ peerId: string, bid: Bid }>, neighbours: ReadonlySet<string>): string[] {
  return bids
    .map(b => ({ peerId: b.peerId, score: scoreBid(b.bid, neighbours.has(b.peerId)) }))
    .sort((a, b) => b.score - a.score || compare(a.peerId, b.peerId))
    .map(b => b.peerId)
}

/**
 * The order in which nodes would take over a deployment whose coordinator is gone, its first
 * `limit`: the live participants by peer id, then the other live nodes of `everyone` (the nodes
 * the asker knows, asked for only when the participants do not fill the limit). The first looks
 * after it. Every node works it out alike from the same record and a like view of the mesh; two
 * that still disagree both commit, and the record with the lower coordinator id wins.
 */
export function succession (record: DeploymentRecord, alive: (peerId: string) => boolean, everyone: () => readonly string[], limit = Infinity): string[] {
  const hosts = new Set(record.steps.flatMap(s => s.peers))
  const live = (ids: Iterable<string>): string[] => [...new Set(ids)].filter(p => p !== record.coordinator && alive(p)).sort(compare)
  const line = live(hosts)
  if (line.length >= limit) return line.slice(0, limit)
  return [...line, ...live(everyone()).filter(p => !hosts.has(p))].slice(0, limit)
}

/**
 * The nodes ahead of `self` in a succession, if at most `max` are: a node that close to taking
 * over makes sure they are alive (one that died with the coordinator would stay in the tables
 * until its heartbeats lapse, and hold everyone back); the nodes further down leave it to them.
 */
export function aheadOf (order: readonly string[], self: string, max: number): string[] {
  const i = order.indexOf(self)
  return i > 0 && i <= max ? order.slice(0, i) : []
}

/**
 * The host a call to a step goes to: this node if it hosts the step, else the hosts in turn
 * (`turn` grows per call, spreading calls over replicas), skipping unusable ones and `avoid`
 * (the host a first attempt failed on).
 */
export function pickHost (hosts: readonly string[], self: string, usable: (peerId: string) => boolean, turn: number, avoid?: string): string | undefined {
  if (avoid !== self && hosts.includes(self)) return self
  const choices = hosts.filter(h => h !== avoid && usable(h))
  return choices.length === 0 ? undefined : choices[turn % choices.length]
}

function compare (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
