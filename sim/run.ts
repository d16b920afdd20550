import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parse as parseWat } from '@bytecodealliance/jco'
import { WasmeshError, isWasmeshError } from '../src/errors.ts'
import { skillsDigest } from '../src/wasm/skills/descriptor.ts'
import { skillDescriptors } from '../src/wasm/skills/skills-file.ts'
import { SimLan } from './lan.ts'
import { planScenario, simulatedSkills } from './plan.ts'
import { bySecond, recoveries, successAfterRecovery } from './recovery.ts'
import { LatencyHistogram } from './report/histogram.ts'
import { Rng } from './rng.ts'
import { SimThreads } from './threads.ts'
import type { PlannedAction, PlannedNode } from './plan.ts'
import type { CallRecord } from './recovery.ts'
import type { Progress } from './report/progress.ts'
import type { SimReport } from './report/types.ts'
import type { Scenario, ScenarioCall } from './scenario.ts'
import type { CallOrder, CallResult, DeployResult, ExpectedPeer, HistogramData, Sample, StartedNode } from './worker-protocol.ts'

/** Nodes a thread starts at once: more at a time only queue on its event loop. */
const START_BATCH = 25
const SAMPLE_MS = 500
/** deployments retry this long while the deploying node has not yet heard who holds a module */
const DEPLOY_RETRY_MS = 15_000
/** the record reaches every node by gossip: time for that before the load begins */
const SETTLE_MS = 2_000

interface LiveNode extends PlannedNode {
  peerId: string
  segment: number
}

/**
 * Runs a scenario: starts the mesh over the threads, waits for discovery to converge, adds the
 * modules and deploys, then runs the call load while the timed events happen. Returns what was
 * measured; the caller writes the reports.
 */
