/**
 * Discovery benchmark: how long until every node knows every other peer's skills.
 *
 *   node_modules/.bin/node bench/discovery.ts [--runs N] [--nodes N]
 *
 * (a) 3 real `wasmesh start` processes, one per network namespace on a bridged LAN
 *     (test/helpers/netns.ts): TCP, real mDNS, the HTTP API. Timed from spawning the
 *     processes until every node's GET /peers lists the other two with their skills, as seen
 *     by a poller process inside each namespace (the namespaces have no route to the root
 *     namespace). Needs root; skipped, with the reason, where namespaces cannot be made.
 * (b) N (default 50) in-process nodes on a MemoryLan (the memory transport as it comes, without
 *     the simulator's yielding wrapper; told discovery as in the simulator), each run in a fresh child process so its RSS is its own. Timed from the
 *     first start() call until all N tables hold N-1 peers with the right skills.
 *
 * Both use the default heartbeat (2 s). Nodes get skills round-robin: camera, dht, none.
 */
import { spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { startPoller, Watched } from '../test/helpers/peers-poller.ts'
import type { ChildProcess } from 'node:child_process'
import type { PeerSeen, PollStats } from '../test/helpers/peers-poller.ts'
import { median, sleep } from './stats.ts'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const NODE_BIN = join(ROOT, 'node_modules', '.bin', 'node')
const WASMESH = join(ROOT, 'bin', 'wasmesh.js')
const SELF = fileURLToPath(import.meta.url)
const PREFIX = 'wmb-disc'
const HTTP_PORT = 8080
const POLL_MS = 20
const NETNS_HOSTS = 3
const NETNS_RUN_TIMEOUT_MS = 15_000
const MEMORY_RUN_TIMEOUT_MS = 60_000

const SKILL_CYCLE: string[][] = [['camera'], ['dht'], []]
const skillsOf = (i: number): string[] => SKILL_CYCLE[i % SKILL_CYCLE.length]
const expectedSkills = (i: number): string => ['sys', ...skillsOf(i)].sort().join(',')

const fmt = (ms: number): string => String(Math.round(ms))
const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1)

// ---------------------------------------------------------------------------
// (b) in-process nodes: one run in this (child) process, result as one JSON line

interface MemoryResult {
  nodes: number
  /** first start() call -> every table full, with skills */
  convergedMs: number
  /** first start() call -> every start() resolved */
  startedMs: number
  rssBefore: number
  rssAfter: number
  heapPerNode: number
}

