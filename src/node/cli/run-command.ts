import { WasmeshError, isWasmeshError } from '../../errors.ts'
import { WasmRuntime } from '../../wasm/runtime/index.ts'
import type { GuestOutcome } from '../../wasm/runtime/index.ts'
import { readInput } from './module-command.ts'
import { readSkills } from './start.ts'
import type { Command } from 'commander'

/** wasmtime's exit status for a trap (128 + SIGABRT), so scripts see the same thing */
export const TRAP_EXIT_CODE = 134

interface RunFlags {
  invoke?: string
  dir: string[]
  env: string[]
  skills?: string
  timeoutMs?: string
}

/** `--dir HOST[::GUEST]` as wasmtime reads it: the guest path defaults to the host path as given. Pure. */
export function parseDirFlag (value: string): { host: string, guest: string } {
  const split = value.indexOf('::')
  const host = split < 0 ? value : value.slice(0, split)
  const guest = split < 0 ? value : value.slice(split + 2)
  if (host === '' || guest === '') throw new WasmeshError('bad-request', `--dir: "${value}" is not HOST[::GUEST]`, { field: 'dir' })
  return { host, guest }
}

/** `--env K=V`, or `--env K` to pass the host's value on (as wasmtime). Pure but for `hostEnv`. */
export function parseEnvFlags (values: readonly string[], hostEnv: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {}
  for (const value of values) {
    const eq = value.indexOf('=')
    const key = eq < 0 ? value : value.slice(0, eq)
    if (key === '' || key.includes('\0')) throw new WasmeshError('bad-request', `--env: "${value}" is not K=V`, { field: 'env' })
    const v = eq < 0 ? hostEnv[key] : value.slice(eq + 1)
    if (v !== undefined) env[key] = v
  }
  return env
}

function parseTimeout (value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) throw new WasmeshError('bad-request', `--timeout-ms: "${value}" is not a whole number of ms`, { field: 'timeout-ms' })
  return n === 0 ? undefined : n
}

export function runCommand (program: Command): void {
  program.command('run')
    .description('run a module locally in the node\'s sandbox, as `wasmtime run` does')
    .argument('<file>', 'the .wasm file (core module or component)')
    .argument('[args...]', 'arguments for the guest (with --invoke: the function\'s arguments, as numbers)')
    .option('--invoke <fn>', 'call this export with ARGS as numbers and print the result')
    .option('--dir <host[::guest]>', 'give the guest a host directory (at GUEST, default the same path), repeatable', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--env <k=v>', 'set a guest environment variable (K alone passes the host\'s value), repeatable', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--skills <file>', 'skills file (as for start) for modules that import skills')
    .option('--timeout-ms <ms>', 'stop the guest after this long (default: no limit, as wasmtime)')
    .passThroughOptions()
    .action(async (file: string, args: string[], flags: RunFlags) => {
      process.exitCode = await runModule(file, args, flags)
    })
}

async function runModule (file: string, args: string[], flags: RunFlags): Promise<number> {
  const bytes = await readInput(file, 'module')
  const preopens = flags.dir.map(parseDirFlag)
  const env = parseEnvFlags(flags.env)
  const timeoutMs = parseTimeout(flags.timeoutMs) ?? Number.POSITIVE_INFINITY
  // one guest, one worker: no spare
  const runtime = new WasmRuntime({ skills: await readSkills(flags.skills), limits: { callTimeoutMs: timeoutMs, startTimeoutMs: timeoutMs, spareWorkers: 0 } })
  try {
    const module = await runtime.prepare(bytes)
    const guest = await runtime.instantiate(module, {
      args: [file, ...(flags.invoke === undefined ? args : [])], env, preopens, stdio: 'inherit'
    })
    let outcome: GuestOutcome
    if (flags.invoke !== undefined) {
      const fn = flags.invoke
      // a core export's arguments are converted to its parameter types by the instance; a
      // component's WIT signature is not known here, so its arguments are plain numbers
      outcome = await guest.call(fn, module.info.kind === 'core' ? args : args.map((a, i) => numberArg(a, i, fn)))
      if (outcome.exitCode === undefined) printResult(outcome.value)
    } else {
      outcome = await guest.run()
    }
    return outcome.exitCode ?? 0
  } catch (err) {
    if (isWasmeshError(err) && (err.code === 'trap' || err.code === 'timeout')) {
      process.stderr.write(`wasmesh: ${err.code}: ${err.message}\n`)
      return TRAP_EXIT_CODE
    }
    throw err
  } finally {
    runtime.close()
  }
}

function numberArg (text: string, i: number, fn: string): number {
  const n = Number(text)
  if (text.trim() === '' || Number.isNaN(n)) throw new WasmeshError('bad-request', `${fn}: arg${i} must be a number, not "${text}"`, { field: `arg${i}` })
  return n
}

function printResult (value: unknown): void {
  if (value === undefined) return
  const values = Array.isArray(value) ? value : [value]
  process.stdout.write(values.map(v => String(v)).join('\n') + '\n')
}
