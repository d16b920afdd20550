/**
 * Deployment benchmark: calls bridged through a node, deploy time, recovery after kill -9.
 *
 *   node_modules/.bin/node bench/deploy.ts [--calls N] [--seconds S] [--rounds N] [--kills N] [--only a,b,c] [--verbose] [--cpu-prof DIR] [--logs DIR]
 *
 * (--verbose prints CPU by thread of the nodes of (a) and the nodes' deployment log of (c); --cpu-prof writes V8 CPU profiles of the two
 * nodes of (a) to DIR, e.g. for chrome://inspect or speedscope; --logs writes each node's output
 * to DIR/NAME.log when it stops, with DEBUG=... in the environment for libp2p's logs.)
 *
 * Real `wasmesh start` processes, one per network namespace on a bridged LAN
 * (test/helpers/netns.ts): TCP, noise, yamux, real mDNS (never in the root namespace), data on
 * disk. The HTTP clients are driver processes (bench/deploy-driver.ts: node:http with a
 * keep-alive agent) inside the namespaces, which have no route to the root namespace. Needs
 * root; skipped, with the reason, where namespaces cannot be made.
 *
 * (a) Bridged vs direct call. Host H runs a one-step deployment of pipe-double `double`,
 *     pinned to it; node X hosts nothing. Direct: a driver in H's namespace calls H;
 *     bridged: a driver in X's namespace calls X, which carries the call to H over libp2p and
 *     the answer back; relayed, the baseline of the bridge: the same driver calls a plain TCP
 *     relay (its own Node process in X's namespace) that pipes the bytes to H's HTTP port, a hop
 *     with no parsing and no crypto. Same driver program, same call (POST {"args":[21]}).
 *     Warm-up, then --calls sequential calls each in rotating blocks (drift cancels) -> p50/p99; then
 *     --seconds at concurrency 32 each, alternating twice -> calls/s. The driver, X and H
 *     share the machine's cores: CPU per call of each (by thread, from /proc) is printed beside
 *     the figures, and a plain TCP round trip between the two namespaces as the floor.
 * (b) Deploy time of sensor (dht) -> camera (camera) -> double (none) over three nodes with
 *     skills dht / camera / none, deployed through the node without skills, timed by its
 *     driver as POST /deployments -> 201. Not cached: fresh module bytes each round (a custom
 *     section with a new tag), added only on the deploying node, so every winner fetches its
 *     module. Cached: the same modules added on every node first. Rounds alternate.
 * (c) Recovery after kill -9. Two camera nodes and one without skills; a one-step camera
 *     deployment is deployed through the one without skills, then its host is killed with
 *     SIGKILL while a driver in the third namespace calls through its node in a loop (per
 *     call x-wasmesh-timeout-ms: 1000). Timed from the kill to the first successful call.
 *     Between rounds the killed node comes back with a fresh data dir (a new peer id).
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync, readdirSync, rmSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { wat, withCustomSection } from '../test/helpers/fixtures.ts'
import { Watched } from '../test/helpers/peers-poller.ts'
import type { ChildProcess } from 'node:child_process'
import type { Lan } from '../test/helpers/netns.ts'
import { ascending, median, percentile, sleep } from './stats.ts'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const NODE_BIN = join(ROOT, 'node_modules', '.bin', 'node')
const WASMESH = join(ROOT, 'bin', 'wasmesh.js')
const DRIVER = join(ROOT, 'bench', 'deploy-driver.ts')
const PREFIX = 'wmb-dep'
const HOSTS = 3
const URL_IN_NS = 'http://127.0.0.1:8080'
const START_TIMEOUT_MS = 20_000
const MESH_TIMEOUT_MS = 20_000
const REQ_TIMEOUT_MS = 10_000
/** the node's prepare timeout (30 s) and then some */
const DEPLOY_TIMEOUT_MS = 40_000
const CONCURRENCY = 32
const BLOCK = 250
const WARMUP_CALLS = 300
const RECOVER_DEADLINE_MS = 20_000
const RECOVER_CALL_TIMEOUT_MS = 1000
const RECOVER_PAUSE_MS = 5
const ECHO_PORT = 9099
const RELAY_PORT = 9098

const f2 = (ms: number): string => ms.toFixed(2)
const f0 = (ms: number): string => String(Math.round(ms))

/** temp dirs, removed also when this process exits early (Ctrl-C); the LAN helper removes the namespaces */
const tempDirs: string[] = []
process.on('exit', () => { for (const d of tempDirs) rmSync(d, { recursive: true, force: true }) })

// ---------------------------------------------------------------------------
// CPU accounting from /proc (the pid namespace is shared with the network namespaces)

const CLK_TCK = ((): number => {
  try { return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100 } catch { return 100 }
})()

/** what a thread is, from its name: the main thread, a guest's worker, V8's helpers (GC, compiler) */
const THREAD_ROLE: Record<string, string> = { MainThread: 'main', WorkerThread: 'guest', V8Worker: 'v8' }