export async function runScenario (s: Scenario, progress?: Progress): Promise<{ report: SimReport, calls: CallRecord[] }> {
  const started = performance.now()
  const startedAt = new Date().toISOString()
  const plan = planScenario(s)
  const rng = new Rng(s.seed ^ 0xca11)
  const dir = await mkdtemp(join(tmpdir(), 'wasmesh-sim-'))
  const threads = new SimThreads(s.workers, worker => ({ worker, dir: join(dir, `t${worker}`), heartbeatMs: s.heartbeatMs, latencyMs: s.latencyMs }))
  const lan = new SimLan({ fanout: s.fanout, seed: s.seed, send: (w, n) => { threads.notify(w, n) } })
  const live = new Map<number, LiveNode>()
  const phases = new PhaseClock('starting nodes')
  let sampling = true
  let sampler: Promise<void> | undefined
  /** why sampling stopped, if a thread failed: rethrown by the run, never left unhandled while it sleeps */
  let samplerError: Error | undefined
  try {
    // --- discovery
    progress?.phase('starting nodes', 0)
    const t0 = performance.now()
    const timeline: SimReport['discovery']['timeline'] = []
    let expectedReady = false
    sampler = (async () => {
      while (sampling) {
        await sleep(SAMPLE_MS)
        if (!sampling) break
        const all = await threads.all<Sample>({ op: 'sample' })
        const liveCount = all.reduce((a, x) => a + x.live, 0)
        const complete = all.reduce((a, x) => a + x.complete, 0)
        const known = all.reduce((a, x) => a + x.known, 0)
        const share = (x: number): number => expectedReady && liveCount > 0 ? x / liveCount : 0
        timeline.push({ t: Math.round(performance.now() - t0), converged: share(complete), known: share(known) })
      }
    })().catch((err: Error) => { samplerError = err; sampling = false })
    await startNodes(plan.nodes, threads, lan, live, (n) => progress?.phase('starting nodes', n / plan.nodes.length))
    await threads.all({ op: 'expect', peers: expected(live) })
    expectedReady = true
    phases.next('discovery')
    progress?.phase('discovery', 0)
    let convergedMs: number | null = null
    const convergeBy = t0 + s.convergeTimeoutS * 1000
    while (performance.now() < convergeBy) {
      if (samplerError !== undefined) throw samplerError
      const last = timeline.at(-1)
      if (last !== undefined && last.converged === 1) {
        convergedMs = last.t
        break
      }
      progress?.phase('discovery', last?.known ?? 0)
      await sleep(SAMPLE_MS / 2)
    }

    // --- modules and deployments
    phases.next('deploying')
    progress?.phase('deploying', 0)
    const liveIndices = (): number[] => [...live.keys()]
    for (const m of s.modules) {
      const bytes = await moduleBytes(m.file)
      await Promise.all((plan.holders.get(m.name) ?? []).map(async index => {
        await threads.request(live.get(index)!.worker, { op: 'add-module', index, name: m.name, bytes })
      }))
    }
    const deploys: SimReport['deploys'] = []
    const names = new Map([...live.values()].map(n => [n.peerId, n.name]))
    const deployed = new Map<string, { id: string, firstStep: { module: string, function: string } }>()
    for (const [i, manifest] of s.deployments.entries()) {
      const index = rng.pick(liveIndices())
      const name = manifestName(manifest, i)
      const result = await deployWithRetry(threads, live.get(index)!.worker, index, manifest)
      if ('error' in result) {
        deploys.push({ name, ms: result.ms, ok: false, error: result.error, placement: [] })
      } else {
        deploys.push({ name, ms: result.ms, ok: true, placement: result.peers.map(ps => ps.map(p => names.get(p) ?? p)) })
        deployed.set(name, { id: result.id, firstStep: firstStep(manifest) })
      }
      progress?.phase('deploying', (i + 1) / s.deployments.length)
    }
    if (deployed.size > 0) await sleep(SETTLE_MS)

    // --- call load with events
    const orders = callOrders(s, deployed)
    const calls: CallRecord[] = []
    const events: SimReport['events'] = []
    await threads.all<HistogramData>({ op: 'announcements' })
    phases.next('calls')
    const tLoad = performance.now()
    const loadMs = s.load.durationS * 1000
    const inFlight = new Set<Promise<void>>()
    const eventsDone = runEvents(plan.actions, tLoad, async (action) => {
      events.push({ t: Math.round(performance.now() - tLoad), type: action.type, nodes: nodesOf(action), detail: describe(action) })
      await apply(action, threads, lan, live)
    })
    const interval = s.load.rate > 0 ? 1000 / s.load.rate : Infinity
    let k = 0
    while (orders.length > 0 && performance.now() - tLoad < loadMs) {
      const due = tLoad + k * interval
      const wait = due - performance.now()
      if (wait > 1) await sleep(wait)
      const order = orders[k % orders.length]
      k++
      const candidates = liveIndices()
      if (candidates.length === 0) continue
      const index = rng.pick(candidates)
      const t = performance.now() - tLoad
      const entry = live.get(index)!
      const segment = entry.segment
      const p = threads.request<CallResult>(entry.worker, { op: 'call', index, call: order.call })
        .catch((err: Error): CallResult => ({ ok: false, ms: performance.now() - tLoad - t, code: isWasmeshError(err) ? err.code : 'internal', message: err.message }))
        .then((r) => { calls.push({ t, ms: r.ms, answeredAt: performance.now() - tLoad, ok: r.ok, deployment: order.deployment, code: r.code, entry: entry.name, segment }) })
      inFlight.add(p)
      void p.finally(() => inFlight.delete(p))
      progress?.phase('calls', Math.min(1, (performance.now() - tLoad) / loadMs))
    }
    if (orders.length === 0) await sleep(Math.max(0, tLoad + loadMs - performance.now()))
    await Promise.all(inFlight)
    await eventsDone
    phases.next('finishing')
    const announcements = new LatencyHistogram()
    for (const h of await threads.all<HistogramData>({ op: 'announcements' })) announcements.merge(h)
    sampling = false
    await sampler
    if (samplerError !== undefined) throw samplerError
    const lastSample = await threads.all<Sample>({ op: 'sample' })

    // --- what it all came to
    const limitMs = s.recoveryLimitS * 1000
    const found = recoveries(events, calls, limitMs)
    const wallMs = performance.now() - started
    progress?.done()
    const report: SimReport = {
      scenario: {
        name: s.name,
        seed: s.seed,
        nodes: s.nodes,
        workers: s.workers,
        fanout: s.fanout,
        heartbeatMs: s.heartbeatMs,
        latencyMs: s.latencyMs,
        skills: skillCounts(plan.nodes)
      },
      startedAt,
      wallMs: Math.round(wallMs),
      phases: phases.end(),
      discovery: { convergedMs, timeline },
      announcements: announcements.summary(),
      deploys,
      calls: callSummary(calls, loadMs, successAfterRecovery(events, found, calls, limitMs)),
      events,
      recovery: found,
      perNode: perNode(lastSample, plan.nodes.length + plan.actions.reduce((a, x) => a + (x.type === 'join' ? x.nodes.length : 0), 0), wallMs)
    }
    return { report, calls }
  } finally {
    // A run that failed must not leave the sampler asking stopped threads.
    sampling = false
    await sampler
    await threads.close()
    await rm(dir, { recursive: true, force: true })
  }
}

/** Wall clock per phase of a run. */
class PhaseClock {
  readonly #done: Array<{ name: string, ms: number }> = []
  #name: string
  #since = performance.now()

  constructor (first: string) {
    this.#name = first
  }

