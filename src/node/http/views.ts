import type { DeploymentRecord } from '../../protocols/deploy/index.ts'
import type { ModuleRecord } from '../modules/records.ts'
import type { PeerEntry } from '../peer-table.ts'

/** A peer as `GET /peers` shows it. `lastSeenMs` is how long ago it was last heard. Pure. */
export function peerView (e: PeerEntry, nowMs: number): Record<string, unknown> {
  return {
    peerId: e.peerId,
    name: e.name,
    addrs: e.addrs,
    http: e.http,
    skills: e.skills,
    lastSeenMs: Math.max(0, nowMs - e.lastSeenMs),
    load: e.load,
    via: e.source
  }
}

/** A module as `GET /modules` shows it: what it is, what it needs, and its description. Pure. */
export function moduleView (r: ModuleRecord): Record<string, unknown> {
  return {
    cid: r.cid,
    name: r.name,
    size: r.size,
    kind: r.info.kind,
    imports: r.info.imports,
    exports: r.info.exports,
    requires: r.info.requires,
    memories: r.info.memories,
    tables: r.info.tables,
    customSections: r.info.customSections,
    ...(r.info.component !== undefined ? { component: { imports: r.info.component.imports, exports: r.info.component.exports } } : {}),
    description: r.description,
    descriptionCid: r.descriptionCid,
    source: r.source,
    addedAt: new Date(r.addedAt).toISOString()
  }
}

/** A deployment as `GET /deployments` shows it: its steps and the peers (and names) running each. Pure. */
export function deploymentView (r: DeploymentRecord, nameOf: (peerId: string) => string): Record<string, unknown> {
  return {
    id: r.id,
    name: r.name,
    status: r.status,
    version: r.version,
    coordinator: r.coordinator,
    createdAt: r.createdAt,
    steps: r.steps.map(s => ({
      module: s.module,
      cid: s.cid,
      function: s.function,
      replicas: s.replicas,
      peers: s.peers,
      hosts: s.peers.map(peerId => ({ peerId, name: nameOf(peerId) }))
    }))
  }
}