/** CPU ms of a process by thread role (threads of one role summed); nothing if it is gone */
function threadCpuMs (pid: number | undefined): Record<string, number> {
  const out: Record<string, number> = {}
  if (pid === undefined) return out
  let tids: string[] = []
  try { tids = readdirSync(`/proc/${pid}/task`) } catch { return out }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      const role = THREAD_ROLE[comm] ?? 'other'
      out[role] = (out[role] ?? 0) + (Number(f[11]) + Number(f[12])) * 1000 / CLK_TCK
    } catch { /* thread gone */ }
  }
  return out
}

/** busy and total CPU time of the whole machine (all cores), ms */
function machineCpuMs (): { busy: number, total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]
  const v = line.trim().split(/\s+/).slice(1).map(Number)
  const total = v.slice(0, 8).reduce((x, y) => x + y, 0)
  const idle = v[3] + v[4]
  return { busy: (total - idle) * 1000 / CLK_TCK, total: total * 1000 / CLK_TCK }
}

/** CPU time (ms) so far, keyed `PROCESS.ROLE` (e.g. `H.main`, `H.guest`), and the machine's busy and total time */
interface CpuReading { threads: Record<string, number>, busy: number, total: number }

function readCpu (pids: Record<string, number | undefined>): CpuReading {
  const threads: Record<string, number> = {}
  for (const [name, pid] of Object.entries(pids)) {
    for (const [role, ms] of Object.entries(threadCpuMs(pid))) threads[`${name}.${role}`] = ms
  }
  return { threads, ...machineCpuMs() }
}

/** CPU used between two readings, added into `into` (threads that ended in between are not counted) */
function addCpu (into: CpuReading, before: CpuReading, after: CpuReading): void {
  for (const [k, v] of Object.entries(after.threads)) into.threads[k] = (into.threads[k] ?? 0) + v - (before.threads[k] ?? 0)
  into.busy += after.busy - before.busy
  into.total += after.total - before.total
}

const noCpu = (): CpuReading => ({ threads: {}, busy: 0, total: 0 })

/** CPU microseconds per call by thread, busiest first, leaving out what is under 5 µs a call */
function perCall (cpu: CpuReading, calls: number): string {
  return Object.entries(cpu.threads).map(([k, v]) => [k, v * 1000 / calls] as const).filter(([, v]) => v >= 5)
    .sort((x, y) => y[1] - x[1]).map(([k, v]) => `${k} ${Math.round(v)}`).join(', ')
}

/** the processes' own CPU (ms) in a reading, keyed by process */
function byProcess (cpu: CpuReading): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [k, v] of Object.entries(cpu.threads)) { const p = k.split('.')[0]; out[p] = (out[p] ?? 0) + v }
  return out
}

// ---------------------------------------------------------------------------
// processes in the namespaces

interface Reply { status: number, body: string, ms: number }

/** A bench/deploy-driver.ts process in one namespace: commands in, answers out, each with a timeout. */
class Driver {
  readonly child: ChildProcess
  readonly ready: Promise<void>
  #stderr = ''
  #next = 0
  #closed = false
  readonly #pending = new Map<number, { resolve: (v: Record<string, unknown>) => void, reject: (e: Error) => void, timer: NodeJS.Timeout }>()

  constructor (lan: Lan, host: number) {
    this.child = lan.exec(host, [NODE_BIN, DRIVER, URL_IN_NS], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] })
    this.child.stderr?.setEncoding('utf8').on('data', (d: string) => { this.#stderr += d })
    let markReady: () => void = () => {}
    let failReady: (e: Error) => void = () => {}
    this.ready = new Promise((resolve, reject) => { markReady = resolve; failReady = reject })
    this.ready.catch(() => {})
    if (this.child.stdout !== null) {
      createInterface({ input: this.child.stdout }).on('line', (line) => {
        let msg: Record<string, unknown>
        try { msg = JSON.parse(line) as Record<string, unknown> } catch { return }
        if (msg.ready === true) { markReady(); return }
        const p = this.#pending.get(msg.id as number)
        if (p === undefined) return
        this.#pending.delete(msg.id as number)
        clearTimeout(p.timer)
        if (typeof msg.error === 'string') p.reject(new Error(`driver: ${msg.error}`))
        else p.resolve(msg)
      })
    }
    this.child.once('close', (code, signal) => {
      this.#closed = true
      const err = new Error(`driver in h${host + 1} exited (${code ?? signal}): ${this.#stderr.slice(-500)}`)
      failReady(err)
      for (const p of this.#pending.values()) { clearTimeout(p.timer); p.reject(err) }
      this.#pending.clear()
    })
  }

  get pid (): number | undefined { return this.child.pid }

  async send<T> (cmd: Record<string, unknown>, timeoutMs: number): Promise<T> {
    if (this.#closed) throw new Error(`driver gone: ${this.#stderr.slice(-500)}`)
    const id = this.#next++
    return await new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id)
        reject(new Error(`driver command ${String(cmd.op)} ${String(cmd.path ?? '')} got no answer within ${timeoutMs} ms`))
      }, timeoutMs)
      this.#pending.set(id, { resolve: v => { resolve(v as T) }, reject, timer })
      this.child.stdin?.write(JSON.stringify({ ...cmd, id }) + '\n')
    })
  }

  async req (method: string, path: string, extra: { json?: unknown, wasm?: Uint8Array, headers?: Record<string, string> } = {}, timeoutMs = REQ_TIMEOUT_MS): Promise<Reply> {
    return await this.send<Reply>({
      op: 'req',
      method,
      path,
      timeoutMs,
      ...(extra.json !== undefined ? { json: extra.json } : {}),
      ...(extra.wasm !== undefined ? { wasm: Buffer.from(extra.wasm).toString('base64') } : {}),
      ...(extra.headers !== undefined ? { headers: extra.headers } : {})
    }, timeoutMs + 2_000)
  }

  /** the request's parsed JSON answer, which must come with status `want` */
  async json<T> (method: string, path: string, want: number, extra: Parameters<Driver['req']>[2] = {}, timeoutMs = REQ_TIMEOUT_MS): Promise<T> {
    const res = await this.req(method, path, extra, timeoutMs)
    if (res.status !== want) throw new Error(`${method} ${path}: ${res.status} (wanted ${want}): ${res.body.slice(0, 300)}`)
    return JSON.parse(res.body) as T
  }

  kill (): void {
    if (!this.#closed) this.child.kill('SIGKILL')
  }
}

