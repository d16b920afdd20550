/**
 * Reading nodes' GET /peers from inside a network namespace (the namespaces of
 * test/helpers/netns.ts have no route to the root namespace), and watching child processes.
 * Shared by test/node/netns.test.ts and bench/discovery.ts.
 *
 * The poller is a plain Node process started in a host's namespace: it GETs the URL every
 * `everyMs` and prints a JSON line with its own Date.now() whenever the answer changes, so a
 * time measured this way is late by at most `everyMs` plus one request's latency. On
 * SIGTERM it prints its request and CPU statistics and exits 0.
 */
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ChildProcess } from 'node:child_process'
import type { Lan } from './netns.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const NODE_BIN = join(ROOT, 'node_modules', '.bin', 'node')

/** CommonJS for `node -e` in a namespace; argv[1] = URL to poll, argv[2] = period (ms). Prints a line per change. */
export const POLLER = `
const url = process.argv[1], every = Number(process.argv[2])
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n')
let last = '', n = 0, sum = 0, max = 0
const began = performance.now()
process.on('SIGTERM', () => {
  const cpu = process.cpuUsage()
  out({ stats: { n, avgMs: n ? sum / n : 0, maxMs: max, cpuMs: (cpu.user + cpu.system) / 1000, wallMs: performance.now() - began } })
  process.exit(0)
})
;(async () => {
  out({ ready: true, t: Date.now() })
  for (;;) {
    const t0 = performance.now()
    let body
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) })
      const peers = await res.json()
      body = { peers: peers.map(p => ({ peerId: p.peerId, name: p.name, skills: p.skills.map(s => s.name), via: p.via })) }
    } catch (e) { body = { err: String((e.cause && e.cause.code) || e.name) } }
    const dt = performance.now() - t0
    n++; sum += dt; if (dt > max) max = dt
    const key = JSON.stringify(body)
    if (key !== last) { last = key; out({ t: Date.now(), ...body }) }
    await new Promise(r => setTimeout(r, every))
  }
})()
`

/** One entry of a GET /peers answer, as the poller prints it. */
export interface PeerSeen { peerId: string, name: string, skills: string[], via: string }
/** The poller's request statistics, printed on SIGTERM. */
export interface PollStats { n: number, avgMs: number, maxMs: number, cpuMs: number, wallMs: number }
/** A JSON line of the poller: `ready`, a change (`t` with `peers` or `err`), or the closing `stats`. */
export interface PollerLine { t?: number, ready?: boolean, peers?: PeerSeen[], err?: string, stats?: PollStats }

/**
 * A long-running child whose output is kept: stdout whole and by JSON line, stderr whole,
 * and for each of the `markers` the receipt time of the first stdout chunk that made it match.
 */
export class Watched {
  readonly child: ChildProcess
  stdout = ''
  stderr = ''
  readonly lines: PollerLine[] = []
  exit?: { code: number | null, signal: NodeJS.Signals | null }
  readonly exited: Promise<void>
  /** receipt time (Date.now()) of the first stdout chunk containing each marker, by the marker's source */
  readonly marks = new Map<string, number>()
  #waiters: Array<() => void> = []

  constructor (child: ChildProcess, markers: RegExp[] = []) {
    this.child = child
    let partial = ''
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      const now = Date.now()
      this.stdout += d
      for (const m of markers) if (!this.marks.has(m.source) && m.test(this.stdout)) this.marks.set(m.source, now)
      partial += d
      let nl: number
      while ((nl = partial.indexOf('\n')) >= 0) {
        const line = partial.slice(0, nl)
        partial = partial.slice(nl + 1)
        if (line.startsWith('{')) {
          try { this.lines.push(JSON.parse(line) as PollerLine) } catch { /* not ours */ }
        }
      }
      this.#wake()
    })
    child.stderr?.setEncoding('utf8').on('data', (d: string) => { this.stderr += d })
    this.exited = new Promise(resolve => {
      child.once('close', (code, signal) => { this.exit = { code, signal }; this.#wake(); resolve() })
      child.once('error', (err) => { this.stderr += `spawn error: ${err.message}\n`; this.exit = { code: null, signal: null }; this.#wake(); resolve() })
    })
  }

  /** Resolves to true once `cond` holds (checked on every output), or to `cond()` after timeoutMs or on exit. */
  async until (cond: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs
    while (!cond()) {
      const left = deadline - Date.now()
      if (left <= 0 || this.exit !== undefined) return cond()
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, left)
        this.#waiters.push(() => { clearTimeout(timer); resolve() })
      })
    }
    return true
  }

  kill (signal: NodeJS.Signals): void {
    if (this.exit !== undefined) return
    try { this.child.kill(signal) } catch { /* gone */ }
  }

  #wake (): void {
    const w = this.#waiters
    this.#waiters = []
    for (const f of w) f()
  }
}

/** Starts a poller of http://127.0.0.1:`port`/peers, every `everyMs`, in host `host`'s namespace. */
export function startPoller (lan: Pick<Lan, 'exec'>, host: number, port: number, everyMs: number): Watched {
  return new Watched(lan.exec(host, [NODE_BIN, '-e', POLLER, `http://127.0.0.1:${port}/peers`, String(everyMs)]))
}