  next (name: string): void {
    const now = performance.now()
    this.#done.push({ name: this.#name, ms: Math.round(now - this.#since) })
    this.#name = name
    this.#since = now
  }

  end (): Array<{ name: string, ms: number }> {
    this.next('')
    return this.#done
  }
}

async function startNodes (planned: PlannedNode[], threads: SimThreads, lan: SimLan, live: Map<number, LiveNode>, onProgress?: (n: number) => void): Promise<void> {
  const byWorker = new Map<number, PlannedNode[]>()
  for (const p of planned) byWorker.set(p.worker, [...(byWorker.get(p.worker) ?? []), p])
  let done = 0
  // Batch by batch on every thread at once, and onto the LAN in index order (threads taking
  // turns): joining one thread's nodes first would link them mostly among themselves.
  for (let i = 0; ; i += START_BATCH) {
    const batches = [...byWorker].map(([worker, mine]) => ({ worker, batch: mine.slice(i, i + START_BATCH) })).filter(b => b.batch.length > 0)
    if (batches.length === 0) break
    const started = (await Promise.all(batches.map(async ({ worker, batch }) => {
      const nodes = await threads.request<StartedNode[]>(worker, { op: 'create', nodes: batch })
      return nodes.map((node, j) => ({ node, worker, plan: batch[j] }))
    }))).flat().sort((a, b) => a.plan.index - b.plan.index)
    for (const { node, worker, plan } of started) {
      live.set(node.index, { ...plan, peerId: node.peerId, segment: 0 })
      lan.join(node, worker)
    }
    done += started.length
    onProgress?.(done)
  }
}

/** Every live node, with its skills digest: what every node of its segment (the threads know them) should know. */
function expected (live: Map<number, LiveNode>): ExpectedPeer[] {
  return [...live.values()].map(n => ({ peerId: n.peerId, digest: digestOf(n.skills) }))
}

function digestOf (skills: string[]): string {
  return skillsDigest(skillDescriptors(simulatedSkills(skills)))
}

async function apply (action: PlannedAction, threads: SimThreads, lan: SimLan, live: Map<number, LiveNode>): Promise<void> {
  switch (action.type) {
    case 'crash':
    case 'leave': {
      const gone = action.nodes.map(i => live.get(i)).filter(n => n !== undefined)
      for (const n of gone) {
        live.delete(n.index)
        lan.leave(n.index)
      }
      await Promise.all(gone.map(async n => await threads.request(n.worker, { op: 'stop', index: n.index, goodbye: action.type === 'leave' })))
      break
    }
    case 'join':
      await startNodes(action.nodes, threads, lan, live)
      break
    case 'partition': {
      const segmentOf = new Map<number, number>()
      action.segments.forEach((nodes, segment) => { for (const i of nodes) segmentOf.set(i, segment) })
      for (const n of live.values()) n.segment = segmentOf.get(n.index) ?? 0
      lan.segment(segmentOf)
      const byPeer: Array<[string, number]> = [...live.values()].map(n => [n.peerId, n.segment])
      await threads.all({ op: 'segments', segmentOf: byPeer })
      break
    }
    case 'heal':
      for (const n of live.values()) n.segment = 0
      await threads.all({ op: 'segments', segmentOf: null })
      lan.segment(null)
      break
    case 'skills':
      await Promise.all(action.nodes.map(async ({ index, skills }) => {
        const n = live.get(index)
        if (n === undefined) return
        n.skills = skills
        await threads.request(n.worker, { op: 'skills', index, skills })
      }))
      break
  }
  await threads.all({ op: 'expect', peers: expected(live) })
}

async function runEvents (actions: PlannedAction[], t0: number, run: (a: PlannedAction) => Promise<void>): Promise<void> {
  for (const action of actions) {
    const wait = t0 + action.atMs - performance.now()
    if (wait > 0) await sleep(wait)
    await run(action)
  }
}

async function deployWithRetry (threads: SimThreads, worker: number, index: number, manifest: unknown): Promise<DeployResult | { ms: number, error: string }> {
  const until = performance.now() + DEPLOY_RETRY_MS
  for (;;) {
    try {
      return await threads.request<DeployResult>(worker, { op: 'deploy', index, manifest })
    } catch (err) {
      // The deploying node may not have heard yet who holds a module just added elsewhere.
      const code = isWasmeshError(err) ? err.code : 'internal'
      if (code === 'not-found' && performance.now() < until) {
        await sleep(250)
        continue
      }
      return { ms: 0, error: `${code}: ${(err as Error).message}` }
    }
  }
}

interface Order { deployment: string, call: CallOrder }