interface MeshNode {
  name: string
  host: number
  peerId: string
  watched: Watched
  pid: number | undefined
}

/** Starts `wasmesh start` in host `host`'s namespace with fresh data and the given skills; resolves once it serves HTTP. */
async function startNode (lan: Lan, host: number, name: string, skills: string[], nodeFlags: string[] = []): Promise<MeshNode> {
  const dir = await mkdtemp(join(tmpdir(), `${PREFIX}-${name}-`))
  tempDirs.push(dir)
  const args = [NODE_BIN, ...nodeFlags, WASMESH, 'start', '--name', name, '--data', join(dir, 'data'), '--http', '0.0.0.0:8080']
  if (skills.length > 0) {
    await writeFile(join(dir, 'skills.json'), JSON.stringify({ skills: skills.map(s => ({ name: s, provider: { type: 'simulated' } })) }))
    args.push('--skills', join(dir, 'skills.json'))
  }
  const watched = new Watched(lan.exec(host, args, { cwd: ROOT, env: { ...process.env, DEBUG: 'wasmesh:deployments*' } }))
  const up = await watched.until(() => /^http\s/m.test(watched.stdout), START_TIMEOUT_MS)
  if (!up) {
    watched.kill('SIGKILL')
    throw new Error(`${name} did not start within ${START_TIMEOUT_MS} ms (exit ${JSON.stringify(watched.exit)}): ${watched.stdout.slice(-300)}\n${watched.stderr.slice(-500)}`)
  }
  const peerId = /^peer id\s+(\S+)$/m.exec(watched.stdout)?.[1] ?? ''
  return { name, host, peerId, watched, pid: watched.child.pid }
}

/** where --logs wants each node's output (stdout, then stderr) when it has stopped */
let logDir: string | undefined

async function saveLog (n: MeshNode): Promise<void> {
  if (logDir !== undefined) await writeFile(join(logDir, `${n.name}.log`), `${n.watched.stdout}\n--- stderr\n${n.watched.stderr}`)
}

async function stopNodes (nodes: MeshNode[]): Promise<void> {
  for (const n of nodes) n.watched.kill('SIGTERM')
  await Promise.race([Promise.all(nodes.map(async n => { await n.watched.exited })), sleep(5_000)])
  for (const n of nodes) n.watched.kill('SIGKILL')
  await Promise.all(nodes.map(async n => { await n.watched.exited; await saveLog(n) }))
}

async function until (cond: () => Promise<boolean>, timeoutMs: number, what: string, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!await cond().catch(() => false)) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(everyMs)
  }
}

interface PeerView { peerId: string, name: string, via: string, skills: Array<{ name: string }> }

/** Waits until the driver's node knows exactly `peers` (by peer id), each from a signed announcement. */
async function waitPeers (driver: Driver, peers: MeshNode[], who: string): Promise<void> {
  await until(async () => {
    const seen = await driver.json<PeerView[]>('GET', '/peers', 200, {}, 2_000)
    return seen.length === peers.length && peers.every(p => seen.some(s => s.peerId === p.peerId && s.via === 'gossip'))
  }, MESH_TIMEOUT_MS, `${who} to know ${peers.map(p => p.name).join(', ')} from gossip`)
}

interface DeploymentView { id: string, status: string, version: number, steps: Array<{ module: string, cid: string, function: string, hosts: Array<{ peerId: string, name: string }> }> }
interface ModuleView { cid: string }

// ---------------------------------------------------------------------------
// (a) bridged vs direct

interface LatencyStats { n: number, errors: number, p50: number, p99: number }
/** calls of one kind (direct or bridged), and the CPU they cost */
interface Tally { ms: number[], calls: number, errors: number, wallMs: number, cpu: CpuReading }
/** direct: the driver calls H; relayed: through a plain TCP relay next to X; bridged: through X */
const SEQ_KINDS = ['direct', 'relayed', 'bridged'] as const
type SeqKind = typeof SEQ_KINDS[number]
interface ResultA { tcp: LatencyStats, seq: Record<SeqKind, Tally>, load: { direct: Tally, bridged: Tally }, firstError: string | null }

interface SeqAnswer { ms: number[], errors: number, firstError: string | null, cpuMs: number }
interface LoadAnswer { calls: number, errors: number, firstError: string | null, ms: number, cpuMs: number }

