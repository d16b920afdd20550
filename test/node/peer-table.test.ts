import { expect } from 'chai'
import { PeerTable, decideAnnouncement } from '../../src/node/peer-table.ts'
import { SKILL_CATALOG } from '../../src/wasm/skills/catalog.ts'
import { skillsDigest } from '../../src/wasm/skills/descriptor.ts'
import type { PeerEntry } from '../../src/node/peer-table.ts'
import type { Announcement } from '../../src/protocols/announce/announcement.ts'

const A = '12D3KooWAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'
const SELF = '12D3KooWSELFSELFSELFSELFSELFSELFSELFSELFSELFSELFSELF'

function ann (over: Partial<Announcement> = {}): Announcement {
  return {
    v: 1,
    peerId: A,
    name: 'a',
    seq: 10,
    state: 'up',
    heartbeatMs: 1000,
    http: null,
    addrs: [],
    skills: [SKILL_CATALOG.sys],
    load: { cpu: 0, freeMem: 0, instances: 0 },
    modules: [],
    ...over
  }
}

function tableWithClock (): { table: PeerTable, clock: { now: number }, events: string[] } {
  const clock = { now: 1_000_000 }
  const table = new PeerTable({ self: SELF, missedHeartbeats: 3, defaultHeartbeatMs: 1000, now: () => clock.now })
  const events: string[] = []
  table.on('join', e => events.push(`join ${e.name}`))
  table.on('change', (e, old) => events.push(`change ${old.name}->${e.name}`))
  table.on('leave', (e, why) => events.push(`leave ${e.name} ${why}`))
  return { table, clock, events }
}

