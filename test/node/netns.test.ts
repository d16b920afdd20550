/**
 * Real `wasmesh start` processes on a 3-host LAN made of network namespaces (see
 * test/helpers/netns.ts): TCP, real mDNS (multicast on the namespaces' bridge only), the
 * HTTP API. Needs root; skipped (with the reason printed) where namespaces cannot be made.
 *
 * How the tables are read: one poller process per host namespace (plain Node, started
 * before the nodes; test/helpers/peers-poller.ts) GETs http://127.0.0.1:8080/peers every
 * POLL_MS and prints a line with its own Date.now() whenever the answer changes. The namespaces have no route to the
 * root namespace, so the tables are read from inside. A time measured this way is late by
 * at most POLL_MS plus one request's latency.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect } from 'chai'
import { createLan, destroyLanByPrefix, netnsUnavailableReason } from '../helpers/netns.ts'
import { startPoller, Watched } from '../helpers/peers-poller.ts'
import type { Lan } from '../helpers/netns.ts'
import type { PeerSeen } from '../helpers/peers-poller.ts'

const PREFIX = 'wmt-peers'
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const NODE_BIN = join(ROOT, 'node_modules', '.bin', 'node')
const WASMESH = join(ROOT, 'bin', 'wasmesh.js')
const HTTP_PORT = 8080
const POLL_MS = 20
/** Every table must list the other two, with skills, this soon after the processes are spawned. */
const DISCOVERY_DEADLINE_MS = 3_000
/** A stopped node must be gone from the other tables this soon after its SIGTERM. */
const LEAVE_DEADLINE_MS = 3_000

/** Host i's skills file, and the skill names every peer must then show for it (`sys` always). */
const HOST_SKILLS: string[][] = [['camera'], ['dht'], []]
const expectedSkills = (i: number): string[] => ['sys', ...HOST_SKILLS[i]].sort()

interface Snapshot { t: number, peers?: PeerSeen[], err?: string }

function snapshots (poller: Watched): Snapshot[] {
  return poller.lines.filter(l => typeof l.t === 'number' && l.ready === undefined) as unknown as Snapshot[]
}

/** When the poller first saw a table satisfying `ok` (at or after `since`), or undefined. */
function firstSeen (poller: Watched, ok: (peers: PeerSeen[]) => boolean, since = 0): number | undefined {
  return snapshots(poller).find(s => s.t >= since && s.peers !== undefined && ok(s.peers))?.t
}