function latencyStats (ms: number[], errors: number): LatencyStats {
  const s = ascending(ms)
  return { n: s.length, errors, p50: percentile(s, 50), p99: percentile(s, 99) }
}

const newTally = (): Tally => ({ ms: [], calls: 0, errors: 0, wallMs: 0, cpu: noCpu() })

async function partA (lan: Lan, calls: number, seconds: number, verbose: boolean, profileDir?: string): Promise<ResultA> {
  const prof = (name: string): string[] => profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-name', `${name}.cpuprofile`]
  const nodes: MeshNode[] = []
  const drivers: Driver[] = []
  try {
    const [h, x] = await Promise.all([startNode(lan, 0, 'a-host', [], prof('a-host')), startNode(lan, 1, 'a-bridge', [], prof('a-bridge'))])
    nodes.push(h, x)
    const dH = new Driver(lan, 0)
    const dX = new Driver(lan, 1)
    drivers.push(dH, dX)
    await Promise.all([dH.ready, dX.ready])
    await Promise.all([waitPeers(dH, [x], 'a-host'), waitPeers(dX, [h], 'a-bridge')])

    await dH.json<ModuleView>('POST', '/modules?name=double', 201, { wasm: await wat('pipe-double') })
    const view = await dH.json<DeploymentView>('POST', '/deployments', 201, { json: { name: 'bridge', steps: [{ module: 'double', function: 'double', peer: 'a-host' }] } }, DEPLOY_TIMEOUT_MS)
    const hostName = view.steps[0].hosts.map(s => s.name).join(',')
    if (hostName !== 'a-host') throw new Error(`the pinned step runs on ${hostName}, not a-host`)
    await until(async () => (await dX.req('GET', `/deployments/${view.id}`, {}, 2_000)).status === 200, MESH_TIMEOUT_MS, 'a-bridge to learn the deployment')

    // The baseline of the bridge: a plain TCP relay in X's namespace, in its own process, that
    // pipes the driver's connection to H's HTTP port (a hop that neither parses nor encrypts).
    const relay = new Driver(lan, 1)
    drivers.push(relay)
    await relay.ready
    await relay.send({ op: 'relay', port: RELAY_PORT, host: lan.hosts[0].ip, targetPort: 8080 }, 5_000)

    const spec = { path: `/${view.id}/modules/double/double`, json: { args: [21] }, timeoutMs: 5_000, expect: '{"result":42}' }
    const driverOf = (kind: SeqKind): Driver => kind === 'direct' ? dH : dX
    const specOf = (kind: SeqKind): typeof spec & { port?: number } => kind === 'relayed' ? { ...spec, port: RELAY_PORT } : spec
    const pidsOf = (kind: SeqKind): Record<string, number | undefined> => ({ H: h.pid, X: x.pid, relay: relay.pid, driver: driverOf(kind).pid })
    let firstError: string | null = null

    for (const kind of [...SEQ_KINDS, ...SEQ_KINDS]) {
      const w = await driverOf(kind).send<SeqAnswer>({ op: 'seq', ...specOf(kind), n: WARMUP_CALLS / 2 }, 60_000)
      firstError ??= w.firstError
    }

    const seq = { direct: newTally(), relayed: newTally(), bridged: newTally() }
    for (let k = 0; k * BLOCK < calls; k++) {
      const n = Math.min(BLOCK, calls - k * BLOCK)
      // each kind takes each place in the order in turn (drift cancels)
      for (let i = 0; i < SEQ_KINDS.length; i++) {
        const kind = SEQ_KINDS[(k + i) % SEQ_KINDS.length]
        const t = seq[kind]
        const before = readCpu(pidsOf(kind))
        const t0 = performance.now()
        const r = await driverOf(kind).send<SeqAnswer>({ op: 'seq', ...specOf(kind), n }, 60_000 + n * 20)
        t.wallMs += performance.now() - t0
        addCpu(t.cpu, before, readCpu(pidsOf(kind)))
        firstError ??= r.firstError
        t.ms.push(...r.ms)
        t.calls += r.ms.length
        t.errors += r.errors
      }
    }
    for (const kind of SEQ_KINDS) {
      const l = latencyStats(seq[kind].ms, seq[kind].errors)
      console.log(`  (a) sequential ${kind}: p50 ${f2(l.p50)} p99 ${f2(l.p99)} ms (${l.n} calls, ${l.errors} errors); CPU us/call: ${perCall(seq[kind].cpu, seq[kind].calls)}`)
    }

    // The floor: a plain TCP round trip between two Node processes in the same two namespaces.
    await dH.send({ op: 'echo', port: ECHO_PORT }, 5_000)
    const ping = await dX.send<{ ms: number[] }>({ op: 'ping', host: lan.hosts[0].ip, port: ECHO_PORT, n: Math.min(calls, 2000), size: 100 }, 60_000)
    const tcp = latencyStats(ping.ms, 0)
    console.log(`  (a) plain TCP round trip, X's namespace to H's, 100 bytes, Node to Node: p50 ${f2(tcp.p50)} p99 ${f2(tcp.p99)} ms (${tcp.n})`)

    const load = { direct: newTally(), bridged: newTally() }
    for (const kind of ['direct', 'bridged', 'bridged', 'direct'] as const) {
      const before = readCpu(pidsOf(kind))
      const r = await driverOf(kind).send<LoadAnswer>({ op: 'load', ...spec, concurrency: CONCURRENCY, durationMs: seconds * 1000 }, seconds * 1000 + 30_000)
      const used = noCpu()
      addCpu(used, before, readCpu(pidsOf(kind)))
      firstError ??= r.firstError
      const t = load[kind]
      t.calls += r.calls
      t.errors += r.errors
      t.wallMs += r.ms
      addCpu(t.cpu, noCpu(), used)
      const p = byProcess(used)
      console.log(`  (a) ${kind} at concurrency ${CONCURRENCY} for ${seconds} s: ${f0(r.calls / r.ms * 1000)} calls/s (${r.errors} errors); ` +
        `CPU ms: H ${f0(p.H ?? 0)}, X ${f0(p.X ?? 0)}, driver ${f0(p.driver ?? 0)}; machine ${f0(used.busy / used.total * 100)}% busy`)
      if (verbose) console.log(`      CPU us/call by thread: ${perCall(used, r.calls)}`)
    }
    return { tcp, seq, load, firstError }
  } finally {
    for (const d of drivers) d.kill()
    await stopNodes(nodes)
  }
}

