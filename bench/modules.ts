/**
 * Module store benchmark.
 *
 *   node_modules/.bin/node bench/modules.ts [--runs N]
 *
 * (a) add throughput: `modules.add` of 1, 10 and 50 MiB modules on a disk store (validate,
 *     chunk, hash, write blocks, pin, record).
 * (b) peer fetch: two processes on loopback TCP (noise, yamux), stores on disk. Process B
 *     fetches a module only A holds (bitswap; every block verified, then validated, pinned and
 *     recorded), against a plain TCP copy of the same bytes between the same two processes.
 * (c) parse: `parseModule` of a 2 MiB module (10,000 functions, 200 imports, 1,000 exports).
 *
 * Modules are random past a 2 MiB code part, and new in every run, so no block is shared.
 */
import { fork } from 'node:child_process'
import { randomFillSync } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { bigModule, withCustomSection } from '../test/helpers/fixtures.ts'
import { engine } from '../src/wasm/engine.ts'
import { parseModule } from '../src/wasm/parse/index.ts'
import type { ChildProcess } from 'node:child_process'
import { median } from './stats.ts'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const MiB = 1024 * 1024

/** A valid module of exactly `size` bytes: real code, then random bytes in a custom section. */
function moduleOf (size: number): Uint8Array {
  const code = bigModule(Math.min(2 * MiB, size / 2))
  const overhead = withCustomSection(code, 'data', 0).byteLength - code.byteLength
  let payload = size - code.byteLength - overhead
  // The section's size field grows with the payload; settle on the payload that lands exactly.
  while (withCustomSection(code, 'data', payload).byteLength > size) payload--
  return withCustomSection(code, 'data', randomFillSync(new Uint8Array(payload)))
}

const mibps = (bytes: number, ms: number): string => (bytes / MiB / (ms / 1000)).toFixed(0)

class Peer {
  readonly child: ChildProcess
  readonly #waiting: Array<(msg: any) => void> = []
  constructor (dir: string, name: string) {
    this.child = fork(join(ROOT, 'bench/module-peer.ts'), [dir, name], { execPath: process.execPath, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    this.child.on('message', (msg) => this.#waiting.shift()?.(msg))
  }

  async next (): Promise<any> {
    return await new Promise(resolve => this.#waiting.push(resolve))
  }

  async ask (msg: object): Promise<any> {
    const reply = this.next()
    this.child.send(msg)
    const r = await reply
    if (r.ok !== true) throw new Error(r.error)
    return r
  }
}

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } })
const runs = Number(values.runs)
const dir = await mkdtemp(join(tmpdir(), 'wasmesh-bench-modules-'))
const a = new Peer(join(dir, 'a'), 'a')
const b = new Peer(join(dir, 'b'), 'b')
try {
  const [ready] = await Promise.all([a.next(), b.next()])
  await b.ask({ op: 'dial', addr: ready.addr })

  console.log(`(a) add throughput, disk store, ${runs} runs each`)
  const addRows: string[] = []
  for (const size of [1 * MiB, 10 * MiB, 50 * MiB]) {
    const ms: number[] = []
    for (let run = 0; run < runs; run++) ms.push((await a.ask({ op: 'add', bytes: moduleOf(size) })).ms)
    const m = median(ms)
    console.log(`  ${size / MiB} MiB: ${ms.map(x => x.toFixed(0)).join(', ')} ms -> median ${m.toFixed(0)} ms, ${mibps(size, m)} MiB/s`)
    addRows.push(`  add ${String(size / MiB).padStart(2)} MiB          median ${m.toFixed(0).padStart(5)} ms  ${mibps(size, m).padStart(5)} MiB/s`)
  }

  console.log(`(b) peer fetch over loopback TCP against a plain TCP copy of the same bytes, ${runs} runs each`)
  const fetchRows: string[] = []
  for (const size of [10 * MiB, 50 * MiB]) {
    const fetchMs: number[] = []
    const copyMs: number[] = []
    for (let run = 0; run < runs; run++) {
      const bytes = moduleOf(size)
      const { cid } = await a.ask({ op: 'add', bytes })
      await a.ask({ op: 'serve', bytes })
      copyMs.push((await b.ask({ op: 'copy', port: ready.port, size })).ms)
      fetchMs.push((await b.ask({ op: 'fetch', cid, size })).ms)
    }
    const f = median(fetchMs)
    const c = median(copyMs)
    console.log(`  ${size / MiB} MiB: fetch ${fetchMs.map(x => x.toFixed(0)).join(', ')} ms; copy ${copyMs.map(x => x.toFixed(1)).join(', ')} ms`)
    fetchRows.push(`  fetch ${String(size / MiB).padStart(2)} MiB        median ${f.toFixed(0).padStart(5)} ms  ${mibps(size, f).padStart(5)} MiB/s; plain TCP copy ${c.toFixed(1)} ms (${mibps(size, c)} MiB/s); ratio fetch/copy ${(f / c).toFixed(1)}`)
  }

  console.log('(c) parse of a 2 MiB module (imports, exports with signatures, limits, custom sections)')
  const two = moduleOf(2 * MiB)
  const t0 = performance.now()
  await parseModule(two)
  const cold = performance.now() - t0
  const warm: number[] = []
  for (let i = 0; i < 50; i++) {
    const t = performance.now()
    await parseModule(two)
    warm.push(performance.now() - t)
  }
  const v0 = performance.now()
  engine.validate(two)
  const validateMs = performance.now() - v0
  const parseRow = `  parse 2 MiB          first ${cold.toFixed(2)} ms, then median ${median(warm).toFixed(2)} ms (WebAssembly.validate of the same bytes: ${validateMs.toFixed(1)} ms)`

  console.log('\nsummary')
  for (const row of [...addRows, ...fetchRows, parseRow]) console.log(row)
} finally {
  await Promise.all([a, b].map(async p => {
    const exited = new Promise(resolve => p.child.once('exit', resolve))
    p.child.send({ op: 'stop' })
    await exited
  }))
  await rm(dir, { recursive: true, force: true })
}