function callOrders (s: Scenario, deployed: Map<string, { id: string, firstStep: { module: string, function: string } }>): Order[] {
  const wanted: ScenarioCall[] = s.load.calls ?? [...deployed.keys()].map(deployment => ({ deployment, args: [] }))
  const orders: Order[] = []
  for (const c of wanted) {
    const d = deployed.get(c.deployment)
    if (d === undefined) continue
    orders.push({
      deployment: c.deployment,
      call: { deployment: d.id, module: c.module ?? d.firstStep.module, function: c.function ?? d.firstStep.function, args: c.args, timeoutMs: s.load.timeoutMs }
    })
  }
  return orders
}

function manifestName (manifest: unknown, i: number): string {
  const name = (manifest as { name?: unknown })?.name
  return typeof name === 'string' ? name : `deployment-${i}`
}

/** The first step's module and function in either manifest shape (the node has already accepted it). */
function firstStep (manifest: unknown): { module: string, function: string } {
  const m = manifest as { steps?: Array<{ module: string, function: string }>, sequence?: Array<{ module: string, func: string }> }
  if (m.steps !== undefined) return { module: m.steps[0].module, function: m.steps[0].function }
  if (m.sequence !== undefined) return { module: m.sequence[0].module, function: m.sequence[0].func }
  throw new WasmeshError('bad-request', 'scenario: a deployment has no steps')
}

async function moduleBytes (file: string): Promise<Uint8Array> {
  try {
    const bytes = await readFile(file)
    return file.endsWith('.wat') ? await parseWat(bytes.toString('utf8')) : new Uint8Array(bytes)
  } catch (err) {
    throw new WasmeshError('bad-request', `scenario: module ${file}: ${(err as Error).message}`, { field: 'modules' })
  }
}

function skillCounts (nodes: PlannedNode[]): Array<{ name: string, nodes: number }> {
  const counts = new Map<string, number>()
  for (const n of nodes) for (const s of n.skills) counts.set(s, (counts.get(s) ?? 0) + 1)
  return [...counts].map(([name, nodes]) => ({ name, nodes }))
}

function callSummary (calls: CallRecord[], loadMs: number, afterRecovery: number): SimReport['calls'] {
  const h = new LatencyHistogram()
  const errors: Record<string, number> = {}
  for (const c of calls) {
    if (c.ok) h.add(c.ms)
    else errors[c.code ?? 'internal'] = (errors[c.code ?? 'internal'] ?? 0) + 1
  }
  const timeline: SimReport['calls']['timeline'] = []
  const seconds = bySecond(calls)
  for (let t = 0; t < loadMs; t += 1000) {
    const mine = seconds.get(t / 1000) ?? []
    const okMs = mine.filter(c => c.ok).map(c => c.ms).sort((a, b) => a - b)
    timeline.push({ t, ok: okMs.length, failed: mine.length - okMs.length, p50Ms: okMs.length === 0 ? null : okMs[Math.floor((okMs.length - 1) / 2)] })
  }
  const ok = calls.filter(c => c.ok).length
  return { ...h.summary(), total: calls.length, ok, failed: calls.length - ok, successRate: calls.length === 0 ? 1 : ok / calls.length, successRateAfterRecovery: afterRecovery, errors, timeline }
}

function perNode (last: Sample[], everStarted: number, wallMs: number): SimReport['perNode'] {
  const gossip = last.reduce((a, x) => a + x.gossipMessages, 0)
  const bytes = last.reduce((a, x) => a + x.bytesOut, 0)
  const busy = last.reduce((a, x) => a + x.busyMs, 0)
  const nodeSeconds = Math.max(1, everStarted) * wallMs / 1000
  const liveNow = Math.max(1, last.reduce((a, x) => a + x.live, 0))
  return {
    gossipMessagesPerS: gossip / nodeSeconds,
    bytesInPerS: bytes / nodeSeconds,
    cpuMsPerS: busy / nodeSeconds,
    rssMb: process.memoryUsage().rss / 1024 / 1024 / liveNow
  }
}

function nodesOf (action: PlannedAction): string[] {
  switch (action.type) {
    case 'crash': case 'leave': return action.nodes.map(i => `n${i}`)
    case 'join': return action.nodes.map(n => n.name)
    case 'partition': return []
    case 'heal': return []
    case 'skills': return action.nodes.map(n => `n${n.index}`)
  }
}

function describe (action: PlannedAction): string {
  switch (action.type) {
    case 'crash': return `${action.nodes.length} nodes crash`
    case 'leave': return `${action.nodes.length} nodes leave`
    case 'join': return `${action.nodes.length} nodes join`
    case 'partition': return `the LAN splits into ${action.segments.map(s => s.length).join(' + ')} nodes`
    case 'heal': return 'the LAN is whole again'
    case 'skills': return `${action.nodes.length} nodes change skills`
  }
}

async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}