// ---------------------------------------------------------------------------
// (b) deploy time

interface DeployRound { kind: 'not cached' | 'cached', ms: number, placement: string, callOk: boolean, callRetries: number }
interface ResultB { rounds: DeployRound[] }

async function partB (lan: Lan, rounds: number): Promise<ResultB> {
  const nodes: MeshNode[] = []
  const drivers: Driver[] = []
  try {
    nodes.push(...await Promise.all([startNode(lan, 0, 'b-dht', ['dht']), startNode(lan, 1, 'b-cam', ['camera']), startNode(lan, 2, 'b-plain', [])]))
    drivers.push(...nodes.map(n => new Driver(lan, n.host)))
    await Promise.all(drivers.map(async d => { await d.ready }))
    await Promise.all(drivers.map(async (d, i) => { await waitPeers(d, nodes.filter((_, j) => j !== i), nodes[i].name) }))
    const deployer = drivers[2]

    const base = await Promise.all([wat('pipe-sensor'), wat('pipe-camera'), wat('pipe-double')])
    const fns = ['temp', 'fahrenheit', 'double']
    const salt = randomBytes(6).toString('hex')
    const variants = (tag: string): Uint8Array[] => base.map(b => withCustomSection(b, 'wasmesh-bench', new TextEncoder().encode(`${salt}-${tag}`)))
    const add = async (d: Driver, bytes: Uint8Array[]): Promise<string[]> =>
      await Promise.all(bytes.map(async b => (await d.json<ModuleView>('POST', '/modules', 201, { wasm: b })).cid))

    const cached = variants('cached')
    const cachedCids = (await Promise.all(drivers.map(async d => await add(d, cached))))[0]

    const deploy = async (kind: DeployRound['kind'], cids: string[], round: number): Promise<DeployRound> => {
      const manifest = { name: `pipe-${kind === 'cached' ? 'c' : 'nc'}-${round}`, steps: cids.map((cid, i) => ({ module: cid, function: fns[i] })) }
      const res = await deployer.req('POST', '/deployments', { json: manifest }, DEPLOY_TIMEOUT_MS)
      if (res.status !== 201) throw new Error(`deploy (${kind}) answered ${res.status}: ${res.body.slice(0, 300)}`)
      const view = JSON.parse(res.body) as DeploymentView
      // A call through the pipeline (outside the time): the deployment must work at once.
      const path = `/${view.id}/modules/${cids[0]}/temp`
      let callRetries = 0
      let call = await deployer.req('POST', path, { json: { args: [] } })
      while (call.status !== 200 && callRetries < 50) {
        callRetries++
        await sleep(100)
        call = await deployer.req('POST', path, { json: { args: [] } })
      }
      const callOk = call.status === 200 && /^\{"result":141\.4/.test(call.body)
      if (!callOk) console.log(`  (b) ${view.id}: the call answered ${call.status} ${call.body.slice(0, 200)}`)
      await deployer.json('DELETE', `/deployments/${view.id}`, 200)
      return { kind, ms: res.ms, placement: view.steps.map(s => s.hosts.map(h => h.name).join('+')).join(' > '), callOk, callRetries }
    }

    // warm-up (not counted): the first deploy of a process pays for compiling its code paths
    await deploy('cached', cachedCids, 0)
    const out: DeployRound[] = []
    for (let round = 1; round <= rounds; round++) {
      for (const kind of round % 2 === 1 ? ['not cached', 'cached'] as const : ['cached', 'not cached'] as const) {
        const cids = kind === 'cached' ? cachedCids : await add(deployer, variants(`r${round}`))
        const r = await deploy(kind, cids, round)
        out.push(r)
        console.log(`  (b) round ${round} ${kind}: 201 after ${f0(r.ms)} ms, placed ${r.placement}${r.callRetries > 0 ? `, first call needed ${r.callRetries} retries` : ''}${r.callOk ? '' : ', CALL FAILED'}`)
      }
    }
    return { rounds: out }
  } finally {
    for (const d of drivers) d.kill()
    await stopNodes(nodes)
  }
}

// ---------------------------------------------------------------------------
// (c) recovery after kill -9

/** `versions`: how many records the deployment went through (1: healed at once; more: e.g. degraded first) */
interface Recovery { ms: number, attempts: number, failures: Record<string, number>, from: string, to: string, versions: number }
/** answers seen between the kill and the first success, by what they said, over all rounds */
interface ResultC { recoveries: Recovery[], answers: Record<string, number>, logs: string[] }
interface RecoverAnswer { okAt: number | null, attempts: number, failures: Record<string, number> }

async function partC (lan: Lan, kills: number): Promise<ResultC> {
  const nodes: Array<MeshNode | undefined> = []
  const drivers: Driver[] = []
  const logs: string[] = []
  // libp2p's component logger, off a terminal: "<ISO time> wasmesh:deployments:<name> <message>"
  const debugLines = (n: MeshNode): string[] => n.watched.stderr.split('\n').flatMap(l => {
    const m = / wasmesh:deployments:\S+ (.*)$/.exec(l)
    return m === null ? [] : [`${n.name}: ${m[1]}`]
  })
  try {
    const started = await Promise.all([startNode(lan, 0, 'c-cam1', ['camera']), startNode(lan, 1, 'c-cam2', ['camera']), startNode(lan, 2, 'c-entry', [])])
    nodes.push(...started)
    const entry = started[2]
    const d = new Driver(lan, 2)
    drivers.push(d)
    await d.ready
    await waitPeers(d, [started[0], started[1]], 'c-entry')

    await d.json<ModuleView>('POST', '/modules?name=cam', 201, { wasm: await wat('pipe-camera') })
    const view = await d.json<DeploymentView>('POST', '/deployments', 201, { json: { name: 'recover', steps: [{ module: 'cam', function: 'fahrenheit' }] } }, DEPLOY_TIMEOUT_MS)
    const spec = { path: `/${view.id}/modules/cam/fahrenheit`, json: { args: [100] }, timeoutMs: 5_000, expect: '{"result":212}' }
    const current = async (): Promise<DeploymentView> => await d.json<DeploymentView>('GET', `/deployments/${view.id}`, 200)

    const recoveries: Recovery[] = []
    const answers: Record<string, number> = {}
    for (let round = 1; round <= kills; round++) {
      const cams = [nodes[0], nodes[1]].filter(n => n !== undefined)
      await waitPeers(d, cams, 'c-entry')
      // The deployment healthy: one host, calls answer.
      const warm = await d.send<SeqAnswer>({ op: 'seq', ...spec, n: 20 }, 30_000)
      if (warm.errors > 0) throw new Error(`round ${round}: calls fail before the kill: ${warm.firstError ?? ''}`)
      const before = await current()
      const hostId = before.steps[0].hosts.map(h => h.peerId).join(',')
      const victim = cams.find(n => n.peerId === hostId)
      if (victim === undefined) throw new Error(`round ${round}: the step runs on ${hostId}, not on a camera node`)

      const killedAt = Date.now()
      victim.watched.kill('SIGKILL')
      const r = await d.send<RecoverAnswer>({
        op: 'recover', ...spec, timeoutMs: RECOVER_CALL_TIMEOUT_MS + 500, headers: { 'x-wasmesh-timeout-ms': String(RECOVER_CALL_TIMEOUT_MS) }, deadlineMs: RECOVER_DEADLINE_MS, pauseMs: RECOVER_PAUSE_MS
      }, RECOVER_DEADLINE_MS + 10_000)
      for (const [k, v] of Object.entries(r.failures)) answers[k] = (answers[k] ?? 0) + v
      if (r.okAt === null) throw new Error(`round ${round}: no call succeeded within ${RECOVER_DEADLINE_MS} ms of the kill (${JSON.stringify(r.failures)})`)
      const after = await current()
      const newHost = after.steps[0].hosts.map(h => h.peerId).join(',')
      const to = cams.find(n => n.peerId === newHost)?.name ?? newHost
      const kinds: Record<string, number> = {}
      for (const [k, v] of Object.entries(r.failures)) { const kind = k.replace(/:.*$/s, ''); kinds[kind] = (kinds[kind] ?? 0) + v }
      const rec: Recovery = { ms: r.okAt - killedAt, attempts: r.attempts, failures: kinds, from: victim.name, to, versions: after.version - before.version }
      recoveries.push(rec)
      console.log(`  (c) round ${round}: kill -9 of ${victim.name} -> first successful call after ${f0(rec.ms)} ms, now on ${to} ` +
        `(record v${before.version} -> v${after.version}, ${r.attempts} calls; failures ${Object.entries(kinds).map(([k, v]) => `${k} x${v}`).join(', ') || 'none'})`)

      // Bring the killed node back, fresh (a new peer id), for the next round.
      await victim.watched.exited
      await saveLog(victim)
      logs.push(...debugLines(victim))
      if (round < kills) {
        const fresh = await startNode(lan, victim.host, `${victim.name.replace(/\.\d+$/, '')}.${round + 1}`, ['camera'])
        nodes[victim.host] = fresh
      }
    }
    for (const n of nodes) if (n !== undefined && n !== entry) logs.push(...debugLines(n))
    logs.push(...debugLines(entry))
    return { recoveries, answers, logs }
  } finally {
    for (const dr of drivers) dr.kill()
    await stopNodes(nodes.filter(n => n !== undefined))
  }
}

// ---------------------------------------------------------------------------

async function main (): Promise<void> {
  const { values } = parseArgs({
    options: {
      calls: { type: 'string', default: '3000' },
      seconds: { type: 'string', default: '3' },
      rounds: { type: 'string', default: '5' },
      kills: { type: 'string', default: '5' },
      verbose: { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
      only: { type: 'string', default: 'a,b,c' },
      logs: { type: 'string' }
    }
  })
  const calls = Number(values.calls)
  const seconds = Number(values.seconds)
  const rounds = Number(values.rounds)
  const kills = Number(values.kills)
  logDir = values.logs
  if (![calls, rounds, kills].every(n => Number.isInteger(n) && n >= 1) || !(seconds > 0)) throw new Error('--calls, --rounds, --kills must be whole numbers >= 1, --seconds > 0')
  // Ctrl-C: exit, so the netns helper's exit hook removes the namespaces (and ours the temp dirs).
  process.on('SIGINT', () => { process.exit(130) })
  process.on('SIGTERM', () => { process.exit(143) })

  console.log(`deploy benchmark (node ${process.version}; real wasmesh processes, one per network namespace: TCP, noise, yamux, mDNS)`)
  console.log('  clients: a driver process (node:http, keep-alive agent) inside the namespaces; the nodes and the drivers share this machine\'s 2 cores')
  const { createLan, destroyLanByPrefix, netnsUnavailableReason } = await import('../test/helpers/netns.ts')
  const reason = netnsUnavailableReason()
  let a: ResultA | string = `skipped: ${reason ?? ''}`
  let b: ResultB | string = a
  let c: ResultC | string = a
  if (reason === null) {
    const lan = await createLan({ prefix: PREFIX, hosts: HOSTS })
    try {
      const only = new Set(values.only.split(','))
      const notRun = 'not run (--only)'
      const failed = (err: Error): string => `failed: ${err.message}`
      if (only.has('a')) {
        console.log(`(a) bridged vs direct: ${calls} sequential calls each (blocks of ${BLOCK}, alternating, after ${WARMUP_CALLS} warm-up calls), then ${seconds} s at concurrency ${CONCURRENCY} twice each`)
        a = await partA(lan, calls, seconds, values.verbose, values['cpu-prof']).catch(failed)
        if (typeof a === 'string') console.log(`  (a) ${a}`)
      } else a = notRun
      if (only.has('b')) {
        console.log(`(b) deploy time of sensor > camera > double over dht / camera / none nodes, ${rounds} rounds each, alternating`)
        b = await partB(lan, rounds).catch(failed)
        if (typeof b === 'string') console.log(`  (b) ${b}`)
      } else b = notRun
      if (only.has('c')) {
        console.log(`(c) recovery after kill -9 of a camera step's host (2 camera nodes, calls through a third), ${kills} rounds`)
        c = await partC(lan, kills).catch(failed)
        if (typeof c === 'string') console.log(`  (c) ${c}`)
      } else c = notRun
    } finally {
      await lan.destroy()
      await destroyLanByPrefix(PREFIX)
      await Promise.all(tempDirs.splice(0).map(async d => { await rm(d, { recursive: true, force: true }) }))
    }
  } else {
    console.log(`  all parts ${a}`)
  }

  console.log('')
  console.log('summary')
  const rows: string[][] = [['measure', 'value', 'notes']]
  const rate = (t: Tally): number => t.calls / t.wallMs * 1000
  const figuresA = typeof a === 'string'
    ? undefined
    : {
        d: latencyStats(a.seq.direct.ms, a.seq.direct.errors),
        br: latencyStats(a.seq.bridged.ms, a.seq.bridged.errors),
        rl: latencyStats(a.seq.relayed.ms, a.seq.relayed.errors),
        ratio: rate(a.load.bridged) / rate(a.load.direct)
      }
  if (typeof a === 'string' || figuresA === undefined) {
    rows.push(['(a) bridged vs direct', String(a), ''])
  } else {
    const { d, br, rl, ratio } = figuresA
    const added50 = br.p50 - d.p50
    const mine = (t: Tally): number => Object.values(byProcess(t.cpu)).reduce((x, y) => x + y, 0)
    rows.push(['(a) call latency direct, p50 / p99', `${f2(d.p50)} / ${f2(d.p99)} ms`, `${d.n} calls, ${d.errors} errors; driver in H's namespace calls H; CPU us/call ${perCall(a.seq.direct.cpu, a.seq.direct.calls)}`])
    rows.push(['(a) call latency bridged, p50 / p99', `${f2(br.p50)} / ${f2(br.p99)} ms`, `${br.n} calls, ${br.errors} errors; driver in X's namespace calls X, X -> H over libp2p; CPU us/call ${perCall(a.seq.bridged.cpu, a.seq.bridged.calls)}`])
    rows.push(['(a) call latency relayed, p50 / p99', `${f2(rl.p50)} / ${f2(rl.p99)} ms`, `${rl.n} calls, ${rl.errors} errors; driver in X's namespace calls a plain TCP relay there, which pipes to H's HTTP port; CPU us/call ${perCall(a.seq.relayed.cpu, a.seq.relayed.calls)}`])
    rows.push(['(a) plain TCP round trip X <-> H, p50 / p99', `${f2(a.tcp.p50)} / ${f2(a.tcp.p99)} ms`, '100 bytes between two Node processes in the same namespaces (the network\'s floor)'])
    rows.push(['(a) added by the bridge, p50 / p99', `${f2(added50)} / ${f2(br.p99 - d.p99)} ms`, `target p50 <= 0.3 ms: ${added50 <= 0.3 ? 'met' : 'NOT met'} (differences of percentiles)`])
    rows.push(['(a) added by the plain relay, p50 / p99', `${f2(rl.p50 - d.p50)} / ${f2(rl.p99 - d.p99)} ms`, 'the same hop with no HTTP, libp2p, noise or yamux: what one more process in the path costs on this machine'])
    rows.push(['(a) bridge over the plain relay, p50', `${f2(br.p50 - rl.p50)} ms`, 'what wasmesh\'s own work adds to the hop (HTTP in X, routing, noise, yamux, framing on X and H)'])
    for (const kind of ['direct', 'bridged'] as const) {
      const t = a.load[kind]
      rows.push([`(a) calls/s at concurrency ${CONCURRENCY}, ${kind}`, f0(rate(t)), `${t.calls} calls, ${t.errors} errors; CPU us/call ${perCall(t.cpu, t.calls)}; machine ${f0(t.cpu.busy / t.cpu.total * 100)}% busy, ${f0(Math.max(0, t.cpu.busy - mine(t)) / t.cpu.total * 100)}% by others`])
    }
    rows.push(['(a) throughput ratio bridged / direct', ratio.toFixed(2), `target >= 0.5: ${ratio >= 0.5 ? 'met' : 'NOT met'}`])
  }
  if (typeof b === 'string') {
    rows.push(['(b) deploy time', b, ''])
  } else {
    const of = (kind: DeployRound['kind']): DeployRound[] => b.rounds.filter(r => r.kind === kind)
    const nc = median(of('not cached').map(r => r.ms))
    const cc = median(of('cached').map(r => r.ms))
    rows.push(['(b) deploy 3 steps, not cached, median', `${f0(nc)} ms`, `rounds ${of('not cached').map(r => f0(r.ms)).join(', ')}`])
    rows.push(['(b) deploy 3 steps, cached, median', `${f0(cc)} ms`, `rounds ${of('cached').map(r => f0(r.ms)).join(', ')}`])
    rows.push(['(b) ratio not cached / cached', (nc / cc).toFixed(2), `placements: ${[...new Set(b.rounds.map(r => r.placement))].join('; ')}`])
  }
  if (typeof c === 'string') {
    rows.push(['(c) kill -9 -> first ok call', c, ''])
  } else {
    const ms = c.recoveries.map(r => r.ms)
    rows.push(['(c) kill -9 -> first ok call, median', `${f0(median(ms))} ms`, `rounds ${ms.map(f0).join(', ')}; min ${f0(Math.min(...ms))}, max ${f0(Math.max(...ms))}`])
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map(r => r[i].length)))
  for (const r of rows) console.log('  ' + r.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd())

  console.log('')
  if (typeof a !== 'string' && figuresA !== undefined) {
    const { d, br, rl, ratio } = figuresA
    console.log(`  (a) the bridge adds ${f2(br.p50 - d.p50)} ms at p50 (${f2(d.p50)} -> ${f2(br.p50)} ms; a plain TCP relay in its place adds ${f2(rl.p50 - d.p50)} ms; ` +
      `a plain TCP round trip between the namespaces is ${f2(a.tcp.p50)} ms) ` +
      `and keeps ${f0(ratio * 100)}% of direct throughput.`)
    console.log('      The driver, X and H share 2 cores (CPU by process.thread: main = event loop, guest = the guest\'s worker thread, v8 = GC/compiler');
    console.log('      helpers; read from /proc in 10 ms ticks; "by others" = busy time outside these processes: kernel, other processes on the machine).')
    if (a.firstError !== null) console.log(`  (a) first failed call: ${a.firstError}`)
  }
  if (typeof b !== 'string') {
    const bad = b.rounds.filter(r => !r.callOk || r.callRetries > 0)
    console.log(`  (b) timed by the deploying node's driver, POST /deployments -> 201; each deployment called once, then undeployed${bad.length > 0 ? `; ${bad.length} deployments were not callable at once` : ''}`)
  }
  if (typeof c !== 'string') {
    console.log(`  (c) the loop calls every ${RECOVER_PAUSE_MS} ms after a failure, each call with x-wasmesh-timeout-ms: ${RECOVER_CALL_TIMEOUT_MS}; answers seen during the gap:`)
    for (const [k, v] of Object.entries(c.answers)) console.log(`      x${v}  ${k}`)
    if (values.verbose) for (const l of c.logs) console.log(`      ${l}`)
  }
}

try {
  await main()
} catch (err) {
  console.error(`bench failed: ${(err as Error).stack ?? String(err)}`)
  process.exitCode = 1
}
