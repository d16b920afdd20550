import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect } from 'chai'
import { planScenario } from '../../sim/plan.ts'
import { runScenario } from '../../sim/run.ts'
import { parseScenario } from '../../sim/scenario.ts'
import { bySecond } from '../../sim/recovery.ts'
import type { CallRecord } from '../../sim/recovery.ts'
import type { SimReport } from '../../sim/report/types.ts'

const SIM_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'sim')

const CRASH_AT = 3
const SPLIT_AT = 14
const HEAL_AT = 34
const LOAD_S = 48
/**
 * A half finds the other gone once its peers miss their heartbeats (2 s × 3.5) and then
 * re-places what it lost: calls in a half are judged from this long after the split.
 */
const SPLIT_SETTLED_S = 12

/** 20 nodes over two threads; 5 crash, then the LAN splits in two and heals. */
const scenario = parseScenario({
  seed: 7,
  nodes: 20,
  workers: 2,
  heartbeatMs: 2_000, // a device's default
  skills: [{ name: 'camera', nodes: 6 }, { name: 'dht', nodes: 6 }],
  modules: [
    { name: 'sensor', file: 'modules/sensor.wat', nodes: 3 },
    { name: 'camera', file: 'modules/camera.wat', nodes: 3 },
    { name: 'double', file: 'modules/double.wat', nodes: 3 }
  ],
  deployments: [
    { name: 'thermo', steps: [{ module: 'sensor', function: 'temp' }, { module: 'camera', function: 'fahrenheit' }, { module: 'double', function: 'double' }] },
    { name: 'doubler', steps: [{ module: 'double', function: 'double', replicas: 2 }] }
  ],
  load: { rate: 20, durationS: LOAD_S, calls: [{ deployment: 'thermo' }, { deployment: 'doubler', args: [21] }] },
  events: [
    { at: CRASH_AT, type: 'crash', count: 5 },
    { at: SPLIT_AT, type: 'partition', segments: [1, 1] },
    { at: HEAL_AT, type: 'heal' }
  ]
}, { baseDir: SIM_DIR, name: 'ci-20' })

/** The calls sent from `fromS` to before `toS` (seconds of load), that also match `where`. */
function sentIn (calls: CallRecord[], fromS: number, toS: number, where: (c: CallRecord) => boolean = () => true): CallRecord[] {
  return calls.filter(c => c.t >= fromS * 1000 && c.t < toS * 1000 && where(c))
}

function rate (calls: CallRecord[]): number {
  return calls.length === 0 ? NaN : calls.filter(c => c.ok).length / calls.length
}

/** What went wrong, for an assertion's message: each second's ok/all and the failures' codes. */
function story (calls: CallRecord[]): string {
  const seconds = [...bySecond(calls)].map(([s, cs]) => `${s}s ${cs.filter(c => c.ok).length}/${cs.length}`).join(', ')
  const codes = [...new Set(calls.filter(c => !c.ok).map(c => c.code))].join(', ')
  return `${seconds}; failed with: ${codes === '' ? 'none' : codes}`
}

describe('simulator: 20 nodes of the real node code', function () {
  this.timeout(240_000)
  let report: SimReport
  let calls: CallRecord[]
  const plan = planScenario(scenario)
  const skillsOf = new Map(plan.nodes.map(n => [n.name, n.skills]))

  before(async () => {
    ({ report, calls } = await runScenario(scenario))
  })

  it('converges: every node learns every peer\'s skills', () => {
    expect(report.discovery.convergedMs).to.be.a('number')
    expect(report.announcements.count).to.be.greaterThan(0)
  })

  it('places the pipeline by skills', () => {
    const thermo = report.deploys.find(d => d.name === 'thermo')
    expect(thermo?.ok, thermo?.error).to.equal(true)
    const [sensor, camera] = thermo!.placement
    for (const name of sensor) expect(skillsOf.get(name)).to.include('dht')
    for (const name of camera) expect(skillsOf.get(name)).to.include('camera')
    expect(report.deploys.find(d => d.name === 'doubler')?.placement[0]).to.have.length(2)
  })

  it('answers calls entering through random nodes', () => {
    // answered before the crash (a call still on its way then may meet it)
    const before = calls.filter(c => c.answeredAt < CRASH_AT * 1000)
    expect(before.length).to.be.greaterThan(20)
    expect(new Set(before.map(c => c.entry)).size).to.be.greaterThan(5)
    expect(rate(before), story(before)).to.equal(1)
  })

  it('recovers from 5 crashes: calls succeed again within seconds', () => {
    const crash = report.recovery.filter(r => r.event === 0)
    for (const r of crash) expect(r.ms, `${r.deployment} after the crash`).to.be.a('number').and.below(10_000)
    const settled = sentIn(calls, CRASH_AT + 6, SPLIT_AT)
    expect(rate(settled), story(settled)).to.be.at.least(0.97)
  })

  it('keeps serving in each half of a partition what that half can, and everywhere once healed', () => {
    // What each half can serve follows from the plan: a deployment needs, among the half's
    // live nodes, one holding each of its modules and ones offering each skill it needs.
    const split = plan.actions.find(a => a.type === 'partition')
    const crashed = plan.actions.find(a => a.type === 'crash')
    if (split?.type !== 'partition' || crashed?.type !== 'crash') throw new Error('the scenario has a crash and a split')
    const can = (segment: number, modules: string[], skills: string[]): boolean => {
      const members = split.segments[segment].filter(i => !crashed.nodes.includes(i))
      return modules.every(m => members.some(i => plan.holders.get(m)?.includes(i))) &&
        skills.every(skill => members.some(i => plan.nodes[i].skills.includes(skill)))
    }
    const needs: Record<string, [string[], string[]]> = { doubler: [['double'], []], thermo: [['sensor', 'camera', 'double'], ['dht', 'camera']] }
    let serving = 0
    for (const [deployment, [modules, skills]] of Object.entries(needs)) {
      const late = sentIn(calls, SPLIT_AT + SPLIT_SETTLED_S, HEAL_AT, c => c.deployment === deployment)
      for (const segment of [0, 1]) {
        if (!can(segment, modules, skills)) continue
        serving++
        const mine = late.filter(c => c.segment === segment)
        expect(mine.length, `${deployment} calls in segment ${segment}`).to.be.greaterThan(5)
        const during = sentIn(calls, SPLIT_AT, HEAL_AT, c => c.deployment === deployment && c.segment === segment)
        expect(rate(mine), `${deployment} in segment ${segment} (placed ${JSON.stringify(report.deploys)}): ${story(during)}`).to.be.at.least(0.9)
      }
    }
    expect(serving, 'halves able to serve something (seed 7)').to.be.at.least(3)
    const healed = sentIn(calls, HEAL_AT + 8, Infinity)
    expect(healed.length).to.be.greaterThan(20)
    expect(rate(healed), story(healed)).to.be.at.least(0.97)
    expect(report.discovery.timeline.at(-1)?.converged).to.equal(1)
  })
})