async function memoryRun (n: number): Promise<void> {
  const { MemoryLan, memoryParts } = await import('../sim/memory-lan.ts')
  const { WasmeshNode } = await import('../src/node/node.ts')
  const lan = new MemoryLan()
  const rssBefore = process.memoryUsage().rss
  const heapBefore = process.memoryUsage().heapUsed
  const nodes = await Promise.all(Array.from({ length: n }, async (_, i) => WasmeshNode.create({
    name: `n${i}`,
    http: false,
    skills: skillsOf(i).map(name => ({ name, provider: { type: 'simulated' } })),
    parts: await memoryParts(lan)
  })))
  const want = new Map(nodes.map((node, i) => [node.peerId, expectedSkills(i)]))
  const full = (): boolean => nodes.every(node => node.peers.size === n - 1 &&
    node.peers.list().every(e => e.skills.map(s => s.name).sort().join(',') === want.get(e.peerId)))

  const t0 = performance.now()
  let startedMs = NaN
  const starting = Promise.all(nodes.map(async node => { await node.start() })).then(() => { startedMs = performance.now() - t0 })
  while (!full()) {
    if (performance.now() - t0 > MEMORY_RUN_TIMEOUT_MS) throw new Error(`not converged after ${MEMORY_RUN_TIMEOUT_MS} ms: table sizes ${nodes.map(x => x.peers.size).join(',')}`)
    await sleep(5)
  }
  const convergedMs = performance.now() - t0
  await starting
  const mem = process.memoryUsage()
  const result: MemoryResult = { nodes: n, convergedMs, startedMs, rssBefore, rssAfter: mem.rss, heapPerNode: (mem.heapUsed - heapBefore) / n }
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`)
  await Promise.all(nodes.map(async node => { await node.stop() }))
}

/** The running (b) child and (a)'s temp dirs, cleaned up also if this process exits early (Ctrl-C). */
let memoryChild: ChildProcess | undefined
const tempDirs: string[] = []
process.on('exit', () => {
  memoryChild?.kill('SIGKILL')
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true })
})

function runMemoryChild (n: number): Promise<MemoryResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SELF, '--memory-run', '--nodes', String(n)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    memoryChild = child
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d })
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d })
    const timer = setTimeout(() => { child.kill('SIGKILL') }, MEMORY_RUN_TIMEOUT_MS + 15_000)
    child.once('error', reject)
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      memoryChild = undefined
      const line = out.split('\n').find(l => l.startsWith('RESULT '))
      if (line === undefined) {
        reject(new Error(`memory run failed (exit ${code ?? signal}):\n${out}\n${err}`))
        return
      }
      resolve(JSON.parse(line.slice('RESULT '.length)) as MemoryResult)
    })
  })
}

// ---------------------------------------------------------------------------
// (a) processes on a netns LAN

async function until (cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(5)
  }
}

interface NetnsRun {
  /** spawn -> every table lists the others with their skills */
  convergedMs: number
  /** spawn -> the last process printed its `http` line (process start-up) */
  lastStartedMs: number
  /** spawn -> every table holds the others from gossip (signed announcements), not just mDNS */
  gossipMs: number
}

async function netnsBench (runs: number): Promise<{ results: NetnsRun[], stats: PollStats[] } | string> {
  const { createLan, destroyLanByPrefix, netnsUnavailableReason } = await import('../test/helpers/netns.ts')
  const reason = netnsUnavailableReason()
  if (reason !== null) return reason

  const dirs = tempDirs
  const pollers: Watched[] = []
  let nodes: Watched[] = []
  const lan = await createLan({ prefix: PREFIX, hosts: NETNS_HOSTS })
  try {
    for (let i = 0; i < NETNS_HOSTS; i++) {
      pollers.push(startPoller(lan, i, HTTP_PORT, POLL_MS))
    }
    await until(() => pollers.every(p => p.lines.some(l => l.ready === true)), 10_000, 'the pollers to start')

    const results: NetnsRun[] = []
    for (let run = 0; run < runs; run++) {
      // Fresh data dirs: fresh peer keys, nothing remembered from the run before.
      const runDirs: string[] = []
      for (let i = 0; i < NETNS_HOSTS; i++) {
        const dir = await mkdtemp(join(tmpdir(), `${PREFIX}-r${run}-h${i + 1}-`))
        runDirs.push(dir)
        dirs.push(dir)
        await writeFile(join(dir, 'skills.json'), JSON.stringify({ skills: skillsOf(i).map(name => ({ name, provider: { type: 'simulated' } })) }))
      }
      const httpLine = /^http\s+\S+$/m
      const spawnedAt = Date.now()
      nodes = runDirs.map((dir, i) => new Watched(lan.exec(i, [
        NODE_BIN, WASMESH, 'start', '--name', `h${i + 1}`, '--data', join(dir, 'data'),
        '--http', `0.0.0.0:${HTTP_PORT}`, '--skills', join(dir, 'skills.json')
      ], { cwd: ROOT }), [httpLine]))
      const idRe = /^peer id\s+(\S+)$/m
      await until(() => nodes.every(n => idRe.test(n.stdout) || n.exit !== undefined), NETNS_RUN_TIMEOUT_MS, 'the nodes to start')
      const dead = nodes.findIndex(n => n.exit !== undefined)
      if (dead >= 0) throw new Error(`h${dead + 1} exited: ${nodes[dead].stdout}\n${nodes[dead].stderr}`)
      const ids = nodes.map(n => idRe.exec(n.stdout)?.[1] ?? '')

      const full = (i: number, viaGossip: boolean) => (peers: PeerSeen[]): boolean =>
        peers.length === NETNS_HOSTS - 1 && ids.every((id, j) => {
          if (j === i) return true
          const e = peers.find(p => p.peerId === id)
          return e !== undefined && [...e.skills].sort().join(',') === expectedSkills(j) && (!viaGossip || e.via === 'gossip')
        })
      const seen = (i: number, viaGossip: boolean): number | undefined =>
        pollers[i].lines.find(l => l.t !== undefined && l.t >= spawnedAt && l.peers !== undefined && full(i, viaGossip)(l.peers))?.t
      await until(() => pollers.every((_, i) => seen(i, true) !== undefined), NETNS_RUN_TIMEOUT_MS, 'every table to be full')

      const r: NetnsRun = {
        convergedMs: Math.max(...pollers.map((_, i) => (seen(i, false) ?? NaN) - spawnedAt)),
        gossipMs: Math.max(...pollers.map((_, i) => (seen(i, true) ?? NaN) - spawnedAt)),
        lastStartedMs: Math.max(...nodes.map(n => (n.marks.get(httpLine.source) ?? NaN) - spawnedAt))
      }
      results.push(r)
      console.log(`  (a) run ${run + 1}: all tables full after ${fmt(r.convergedMs)} ms (processes up after ${fmt(r.lastStartedMs)} ms; all entries from gossip after ${fmt(r.gossipMs)} ms)`)

      for (const n of nodes) n.kill('SIGTERM')
      await Promise.race([Promise.all(nodes.map(async n => { await n.exited })), sleep(5_000)])
      const bad = nodes.findIndex(n => n.exit?.code !== 0)
      if (bad >= 0) console.log(`  (a) run ${run + 1}: h${bad + 1} did not stop cleanly: ${JSON.stringify(n2s(nodes[bad]))}`)
      for (const n of nodes) n.kill('SIGKILL')
      await Promise.all(nodes.map(async n => { await n.exited }))
      nodes = []
      // Let the pollers see the ports closed, so the next run starts from empty tables.
      await until(() => pollers.every(p => p.lines.at(-1)?.err !== undefined), 5_000, 'the HTTP ports to close')
    }

    for (const p of pollers) p.kill('SIGTERM')
    await Promise.race([Promise.all(pollers.map(async p => { await p.exited })), sleep(3_000)])
    const stats = pollers.map(p => p.lines.find(l => l.stats !== undefined)?.stats).filter(s => s !== undefined)
    return { results, stats }
  } finally {
    for (const w of [...nodes, ...pollers]) w.kill('SIGKILL')
    await lan.destroy()
    await destroyLanByPrefix(PREFIX)
    await Promise.all(dirs.splice(0).map(d => rm(d, { recursive: true, force: true })))
  }
}

function n2s (w: Watched): { exit: Watched['exit'], stdout: string, stderr: string } {
  return { exit: w.exit, stdout: w.stdout.slice(-300), stderr: w.stderr.slice(-300) }
}

// ---------------------------------------------------------------------------

async function main (): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '3' },
      nodes: { type: 'string', default: '50' },
      'memory-run': { type: 'boolean', default: false }
    }
  })
  const runs = Number(values.runs)
  const n = Number(values.nodes)
  if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(n) || n < 2) throw new Error('--runs must be >= 1 and --nodes >= 2')
  if (values['memory-run']) {
    await memoryRun(n)
    process.exit(0)
  }
  // Ctrl-C: exit, so the netns helper's exit hook removes the namespaces.
  process.on('SIGINT', () => { process.exit(130) })
  process.on('SIGTERM', () => { process.exit(143) })

  console.log(`discovery benchmark (node ${process.version}, default heartbeat 2 s, skills round-robin camera/dht/none)`)
  console.log(`(a) ${NETNS_HOSTS} wasmesh processes, one per network namespace, TCP + mDNS, ${runs} runs`)
  const a = await netnsBench(runs)
  if (typeof a === 'string') {
    console.log(`  (a) skipped: ${a}`)
  } else if (a.stats.length > 0) {
    const avg = a.stats.reduce((s, x) => s + x.avgMs * x.n, 0) / a.stats.reduce((s, x) => s + x.n, 0)
    const max = Math.max(...a.stats.map(s => s.maxMs))
    const cpu = a.stats.reduce((s, x) => s + x.cpuMs / x.wallMs, 0) / a.stats.length
    console.log(`  polling: a poller process in each namespace GETs 127.0.0.1:${HTTP_PORT}/peers every ${POLL_MS} ms and timestamps each change;`)
    console.log(`  a time is late by at most ${POLL_MS} ms + one request (avg ${avg.toFixed(1)} ms, max ${max.toFixed(1)} ms over ${a.stats.reduce((s, x) => s + x.n, 0)} requests);`)
    console.log(`  each poller used ${(cpu * 100).toFixed(1)}% of a CPU on average (running beside the nodes while they start)`)
  }

  console.log(`(b) ${n} in-process nodes on a MemoryLan, ${runs} runs (each in a fresh process)`)
  const b: MemoryResult[] = []
  for (let run = 0; run < runs; run++) {
    const r = await runMemoryChild(n)
    b.push(r)
    console.log(`  (b) run ${run + 1}: all ${n} tables full (${n - 1} peers with skills) after ${fmt(r.convergedMs)} ms ` +
      `(all start() resolved after ${fmt(r.startedMs)} ms); RSS ${mb(r.rssBefore)} -> ${mb(r.rssAfter)} MB, ` +
      `${mb((r.rssAfter - r.rssBefore) / n)} MB/node, heap ${mb(r.heapPerNode)} MB/node`)
  }
  console.log('  (b) polling: the tables are read in-process every 5 ms, so a time is late by at most ~5 ms')

  console.log('')
  console.log('summary (ms; median of the runs)')
  const rows: string[][] = [['scenario', 'runs (ms)', 'median', 'notes']]
  if (typeof a === 'string') {
    rows.push([`(a) ${NETNS_HOSTS} processes, netns`, 'skipped', '-', a])
  } else {
    rows.push([`(a) ${NETNS_HOSTS} processes, netns, from spawn`, a.results.map(r => fmt(r.convergedMs)).join(', '), fmt(median(a.results.map(r => r.convergedMs))),
      `process start-up median ${fmt(median(a.results.map(r => r.lastStartedMs)))} ` +
      `(ratio start-up/full ${(median(a.results.map(r => r.lastStartedMs)) / median(a.results.map(r => r.convergedMs))).toFixed(2)}); ` +
      `all via gossip median ${fmt(median(a.results.map(r => r.gossipMs)))}`])
  }
  rows.push([`(b) ${n} in-process, MemoryLan`, b.map(r => fmt(r.convergedMs)).join(', '), fmt(median(b.map(r => r.convergedMs))),
    `RSS/node median ${mb(median(b.map(r => (r.rssAfter - r.rssBefore) / n)))} MB (process RSS ${mb(median(b.map(r => r.rssAfter)))} MB)`])
  const widths = rows[0].map((_, c) => Math.max(...rows.map(r => r[c].length)))
  for (const r of rows) console.log('  ' + r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd())
}

try {
  await main()
} catch (err) {
  console.error(`bench failed: ${(err as Error).stack ?? String(err)}`)
  process.exitCode = 1
}
