/**
 * Component call cost.
 *
 *   node_modules/.bin/node bench/component-call.ts [--calls N] [--rounds R]
 *
 * The same numeric function, `add(a: u32, b: u32) -> u32` of test/fixtures/component/sensor.wat,
 * called in this thread (a) as a raw core export (the component's own core module, instantiated
 * directly) and (b) as the transpiled component's export, through the jco bindings, for the jco
 * wasmesh transpiles with (1.12.0, src/wasm/component/transpile.ts) and for jco 1.35 (the
 * project's jco, the baseline). Also: transpile time, cold (loading the transpiler) and warm.
 * Figures are medians over rounds; ns/call includes the loop (a few ns).
 */
import { Buffer } from 'node:buffer'
import { parseArgs } from 'node:util'
import { transpile as transpile135 } from '@bytecodealliance/jco'
import { engine, type ImportObject, type WasmModule } from '../src/wasm/engine.ts'
import { componentImports, instantiateComponent } from '../src/wasm/component/instantiate.ts'
import { transpileComponent } from '../src/wasm/component/transpile.ts'
import { sensorComponent } from '../test/helpers/fixtures.ts'
import { testComponentHost } from '../test/helpers/component-host.ts'
import { median } from './stats.ts'

const { values } = parseArgs({ options: { calls: { type: 'string', default: '2000000' }, rounds: { type: 'string', default: '7' } } })
const CALLS = Number(values.calls)
const ROUNDS = Number(values.rounds)

type Add = (a: number, b: number) => number

/** ns per call of `add`, median of ROUNDS rounds of `calls` calls (the result feeds the next call, so none is skipped) */
function perCall (add: Add, calls = CALLS): number {
  const rounds: number[] = []
  for (let r = 0; r < ROUNDS; r++) {
    let acc = 0
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < calls; i++) acc = add(i, acc)
    const ns = Number(process.hrtime.bigint() - t0)
    if (acc === 0.5) console.log('') // keeps acc alive
    rounds.push(ns / calls)
  }
  return median(rounds)
}

async function time<T> (fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now()
  const result = await fn()
  return [result, performance.now() - t0]
}

const bytes = await sensorComponent()
const compile = (_: string, b: Uint8Array): WasmModule => new engine.Module(b)

// jco 1.12.0, as wasmesh uses it
const [t112, cold112] = await time(async () => await transpileComponent(bytes, 'sensor'))
const warm112: number[] = []
for (let i = 0; i < 5; i++) warm112.push((await time(async () => await transpileComponent(bytes, 'sensor')))[1])
const instance112 = await instantiateComponent(t112, compile, testComponentHost())
const add112 = instance112.functions.get('add') as Add

// the raw core export behind it, stub imports: `add` calls none of them
const coreModule = new engine.Module(t112.coreModules['sensor.core.wasm'])
const stubs: ImportObject = {}
for (const imp of engine.Module.imports(coreModule)) {
  if (imp.kind === 'function') (stubs[imp.module] ??= {})[imp.name] = () => 0
}
const coreAdd = new engine.Instance(coreModule, stubs).exports.add as Add

// jco 1.35, the same way: sync instantiation, the same import object
const opts135 = { name: 'sensor', instantiation: 'sync' as const, noTypescript: true, quiet: true }
const [r135, cold135] = await time(async () => await transpile135(bytes, opts135))
const warm135: number[] = []
for (let i = 0; i < 5; i++) warm135.push((await time(async () => await transpile135(bytes, opts135)))[1])
const js135 = Buffer.from(r135.files['sensor.js']).toString('utf8')
const { instantiate } = await import(`data:text/javascript;base64,${Buffer.from(js135).toString('base64')}`) as {
  instantiate: (get: (name: string) => WasmModule, imports: Record<string, object>) => Record<string, unknown>
}
const root135 = instantiate(name => compile(name, r135.files[name]), componentImports(r135.imports, testComponentHost()))
const add135 = root135.add as Add

// warm-up, then measure
perCall(coreAdd, 200_000); perCall(add112, 200_000); perCall(add135, 20_000)
const core = perCall(coreAdd)
const c112 = perCall(add112)
const c135 = perCall(add135, Math.max(1, Math.floor(CALLS / 50)))

const line = (label: string, ns: number): string => `${label.padEnd(36)} ${ns.toFixed(1).padStart(8)} ns/call   ${(ns / core).toFixed(2).padStart(7)}x core`
console.log(`node ${process.version}, ${CALLS} calls x ${ROUNDS} rounds (jco 1.35: ${Math.floor(CALLS / 50)} calls)`)
console.log(line('raw core export add', core))
console.log(line('component add, jco 1.12.0 (wasmesh)', c112))
console.log(line('component add, jco 1.35.0 (baseline)', c135))
console.log(`transpile, jco 1.12.0: cold ${cold112.toFixed(0)} ms (loads the transpiler), warm ${median(warm112).toFixed(1)} ms; js ${t112.js.length} B`)
console.log(`transpile, jco 1.35.0: cold ${cold135.toFixed(0)} ms (loads the transpiler), warm ${median(warm135).toFixed(1)} ms; js ${js135.length} B`)
