import { join } from 'node:path'
import { WasmeshError } from '../src/errors.ts'
import { simOverrides } from '../src/node/cli/sim-command.ts'
import { Progress } from './report/progress.ts'
import { summaryTable } from './report/table.ts'
import { writeReport } from './report/write.ts'
import { runScenario } from './run.ts'
import { loadScenario } from './scenario.ts'
import type { SimFlags } from '../src/node/cli/sim-command.ts'

/** `wasmesh sim`: loads the scenario, runs it, prints the summary and where the reports are. */
export async function simMain (file: string | undefined, flags: SimFlags): Promise<void> {
  const overrides = simOverrides(flags)
  const scenario = await loadScenario(file, overrides)
  const load = { ...scenario.load }
  if (flags.duration !== undefined) load.durationS = number(flags.duration, 'duration')
  if (flags.rate !== undefined) load.rate = number(flags.rate, 'rate')
  const { report } = await runScenario({ ...scenario, load }, new Progress(process.stderr, { phases: 4 }))
  const dir = flags.out ?? join('sim-reports', `${scenario.name}-${report.startedAt.replace(/[:.]/g, '-')}`)
  const paths = await writeReport(report, dir)
  process.stdout.write(flags.json === true ? JSON.stringify(report, null, 2) + '\n' : summaryTable(report) + '\n')
  process.stderr.write(`report: ${paths.html}\njson: ${paths.json}\n`)
}

function number (value: string, flag: string): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n < 0) throw new WasmeshError('bad-request', `--${flag}: "${value}" is not a number`, { field: flag })
  return n
}