describe('wasmesh start: 3 processes on a netns LAN (TCP, mDNS, HTTP)', function () {
  this.timeout(20_000)
  let lan: Lan | undefined
  const dirs: string[] = []
  const nodes: Watched[] = []
  const pollers: Watched[] = []
  const peerIds: string[] = []
  let spawnedAt = 0

  /** Host j's entry as host i's table must show it. */
  const rightEntry = (peers: PeerSeen[], j: number): boolean => {
    const e = peers.find(p => p.peerId === peerIds[j])
    return e !== undefined && e.name === `h${j + 1}` && JSON.stringify([...e.skills].sort()) === JSON.stringify(expectedSkills(j))
  }
  const knowsAllOthers = (i: number) => (peers: PeerSeen[]): boolean =>
    peers.length === 2 && [0, 1, 2].filter(j => j !== i).every(j => rightEntry(peers, j))

  before(async function () {
    const reason = netnsUnavailableReason()
    if (reason !== null) {
      console.log(`      skipping: ${reason}`)
      this.skip()
    }
    lan = await createLan({ prefix: PREFIX, hosts: 3 })

    for (let i = 0; i < 3; i++) {
      const dir = await mkdtemp(join(tmpdir(), `wmt-peers-h${i + 1}-`))
      dirs.push(dir)
      await writeFile(join(dir, 'skills.json'), JSON.stringify({ skills: HOST_SKILLS[i].map(name => ({ name, provider: { type: 'simulated' } })) }))
    }
    // Pollers first, so their own start-up is not part of what is measured.
    for (let i = 0; i < 3; i++) {
      pollers.push(startPoller(lan, i, HTTP_PORT, POLL_MS))
    }
    for (const p of pollers) {
      if (!await p.until(() => p.lines.some(l => l.ready === true), 5_000)) throw new Error(`poller did not start: ${p.stderr}`)
    }

    spawnedAt = Date.now()
    for (let i = 0; i < 3; i++) {
      nodes.push(new Watched(lan.exec(i, [
        NODE_BIN, WASMESH, 'start',
        '--name', `h${i + 1}`,
        '--data', join(dirs[i], 'data'),
        '--http', `0.0.0.0:${HTTP_PORT}`,
        '--skills', join(dirs[i], 'skills.json')
      ], { cwd: ROOT })))
    }
    for (const [i, n] of nodes.entries()) {
      const re = /^peer id\s+(\S+)$/m
      if (!await n.until(() => re.test(n.stdout), 10_000)) {
        throw new Error(`h${i + 1} did not start (exit ${JSON.stringify(n.exit)}):\n${n.stdout}\n${n.stderr}`)
      }
      peerIds.push(re.exec(n.stdout)?.[1] ?? '')
    }
  })

  after(async function () {
    this.timeout(15_000)
    for (const w of [...nodes, ...pollers]) w.kill('SIGKILL')
    await lan?.destroy()
    await destroyLanByPrefix(PREFIX) // by name, even if createLan threw half-way
    await Promise.all(dirs.map(d => rm(d, { recursive: true, force: true })))
  })

  it(`every node's GET /peers lists the other two, with their skills, within ${DISCOVERY_DEADLINE_MS / 1000} s of spawning`, async function () {
    // Wait past the deadline if need be, so a failure still reports the time it took.
    await Promise.all(pollers.map((p, i) => p.until(() => firstSeen(p, knowsAllOthers(i)) !== undefined, DISCOVERY_DEADLINE_MS + 3_000 - (Date.now() - spawnedAt))))
    const times = pollers.map((p, i) => {
      const t = firstSeen(p, knowsAllOthers(i))
      return t === undefined ? undefined : t - spawnedAt
    })
    const started = nodes.map(n => n.stdout.includes('\nhttp ') ? 'up' : 'not up')
    console.log(`      full tables after (ms from spawn, per host): ${times.map((t, i) => `h${i + 1}=${t ?? 'never'}`).join(' ')}; polled every ${POLL_MS} ms`)
    for (const [i, t] of times.entries()) {
      const last = snapshots(pollers[i]).at(-1)
      expect(t, `h${i + 1} (${started[i]}) table never complete; last seen: ${JSON.stringify(last)}; stderr: ${nodes[i].stderr}`).to.not.equal(undefined)
      expect(t, `h${i + 1} table complete after ${t} ms`).to.be.at.most(DISCOVERY_DEADLINE_MS)
    }
    // Self is never listed; and nobody else.
    for (const [i, p] of pollers.entries()) {
      const last = snapshots(p).at(-1)?.peers ?? []
      expect(last.map(e => e.peerId).sort()).to.deep.equal(peerIds.filter((_, j) => j !== i).sort())
    }
  })

  it('a node stopped with SIGTERM exits 0, prints "stopped", and leaves the other two tables', async function () {
    const gone = 2
    const stayed = [0, 1]
    // Stop a node that has joined the gossip mesh: every table holds every other peer from a
    // signed announcement (not just its mDNS summary), so the node's gossip goodbye has
    // somewhere to go. A node stopped before that (within ~200 ms of its start) is not
    // covered here: the mDNS beacon sends no goodbye, so it lingers in the others' tables
    // until it expires (3-7 s with the default heartbeat).
    const meshed = (i: number) => (peers: PeerSeen[]): boolean => knowsAllOthers(i)(peers) && peers.every(p => p.via === 'gossip')
    const ready = await Promise.all(pollers.map((p, i) => p.until(() => firstSeen(p, meshed(i)) !== undefined, 5_000)))
    expect(ready, 'every table holds the others from gossip before the stop').to.deep.equal([true, true, true])
    console.log(`      tables from gossip after (ms from spawn): ${pollers.map((p, i) => `h${i + 1}=${(firstSeen(p, meshed(i)) ?? NaN) - spawnedAt}`).join(' ')}`)

    const stoppedAt = Date.now()
    nodes[gone].kill('SIGTERM')
    await nodes[gone].until(() => nodes[gone].exit !== undefined, 5_000)
    expect(nodes[gone].exit, `h3 did not exit; stdout:\n${nodes[gone].stdout}`).to.not.equal(undefined)
    expect(nodes[gone].exit, `h3 stderr: ${nodes[gone].stderr}`).to.deep.equal({ code: 0, signal: null })
    expect(nodes[gone].stdout).to.match(/^SIGTERM: stopping$/m)
    expect(nodes[gone].stdout).to.match(/^stopped$/m)
    const exitMs = Date.now() - stoppedAt

    const withoutIt = (i: number) => (peers: PeerSeen[]): boolean =>
      peers.length === 1 && peers[0].peerId === peerIds[stayed.find(j => j !== i) ?? -1] && rightEntry(peers, stayed.find(j => j !== i) ?? -1)
    await Promise.all(stayed.map(i => pollers[i].until(() => firstSeen(pollers[i], withoutIt(i), stoppedAt) !== undefined, LEAVE_DEADLINE_MS + 2_000)))
    const times = stayed.map(i => {
      const t = firstSeen(pollers[i], withoutIt(i), stoppedAt)
      return t === undefined ? undefined : t - stoppedAt
    })
    console.log(`      h3 exited ${exitMs} ms after SIGTERM; gone from tables after (ms): ${times.map((t, k) => `h${stayed[k] + 1}=${t ?? 'never'}`).join(' ')}`)
    const history = (i: number): string => snapshots(pollers[i])
      .map(s => `${s.t - spawnedAt}: ${s.err ?? s.peers?.map(e => `${e.name}/${e.via}`).join(',')}`).join('; ')
    for (const [k, t] of times.entries()) {
      const i = stayed[k]
      if (t === undefined || t > LEAVE_DEADLINE_MS) console.log(`      h${i + 1} table history (ms from spawn; SIGTERM at ${stoppedAt - spawnedAt}): ${history(i)}`)
      expect(t, `h${i + 1} still lists h3 (or lost h${stayed.find(j => j !== i)! + 1}); last seen: ${JSON.stringify(snapshots(pollers[i]).at(-1))}`).to.not.equal(undefined)
      expect(t).to.be.at.most(LEAVE_DEADLINE_MS)
    }
    // The survivors keep running.
    for (const i of stayed) expect(nodes[i].exit).to.equal(undefined)
  })
})
