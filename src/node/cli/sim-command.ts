import { WasmeshError } from '../../errors.ts'
import type { Command } from 'commander'

export interface SimFlags {
  nodes?: string
  seed?: string
  workers?: string
  duration?: string
  rate?: string
  out?: string
  json?: boolean
}

/** Flags that override the scenario file, checked as the scenario is. Pure. */
export function simOverrides (flags: SimFlags): Record<string, unknown> {
  const int = (value: string | undefined, flag: string): number | undefined => {
    if (value === undefined) return undefined
    const n = Number(value)
    if (!Number.isFinite(n)) throw new WasmeshError('bad-request', `--${flag}: "${value}" is not a number`, { field: flag })
    return n
  }
  const out: Record<string, unknown> = {}
  const set = (key: string, value: unknown): void => { if (value !== undefined) out[key] = value }
  set('nodes', int(flags.nodes, 'nodes'))
  set('seed', int(flags.seed, 'seed'))
  set('workers', int(flags.workers, 'workers'))
  return out
}

export function simCommand (program: Command): void {
  program.command('sim')
    .description('runs a simulated mesh of many nodes (the real node code, in memory) and reports what happened')
    .argument('[scenario]', 'scenario file (JSON; default: sim/scenarios/default.json)')
    .option('--nodes <n>', 'number of nodes (overrides the scenario)')
    .option('--seed <n>', 'random seed: same seed, same topology, skills and events')
    .option('--workers <n>', 'threads to spread the nodes over (default: one per core)')
    .option('--duration <s>', 'seconds of call load (overrides load.durationS)')
    .option('--rate <n>', 'calls per second (overrides load.rate)')
    .option('--out <dir>', 'where to write report.json and report.html (default: sim-reports/NAME-TIME)')
    .option('--json', 'print the JSON report on stdout instead of the table')
    .action(async (scenario: string | undefined, flags: SimFlags) => {
      // Loaded on demand: the simulator pulls in the WAT compiler, which other commands never need.
      const { simMain } = await import('../../../sim/main.ts')
      await simMain(scenario, flags)
    })
}
