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