describe('peer table', () => {
  it('keeps the newest announcement: a higher sequence wins, an older or equal one is ignored', () => {
    const { table, events } = tableWithClock()
    expect(table.applyAnnouncement(ann({ seq: 10 }))).to.equal('join')
    expect(table.applyAnnouncement(ann({ seq: 12, name: 'renamed' }))).to.equal('change')
    expect(table.applyAnnouncement(ann({ seq: 11, name: 'older' }))).to.equal('stale')
    expect(table.applyAnnouncement(ann({ seq: 12, name: 'replay' }))).to.equal('stale')
    expect(table.get(A)?.name).to.equal('renamed')
    expect(table.get(A)?.seq).to.equal(12)
    expect(events).to.deep.equal(['join a', 'change a->renamed'])
  })

  it('treats a heartbeat that changes nothing but load as a refresh, without events', () => {
    const { table, clock, events } = tableWithClock()
    table.applyAnnouncement(ann({ seq: 1 }))
    clock.now += 900
    expect(table.applyAnnouncement(ann({ seq: 2, load: { cpu: 0.5, freeMem: 5, instances: 1 } }))).to.equal('refresh')
    expect(table.get(A)?.load.cpu).to.equal(0.5)
    expect(table.get(A)?.lastSeenMs).to.equal(clock.now)
    expect(events).to.deep.equal(['join a'])
  })

  it('signals a skill change', () => {
    const { table, events } = tableWithClock()
    table.applyAnnouncement(ann({ seq: 1 }))
    table.applyAnnouncement(ann({ seq: 2, skills: [SKILL_CATALOG.sys, SKILL_CATALOG.dht] }))
    expect(events).to.deep.equal(['join a', 'change a->a'])
    expect(table.get(A)?.digest).to.equal(skillsDigest([SKILL_CATALOG.sys, SKILL_CATALOG.dht]))
  })

  it('reads an opened (frozen, shared) announcement\'s skills once, however many tables take it', () => {
    const { sys, dht } = SKILL_CATALOG
    let reads = 0
    const counted = Object.freeze(Object.defineProperty({ ...sys }, 'name', { get: () => { reads++; return sys.name }, enumerable: true }))
    const shared = Object.freeze(ann({ skills: Object.freeze([counted, Object.freeze({ ...dht })]) as Announcement['skills'] }))
    const first = tableWithClock().table
    first.applyAnnouncement(shared)
    expect(first.get(A)?.digest).to.equal(skillsDigest([sys, dht]))
    const afterFirst = reads
    expect(afterFirst).to.be.above(0)
    const second = tableWithClock().table
    second.applyAnnouncement(shared)
    expect(second.get(A)?.digest).to.equal(skillsDigest([sys, dht]))
    expect(reads).to.equal(afterFirst)
  })

  it('expires a peer after the missed heartbeats, not before', () => {
    const { table, clock, events } = tableWithClock()
    table.applyAnnouncement(ann({ seq: 1, heartbeatMs: 1000 }))
    clock.now += 3000
    expect(table.expire()).to.have.length(0)
    clock.now += 600
    expect(table.expire().map(e => e.peerId)).to.deep.equal([A])
    expect(table.size).to.equal(0)
    expect(events).to.deep.equal(['join a', 'leave a expired'])
  })

  it('uses the heartbeat each peer announces for its own expiry', () => {
    const { table, clock } = tableWithClock()
    table.applyAnnouncement(ann({ seq: 1, heartbeatMs: 10_000 }))
    clock.now += 30_000
    table.expire()
    expect(table.size).to.equal(1)
  })

  it('drops a peer at once on its goodbye, and ignores its older announcements after', () => {
    const { table, events } = tableWithClock()
    table.applyAnnouncement(ann({ seq: 5 }))
    expect(table.applyAnnouncement(ann({ seq: 6, state: 'leaving' }))).to.equal('leave')
    expect(table.applyAnnouncement(ann({ seq: 5 }))).to.equal('stale')
    expect(table.size).to.equal(0)
    expect(table.applyAnnouncement(ann({ seq: 7 }))).to.equal('join')
    expect(events).to.deep.equal(['join a', 'leave a left', 'join a'])
  })

  it('gives a disconnected peer one heartbeat and a half to be heard again', () => {
    const { table, clock } = tableWithClock()
    table.applyAnnouncement(ann({ seq: 1, heartbeatMs: 1000 }))
    table.markDisconnected(A)
    clock.now += 1400
    table.expire()
    expect(table.size).to.equal(1)
    clock.now += 200
    table.expire()
    expect(table.size).to.equal(0)
  })

  it('expires each peer at its own deadline across sweeps, a deadline brought forward included', () => {
    const { table, clock } = tableWithClock()
    const B = 'b'.repeat(A.length)
    table.applyAnnouncement(ann({ seq: 1, heartbeatMs: 1000 }))
    table.applyAnnouncement(ann({ peerId: B, seq: 1, heartbeatMs: 10_000 }))
    clock.now += 3600
    expect(table.expire().map(e => e.peerId)).to.deep.equal([A])
    table.applyAnnouncement(ann({ seq: 2, heartbeatMs: 1000 })) // back, with a deadline sooner than B's
    clock.now += 3600
    expect(table.expire().map(e => e.peerId)).to.deep.equal([A])
    table.markDisconnected(B) // B's deadline: 15 s from now instead of 27.8 s
    clock.now += 14_000
    expect(table.expire()).to.have.length(0)
    clock.now += 1_100
    expect(table.expire().map(e => e.peerId)).to.deep.equal([B])
  })

  it('keeps a disconnected peer that is still heard through others', () => {
    const { table, clock } = tableWithClock()
    table.applyAnnouncement(ann({ seq: 1, heartbeatMs: 1000 }))
    table.markDisconnected(A)
    clock.now += 1000
    table.applyAnnouncement(ann({ seq: 2, heartbeatMs: 1000 }))
    clock.now += 1000
    table.expire()
    expect(table.size).to.equal(1)
  })

  it('enters a peer from its mDNS summary, with catalogue skills, until its announcement replaces it', () => {
    const { table, events } = tableWithClock()
    const summary = { peerId: A, name: 'a', skills: ['sys', 'camera', 'unknown-skill'], digest: '0123456789abcdef', http: null }
    expect(table.applySummary(summary)).to.equal('join')
    expect(table.get(A)?.skills.map(s => s.name)).to.deep.equal(['sys', 'camera'])
    expect(table.get(A)?.source).to.equal('mdns')
    expect(table.applyAnnouncement(ann({ seq: 1, skills: [SKILL_CATALOG.sys, SKILL_CATALOG.camera] }))).to.equal('change')
    expect(table.get(A)?.source).to.equal('gossip')
    expect(table.applySummary({ ...summary, name: 'spoofed' })).to.equal('stale')
    expect(table.get(A)?.name).to.equal('a')
    expect(events).to.deep.equal(['join a', 'change a->a'])
  })

  it('lets a beacon goodbye remove only what the beacon brought', () => {
    const { table, events } = tableWithClock()
    const B = A.replace('AAAA', 'BBBB')
    table.applySummary({ peerId: A, name: 'a', skills: ['sys'], digest: '0123456789abcdef', http: null })
    table.applyAnnouncement(ann({ peerId: B, name: 'b', seq: 1 }))
    table.applySummaryGoodbye(A)
    table.applySummaryGoodbye(B)
    expect(table.list().map(e => e.name)).to.deep.equal(['b'])
    expect(events).to.deep.equal(['join a', 'join b', 'leave a left'])
  })

  it('does not let a replayed announcement bring back a peer that expired', () => {
    const { table, clock } = tableWithClock()
    table.applyAnnouncement(ann({ seq: 5 }))
    clock.now += 10_000
    table.expire()
    expect(table.applyAnnouncement(ann({ seq: 5 }))).to.equal('stale')
    expect(table.applyAnnouncement(ann({ seq: 4 }))).to.equal('stale')
    expect(table.applyAnnouncement(ann({ seq: 6 }))).to.equal('join')
  })

  it('holds at most maxPeers, and fewer from unsigned summaries', () => {
    const table = new PeerTable({ self: SELF, maxPeers: 2, maxSummaryPeers: 1 })
    const id = (c: string): string => A.slice(0, -4) + c.repeat(4)
    expect(table.applySummary({ peerId: id('B'), name: 'b', skills: ['sys'], digest: '0123456789abcdef', http: null })).to.equal('join')
    expect(table.applySummary({ peerId: id('C'), name: 'c', skills: ['sys'], digest: '0123456789abcdef', http: null })).to.equal('stale')
    expect(table.applyAnnouncement(ann({ peerId: id('D'), name: 'd' }))).to.equal('join')
    expect(table.applyAnnouncement(ann({ peerId: id('E'), name: 'e' }))).to.equal('stale')
    expect(table.size).to.equal(2)
    // A peer already listed is still updated when the table is full.
    expect(table.applyAnnouncement(ann({ peerId: id('D'), name: 'd2', seq: 11 }))).to.equal('change')
  })

  it('never enters itself', () => {
    const { table } = tableWithClock()
    expect(table.applyAnnouncement(ann({ peerId: SELF }))).to.equal('stale')
    expect(table.applySummary({ peerId: SELF, name: 's', skills: [], digest: '0123456789abcdef', http: null })).to.equal('stale')
    expect(table.size).to.equal(0)
  })

  it('decides purely from what it is given', () => {
    const known = { source: 'gossip', seq: 5, name: 'a', http: null, addrs: [], digest: skillsDigest([SKILL_CATALOG.sys]), modules: [] } as unknown as PeerEntry
    expect(decideAnnouncement(undefined, undefined, ann())).to.equal('join')
    expect(decideAnnouncement(undefined, undefined, ann({ state: 'leaving' }))).to.equal('stale')
    expect(decideAnnouncement(known, undefined, ann({ seq: 4 }))).to.equal('stale')
    expect(decideAnnouncement(known, undefined, ann({ seq: 6 }))).to.equal('refresh')
    expect(decideAnnouncement(known, undefined, ann({ seq: 6, http: 'http://x:1' }))).to.equal('change')
    expect(decideAnnouncement(known, 9, ann({ seq: 8 }))).to.equal('stale')
    // Holding a new module is a change: placement prefers peers that hold a step's module.
    expect(decideAnnouncement(known, undefined, ann({ seq: 6, modules: [{ cid: 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy' }] }))).to.equal('change')
  })
})
