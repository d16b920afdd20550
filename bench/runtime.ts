/**
 * Runtime benchmark: what the sandbox costs.
 *
 *   node_modules/.bin/node bench/runtime.ts [--calls N]
 *
 * (a) a numeric export (i32 add) called through the isolated path (worker thread, shared-memory
 *     channel) against the same export called in-thread on a raw instance: µs p50/p99, ratio;
 * (b) a component's numeric export against a core module's through that same path: ratio;
 * (c) prepare (validate, link-check, cap, compile) + instantiate of a 1 MB module, cold (new
 *     bytes) and cached (bytes already compiled);
 * (d) WASI preview 1 file write and read throughput of a guest against node:fs on this thread,
 *     same file size and chunk size.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { engine } from '../src/wasm/engine.ts'
import { WasmRuntime } from '../src/wasm/runtime/index.ts'
import type { GuestInstance } from '../src/wasm/runtime/index.ts'
import { bigModule, sensorComponent, wat, withCustomSection } from '../test/helpers/fixtures.ts'
import { median, percentile } from './stats.ts'

const { values } = parseArgs({ options: { calls: { type: 'string', default: '20000' } } })
const CALLS = Number(values.calls)
const MiB = 1024 * 1024

const fmt = (n: number, digits = 2): string => n.toFixed(digits)

async function callTimes (guest: GuestInstance, fn: string, args: number[], n: number): Promise<number[]> {
  for (let i = 0; i < 2000; i++) await guest.call(fn, args) // warm-up
  const times = new Array<number>(n)
  for (let i = 0; i < n; i++) {
    const start = process.hrtime.bigint()
    await guest.call(fn, args)
    times[i] = Number(process.hrtime.bigint() - start) / 1000
  }
  return times.sort((a, b) => a - b)
}

function rawCallNs (bytes: Uint8Array, n: number): number {
  const instance = new engine.Instance(new engine.Module(bytes))
  const add = instance.exports.add as (a: number, b: number) => number
  let sink = 0
  for (let i = 0; i < 100_000; i++) sink += add(i, 1)
  const start = process.hrtime.bigint()
  for (let i = 0; i < n; i++) sink += add(i, 1)
  const ns = Number(process.hrtime.bigint() - start) / n
  if (sink === 0.5) console.log(sink)
  return ns
}

const runtime = new WasmRuntime({
  limits: { callTimeoutMs: 60_000 },
  skills: [{ name: 'camera', provider: { type: 'simulated' } }, { name: 'dht', provider: { type: 'simulated' } }]
})

// (a)
const addBytes = await wat('add')
const core = await runtime.instantiate(await runtime.prepare(addBytes))
const isolated = await callTimes(core, 'add', [2, 3], CALLS)
const rawNs = rawCallNs(addBytes, 10_000_000)
console.log(`(a) numeric call, ${CALLS} sequential calls`)
console.log(`    raw in-thread call          ${fmt(rawNs, 1)} ns`)
console.log(`    isolated path (worker)      p50 ${fmt(percentile(isolated, 50))} µs  p99 ${fmt(percentile(isolated, 99))} µs`)
console.log(`    ratio isolated p50 / raw    ${fmt(percentile(isolated, 50) * 1000 / rawNs, 0)}x`)

// (b)
const component = await runtime.instantiate(await runtime.prepare(await sensorComponent()))
const componentTimes = await callTimes(component, 'add', [2, 3], CALLS)
const coreAgain = await callTimes(core, 'add', [2, 3], CALLS)
console.log('(b) component call against core call, same isolated path')
console.log(`    core       p50 ${fmt(percentile(coreAgain, 50))} µs  p99 ${fmt(percentile(coreAgain, 99))} µs`)
console.log(`    component  p50 ${fmt(percentile(componentTimes, 50))} µs  p99 ${fmt(percentile(componentTimes, 99))} µs`)
console.log(`    ratio p50  ${fmt(percentile(componentTimes, 50) / percentile(coreAgain, 50))}x`)
component.close()

// (c)
const base = bigModule(1_000_000, false)
const prepCold: number[] = []
const prepCached: number[] = []
const instSpare: number[] = []
const instNew: number[] = []
const bare = new WasmRuntime({ limits: { spareWorkers: 0 } })
const time = async <T>(into: number[], work: () => Promise<T>): Promise<T> => {
  const start = performance.now()
  const result = await work()
  into.push(performance.now() - start)
  return result
}
for (let i = 0; i < 7; i++) {
  const bytes = withCustomSection(base, 'run', randomBytes(16))
  const module = await time(prepCold, async () => await runtime.prepare(bytes))
  await time(prepCached, async () => await runtime.prepare(bytes))
  // let the spare worker come up, as it has between real deployments
  await new Promise(resolve => setTimeout(resolve, 300))
  ;(await time(instSpare, async () => await runtime.instantiate(module))).close()
  ;(await time(instNew, async () => await bare.instantiate(await bare.prepare(bytes)))).close()
}
bare.close()
const med = (xs: number[]): string => fmt(median(xs), 1)
console.log(`(c) a ${(base.length / 1e6).toFixed(1)} MB module, median of 7`)
console.log(`    prepare (validate, parse, link-check, cap, compile): cold ${med(prepCold)} ms, cached ${med(prepCached)} ms`)
console.log(`    instantiate: on the spare worker ${med(instSpare)} ms, on a new worker (prepare cached) ${med(instNew)} ms`)

// (d)
const dir = mkdtempSync(join(tmpdir(), 'wasmesh-bench-'))
try {
  const io = await runtime.instantiate(await runtime.prepare(await wat('file-io')), { preopens: [{ guest: '/data', host: dir }] })
  const total = 64 * MiB
  const chunk = 64 * 1024
  const buffer = new Uint8Array(chunk)
  const path = join(dir, 'node.bin')
  const timed = async (work: () => unknown): Promise<number> => {
    const start = performance.now()
    await work()
    return performance.now() - start
  }
  const guestFile = async (fn: string, args: number[]): Promise<void> => {
    const moved = (await io.call(fn, args)).value
    if (moved !== total) throw new Error(`guest ${fn} moved ${String(moved)} bytes`)
  }
  const nodeWriteFile = (): void => {
    const fd = openSync(path, 'w')
    for (let done = 0; done < total; done += chunk) writeSync(fd, buffer)
    closeSync(fd)
  }
  const nodeReadFile = (): void => {
    const fd = openSync(path, 'r')
    while (readSync(fd, buffer) > 0);
    closeSync(fd)
  }
  // page-cache writeback makes single runs noisy: 5 rounds, the order alternating, medians
  const times = { guestWrite: [] as number[], nodeWrite: [] as number[], guestRead: [] as number[], nodeRead: [] as number[] }
  for (let round = 0; round < 5; round++) {
    const guestFirst = round % 2 === 0
    const writes = [async () => times.guestWrite.push(await timed(async () => { await guestFile('write_file', [total, chunk]) })),
      async () => times.nodeWrite.push(await timed(nodeWriteFile))]
    const reads = [async () => times.guestRead.push(await timed(async () => { await guestFile('read_file', [chunk]) })),
      async () => times.nodeRead.push(await timed(nodeReadFile))]
    for (const step of guestFirst ? [...writes, ...reads] : [...writes.reverse(), ...reads.reverse()]) await step()
  }
  const guestWrite = median(times.guestWrite)
  const nodeWrite = median(times.nodeWrite)
  const guestRead = median(times.guestRead)
  const nodeRead = median(times.nodeRead)
  const rate = (ms: number): string => `${fmt(total / MiB / (ms / 1000), 0)} MiB/s`
  console.log(`(d) file I/O, ${total / MiB} MiB in ${chunk / 1024} KiB chunks, median of 5`)
  console.log(`    write: guest ${rate(guestWrite)}, node:fs ${rate(nodeWrite)}, ratio ${fmt(guestWrite / nodeWrite)}x`)
  console.log(`    read:  guest ${rate(guestRead)}, node:fs ${rate(nodeRead)}, ratio ${fmt(guestRead / nodeRead)}x`)
} finally {
  rmSync(dir, { recursive: true, force: true })
  runtime.close()
}
