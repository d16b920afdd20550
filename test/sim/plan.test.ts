import { readdir, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect } from 'chai'
import { planScenario } from '../../sim/plan.ts'
import { bySecond, recoveries, successAfterRecovery } from '../../sim/recovery.ts'
import { defaultHeartbeatMs, loadScenario, parseScenario } from '../../sim/scenario.ts'
import { main } from '../../src/node/cli/main.ts'
import type { CallRecord } from '../../sim/recovery.ts'

const base = { baseDir: '/tmp', name: 't', cores: 2 }

describe('simulator: scenarios and plans', () => {
  it('fills in defaults, and the heartbeat grows with the mesh up to the protocol\'s cap', () => {
    const s = parseScenario({}, base)
    expect(s).to.include({ nodes: 100, seed: 1, workers: 2, fanout: 4, name: 't' })
    expect(s.heartbeatMs).to.equal(defaultHeartbeatMs(100))
    expect(defaultHeartbeatMs(4)).to.equal(2_000)
    expect(defaultHeartbeatMs(20)).to.equal(10_000)
    expect(defaultHeartbeatMs(100_000)).to.equal(600_000)
    expect(parseScenario({ nodes: 3 }, { ...base, cores: 8 }).workers).to.equal(3)
  })

  it('refuses bad scenarios naming the field', () => {
    expect(() => parseScenario({ nodes: 1 }, base)).to.throw(/nodes/)
    expect(() => parseScenario({ events: [{ type: 'explode', at: 1 }] }, base)).to.throw(/events\.0\.type/)
    expect(() => parseScenario({ events: [{ type: 'partition', at: 1, segments: [1] }] }, base)).to.throw(/segments/)
    expect(() => parseScenario({ nodez: 5 }, base)).to.throw(/nodez/)
  })

  it('`wasmesh sim` with a missing or broken scenario file fails with exit 2 and a clear message', async () => {
    const written: string[] = []
    const write = process.stderr.write
    process.stderr.write = ((s: string) => { written.push(s); return true }) as typeof process.stderr.write
    try {
      expect(await main(['sim', '/nonexistent/scenario.json'])).to.equal(2)
      expect(await main(['sim', '--nodes', 'many'])).to.equal(2)
    } finally {
      process.stderr.write = write
    }
    expect(written.join('')).to.match(/cannot read \/nonexistent\/scenario\.json/).and.match(/--nodes: "many"/)
    await loadScenario(undefined) // the default scenario is valid
  })

  it('the example scenarios are valid and their module files exist', async () => {
    const dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'sim', 'scenarios')
    const files = (await readdir(dir)).filter(f => f.endsWith('.json'))
    expect(files).to.include.members(['default.json', 'crash-30.json', 'partition.json'])
    for (const f of files) {
      const s = await loadScenario(join(dir, f))
      for (const m of s.modules) expect((await stat(m.file)).isFile(), m.file).to.equal(true)
    }
  })

  it('the same seed gives the same skills, threads and event targets; another seed does not', () => {
    const input = {
      nodes: 50,
      workers: 2,
      skills: [{ name: 'camera', share: 0.2 }, { name: 'dht', nodes: 7 }],
      events: [
        { at: 5, type: 'crash', fraction: 0.3 },
        { at: 6, type: 'join', count: 3, skills: ['camera'] },
        { at: 7, type: 'partition', segments: [2, 1] },
        { at: 8, type: 'heal' },
        { at: 9, type: 'skills', count: 2, add: ['dht'], remove: ['camera'] }
      ]
    }
    const a = planScenario(parseScenario({ ...input, seed: 3 }, base))
    const b = planScenario(parseScenario({ ...input, seed: 3 }, base))
    const c = planScenario(parseScenario({ ...input, seed: 4 }, base))
    expect(a).to.deep.equal(b)
    expect(a.nodes.map(n => n.skills)).to.not.deep.equal(c.nodes.map(n => n.skills))
    expect(a.nodes.filter(n => n.skills.includes('camera'))).to.have.length(10)
    expect(a.nodes.filter(n => n.skills.includes('dht'))).to.have.length(7)
    expect(new Set(a.nodes.map(n => n.worker))).to.deep.equal(new Set([0, 1]))
    const [crash, join, partition, , skills] = a.actions
    if (crash.type !== 'crash' || join.type !== 'join' || partition.type !== 'partition' || skills.type !== 'skills') throw new Error('order')
    expect(crash.nodes).to.have.length(15)
    expect(join.nodes.map(n => n.index)).to.deep.equal([50, 51, 52])
    // the partition splits the 38 live nodes 2:1, none of the crashed among them
    expect(partition.segments.map(s => s.length)).to.deep.equal([25, 13])
    expect(partition.segments.flat().some(i => crash.nodes.includes(i))).to.equal(false)
    for (const n of skills.nodes) expect(n.skills).to.include('dht').and.not.include('camera')
  })

  it('groups calls by the second they started in, in time order', () => {
    const call = (t: number): CallRecord => ({ t, ms: 1, answeredAt: t + 1, ok: true, deployment: 'a', entry: 'n0', segment: 0 })
    const seconds = bySecond([call(2500), call(10), call(999), call(1000)])
    expect([...seconds.keys()]).to.deep.equal([0, 1, 2])
    expect(seconds.get(0)?.map(c => c.t)).to.deep.equal([10, 999])
    expect(seconds.get(1)?.map(c => c.t)).to.deep.equal([1000])
  })

  it('recovery: from the event to the first success after the last failure, per deployment', () => {
    const call = (t: number, ok: boolean, deployment = 'a'): CallRecord => ({ t, ms: 1, answeredAt: t + 1, ok, deployment, entry: 'n0', segment: 0 })
    const calls = [call(0, true), call(900, true), call(1000, false), call(1100, false), call(1500, true), call(1600, false), call(2000, true), call(2100, true), call(1200, true, 'b')]
    const events = [{ t: 1000, type: 'crash' }]
    const found = recoveries(events, calls, 5_000)
    expect(found).to.deep.equal([{ event: 0, type: 'crash', deployment: 'a', ms: 1000 }])
    // after recovery: calls from t=2000 on, and those before the event
    expect(successAfterRecovery(events, found, calls, 5_000)).to.equal(1)
    expect(recoveries(events, [call(1000, false)], 5_000)[0].ms).to.equal(null)
  })
})
