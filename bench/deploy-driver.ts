/**
 * The HTTP client of bench/deploy.ts, run inside one host's network namespace (the namespaces
 * have no route to the root namespace): one JSON command per stdin line, one JSON answer per
 * stdout line, matched by `id`. Every request goes through one node:http keep-alive agent, so
 * calls to the node next to it (direct) and through it (bridged) are made by the same client.
 *
 *   node bench/deploy-driver.ts http://127.0.0.1:8080
 *
 * Commands (all times in ms; `expect` is the exact body a call must answer, else it counts
 * as an error):
 *   {op: 'req', method, path, json?, wasm? (base64), headers?, timeoutMs}  -> {status, body, ms}
 *   {op: 'seq', path, json, n, timeoutMs, expect, port?}                    -> {ms: [...], errors, firstError, cpuMs}
 *   {op: 'load', path, json, concurrency, durationMs, timeoutMs, expect, port?} -> {calls, errors, firstError, ms, cpuMs}
 *        (`port`: call 127.0.0.1:port instead of the node, e.g. a relay)
 *   {op: 'recover', path, json, headers, timeoutMs, deadlineMs, pauseMs, expect}
 *        calls until one succeeds -> {okAt (Date.now() at its answer), attempts, failures: {answer: count}}
 *   {op: 'echo', port}                 starts a plain TCP echo server on 0.0.0.0:port -> {}
 *   {op: 'ping', host, port, n, size}  n sequential round trips of `size` bytes to an echo server -> {ms: [...]}
 *   {op: 'relay', port, host, targetPort}  starts a plain TCP relay: each connection to 0.0.0.0:port is
 *        piped both ways to host:targetPort, bytes as they come (no parsing) -> {}
 */
import { Agent, request } from 'node:http'
import { connect, createServer } from 'node:net'
import type { Server } from 'node:net'
import { createInterface } from 'node:readline'

const base = new URL(process.argv[2] ?? 'http://127.0.0.1:8080')
const agent = new Agent({ keepAlive: true, maxSockets: 256 })

interface Reply { status: number, body: string }

function send (method: string, path: string, body: Buffer | undefined, headers: Record<string, string>, timeoutMs: number, port: string | number = base.port): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ agent, host: base.hostname, port, method, path, headers: body === undefined ? headers : { ...headers, 'content-length': String(body.length) } }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => { chunks.push(c) })
      res.on('end', () => { clearTimeout(timer); resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }) })
      res.on('error', (err) => { clearTimeout(timer); reject(err) })
    })
    const timer = setTimeout(() => { req.destroy(new Error(`client timeout after ${timeoutMs} ms`)) }, timeoutMs)
    req.on('error', (err) => { clearTimeout(timer); reject(err) })
    req.end(body)
  })
}

const JSON_HEADERS = { 'content-type': 'application/json' }

interface CallSpec { path: string, json: unknown, timeoutMs: number, expect: string, headers?: Record<string, string>, port?: number }

/** One call: null if it answered `expect`, else why not (an error code, a status, a client error). */
async function call (spec: CallSpec, body: Buffer): Promise<string | null> {
  try {
    const res = await send('POST', spec.path, body, { ...JSON_HEADERS, ...spec.headers }, spec.timeoutMs, spec.port)
    if (res.status === 200 && res.body === spec.expect) return null
    let code = ''
    try { code = (JSON.parse(res.body) as { error?: { code?: string } }).error?.code ?? '' } catch { /* not JSON */ }
    return `${res.status}${code !== '' ? ` ${code}` : ''}: ${res.body.slice(0, 400)}`
  } catch (err) {
    return `client: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`
  }
}

const cpuMs = (since: NodeJS.CpuUsage): number => {
  const u = process.cpuUsage(since)
  return (u.user + u.system) / 1000
}

async function run (cmd: Record<string, unknown>): Promise<Record<string, unknown>> {
  switch (cmd.op) {
    case 'req': {
      const headers: Record<string, string> = { ...(cmd.headers as Record<string, string> | undefined) }
      let body: Buffer | undefined
      if (cmd.wasm !== undefined) {
        body = Buffer.from(cmd.wasm as string, 'base64')
        headers['content-type'] = 'application/wasm'
      } else if (cmd.json !== undefined) {
        body = Buffer.from(JSON.stringify(cmd.json))
        headers['content-type'] = 'application/json'
      }
      const t0 = performance.now()
      const res = await send(cmd.method as string, cmd.path as string, body, headers, cmd.timeoutMs as number)
      return { status: res.status, body: res.body, ms: performance.now() - t0 }
    }
    case 'seq': {
      const spec = cmd as unknown as CallSpec & { n: number }
      const body = Buffer.from(JSON.stringify(spec.json))
      const ms: number[] = []
      let errors = 0
      let firstError: string | null = null
      const cpu0 = process.cpuUsage()
      for (let i = 0; i < spec.n; i++) {
        const t0 = performance.now()
        const why = await call(spec, body)
        const dt = performance.now() - t0
        if (why === null) ms.push(Math.round(dt * 1000) / 1000)
        else { errors++; firstError ??= why }
      }
      return { ms, errors, firstError, cpuMs: cpuMs(cpu0) }
    }
    case 'load': {
      const spec = cmd as unknown as CallSpec & { concurrency: number, durationMs: number }
      const body = Buffer.from(JSON.stringify(spec.json))
      let calls = 0
      let errors = 0
      let firstError: string | null = null
      const cpu0 = process.cpuUsage()
      const t0 = performance.now()
      const end = t0 + spec.durationMs
      await Promise.all(Array.from({ length: spec.concurrency }, async () => {
        while (performance.now() < end) {
          const why = await call(spec, body)
          if (why === null) calls++
          else { errors++; firstError ??= why }
        }
      }))
      return { calls, errors, firstError, ms: performance.now() - t0, cpuMs: cpuMs(cpu0) }
    }
    case 'recover': {
      const spec = cmd as unknown as CallSpec & { deadlineMs: number, pauseMs: number }
      const body = Buffer.from(JSON.stringify(spec.json))
      const failures: Record<string, number> = {}
      const deadline = Date.now() + spec.deadlineMs
      let attempts = 0
      while (Date.now() < deadline) {
        attempts++
        const why = await call(spec, body)
        if (why === null) return { okAt: Date.now(), attempts, failures }
        // counted by what they say, not by whom or when
        const key = why.replace(/12D3KooW[1-9A-HJ-NP-Za-km-z]+/g, '<peer>').replace(/,"peerId":"<peer>"/g, '').replace(/\b\d+ ms\b/g, 'N ms').slice(0, 240)
        failures[key] = (failures[key] ?? 0) + 1
        await new Promise(resolve => setTimeout(resolve, spec.pauseMs))
      }
      return { okAt: null, attempts, failures }
    }
    case 'echo': {
      await listen(createServer(socket => { socket.setNoDelay(true); socket.pipe(socket) }), cmd.port as number)
      return {}
    }
    case 'relay': {
      await listen(createServer(downstream => {
        downstream.setNoDelay(true)
        const upstream = connect({ host: cmd.host as string, port: cmd.targetPort as number, noDelay: true })
        downstream.pipe(upstream).pipe(downstream)
        const drop = (): void => { downstream.destroy(); upstream.destroy() }
        downstream.once('error', drop).once('close', drop)
        upstream.once('error', drop).once('close', drop)
      }), cmd.port as number)
      return {}
    }
    case 'ping': {
      const size = cmd.size as number
      const socket = connect({ host: cmd.host as string, port: cmd.port as number, noDelay: true })
      await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
      const payload = Buffer.alloc(size, 7)
      let got = 0
      let done: () => void = () => {}
      socket.on('data', (d: Buffer) => { got += d.length; if (got >= size) { got -= size; done() } })
      const ms: number[] = []
      try {
        for (let i = 0; i < (cmd.n as number); i++) {
          const t0 = performance.now()
          await new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => { reject(new Error('ping timed out')) }, 5_000)
            done = () => { clearTimeout(timer); resolve() }
            socket.write(payload)
          })
          ms.push(Math.round((performance.now() - t0) * 1000) / 1000)
        }
      } finally {
        socket.destroy()
      }
      return { ms }
    }
    default:
      throw new Error(`unknown op ${String(cmd.op)}`)
  }
}

/** Listens on 0.0.0.0:port, without keeping the process alive. */
async function listen (server: Server, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, '0.0.0.0', resolve) })
  server.unref()
}

const out = (o: unknown): void => { process.stdout.write(JSON.stringify(o) + '\n') }

createInterface({ input: process.stdin }).on('line', (line) => {
  let cmd: Record<string, unknown>
  try { cmd = JSON.parse(line) as Record<string, unknown> } catch { return }
  run(cmd).then(
    (result) => { out({ id: cmd.id, ...result }) },
    (err: Error) => { out({ id: cmd.id, error: err.message }) })
}).on('close', () => { process.exit(0) })
out({ ready: true })
