import { expect } from 'chai'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BOUNDS_MS, LatencyHistogram } from '../../sim/report/histogram.ts'
import { htmlReport } from '../../sim/report/html.ts'
import { Progress } from '../../sim/report/progress.ts'
import { summaryTable } from '../../sim/report/table.ts'
import type { SimReport } from '../../sim/report/types.ts'
import { writeReport } from '../../sim/report/write.ts'

function histogramOf (values: number[]): LatencyHistogram {
  const h = new LatencyHistogram()
  for (const v of values) h.add(v)
  return h
}

/** Width of the bucket holding `ms`: how far a bucket-read quantile may be from the true one. */
function bucketWidth (ms: number): number {
  const i = BOUNDS_MS.findIndex(b => b >= ms)
  return BOUNDS_MS[i] - (i === 0 ? 0 : BOUNDS_MS[i - 1])
}

function sampleReport (name = 'lan-20'): SimReport {
  const calls = histogramOf(Array.from({ length: 200 }, (_, i) => 2 + i * 0.4))
  calls.add(4000)
  const announcements = histogramOf([3, 5, 8, 12, 40])
  return {
    scenario: { name, seed: 42, nodes: 20, workers: 2, fanout: 4, heartbeatMs: 1000, latencyMs: 5, skills: [{ name: 'camera', nodes: 3 }, { name: 'dht', nodes: 20 }] },
    startedAt: '2025-06-01T10:00:00.000Z',
    wallMs: 34_250,
    phases: [{ name: 'starting nodes', ms: 2_000 }, { name: 'discovery', ms: 1_000 }, { name: 'deploying', ms: 1_250 }, { name: 'calls', ms: 30_000 }],
    discovery: {
      convergedMs: 1840,
      timeline: [{ t: 0, converged: 0, known: 0.1 }, { t: 500, converged: 0.25, known: 0.6 }, { t: 1000, converged: 0.7, known: 0.9 }, { t: 1840, converged: 1, known: 1 }]
    },
    announcements: announcements.summary(),
    deploys: [
      { name: 'thumbs', ms: 412, ok: true, placement: [['n1', 'n2'], ['n7']] },
      { name: 'nowhere', ms: 5003, ok: false, error: 'unsatisfiable: no node with skill gps', placement: [] }
    ],
    calls: {
      ...calls.summary(),
      total: 201,
      ok: 189,
      failed: 12,
      successRate: 189 / 201,
      successRateAfterRecovery: 1,
      errors: { timeout: 9, unavailable: 3 },
      timeline: [
        { t: 0, ok: 50, failed: 0, p50Ms: 3 },
        { t: 1000, ok: 40, failed: 10, p50Ms: 4 },
        { t: 2000, ok: 48, failed: 2, p50Ms: 3 },
        { t: 3000, ok: 51, failed: 0, p50Ms: 3 }
      ]
    },
    events: [
      { t: 900, type: 'kill', nodes: ['n7'], detail: 'SIGKILL-like stop' },
      { t: 2500, type: 'partition', nodes: ['n1', 'n2'], detail: 'cut from the rest' }
    ],
    recovery: [{ event: 0, type: 'kill', deployment: 'thumbs', ms: 1234 }, { event: 1, type: 'partition', deployment: 'thumbs', ms: null }],
    perNode: { gossipMessagesPerS: 12.34, bytesInPerS: 4567, cpuMsPerS: 8.5, rssMb: 85.2 }
  }
}

describe('sim report', () => {
  describe('latency histogram', () => {
    it('reads p50 and p99 of 1..1000 ms within one bucket, count and max exactly', () => {
      const s = histogramOf(Array.from({ length: 1000 }, (_, i) => i + 1)).summary()
      expect(s.count).to.equal(1000)
      expect(s.maxMs).to.equal(1000)
      expect(s.p50Ms).to.be.at.least(500).and.at.most(500 + bucketWidth(500))
      expect(s.p99Ms).to.be.at.least(990).and.at.most(1000)
      expect(s.histogram.reduce((n, b) => n + b.count, 0)).to.equal(1000)
      expect(s.histogram.at(-1)?.leMs).to.equal(Infinity)
    })

    it('never reads a quantile above the maximum, and counts beyond 120 s in the overflow bucket', () => {
      expect(histogramOf([7, 7, 7]).summary()).to.include({ p50Ms: 7, p99Ms: 7, maxMs: 7 })
      const s = histogramOf([7, 7, 7, 200_000]).summary()
      expect(s.p50Ms).to.equal(7.94) // the bucket's upper bound
      expect(s.p99Ms).to.equal(200_000)
      expect(s.histogram.at(-1)?.count).to.equal(1)
      expect(histogramOf([]).summary()).to.include({ count: 0, p50Ms: null, p99Ms: null, maxMs: null })
    })

    it('merges to the same as adding everything to one, through plain (cloned) data', () => {
      const a = Array.from({ length: 300 }, (_, i) => 0.05 + i * 1.7)
      const b = Array.from({ length: 500 }, (_, i) => 30 + i * 11)
      const merged = histogramOf(a)
      merged.merge(structuredClone(histogramOf(b).toJSON()))
      expect(merged.summary()).to.deep.equal(histogramOf([...a, ...b]).summary())
      expect(new LatencyHistogram(merged.toJSON()).toJSON()).to.deep.equal(merged.toJSON())
    })

    it('refuses to merge data with other bounds', () => {
      const data = histogramOf([1]).toJSON()
      expect(() => new LatencyHistogram().merge({ ...data, boundsMs: data.boundsMs.slice(1) })).to.throw(/bounds/)
    })
  })

  it('summary table states the figures of a run', () => {
    const text = summaryTable(sampleReport())
    expect(text.split('\n')[0]).to.match(/^Scenario lan-20: seed 42, 20 nodes on 2 workers/)
    for (const figure of [
      '1.84 s', // convergence
      'n1,n2 → n7', 'unsatisfiable: no node with skill gps', '5.00 s', // deploys
      '201', '94.0 %', '100.0 %', 'timeout 9', 'unavailable 3', // calls
      'never', '1.23 s', // recovery
      '12.3 msg/s', '4.6 kB/s', '8.5 ms/s', '85.2 MB', '34.3 s', // per node, wall time
      'deploying', '1.25 s' // the phases of the wall time
    ]) expect(text).to.include(figure)
    // aligned: the deploys' result column starts at the same place in every row
    const deployRows = text.split('\n').filter(l => /^ {2}(deployment|thumbs|nowhere) /.test(l))
    expect(deployRows).to.have.length(3)
    expect(new Set(deployRows.map(l => l.search(/ (result|ok|error) /)))).to.have.property('size', 1)
    expect(text).not.to.match(/\x1b/)
  })

  it('HTML report holds three inline charts, the event labels, and escapes report text', async () => {
    const report = sampleReport('<x>&"')
    report.events.push({ t: 3000, type: 'rejoin<b>', nodes: ['n7'], detail: '' })
    const html = await htmlReport(report)
    expect(html.match(/<svg[\s>]/g)).to.have.length(3)
    expect(html).to.include('>kill<').and.include('>partition<')
    expect(html).to.include('&lt;x&gt;&amp;&quot;')
    expect(html).not.to.include('<x>').and.not.include('rejoin<b>')
    expect(html).not.to.match(/(src|href)=["']?(https?:)?\/\//)
  })

  it('HTML report draws a run with no calls and no events', async () => {
    const report = sampleReport()
    const empty = new LatencyHistogram().summary()
    report.calls = { ...report.calls, ...empty, total: 0, ok: 0, failed: 0, successRate: 1, timeline: [] }
    report.events = []
    report.discovery = { convergedMs: null, timeline: [] }
    expect((await htmlReport(report)).match(/<svg[\s>]/g)).to.have.length(3)
  })

  it('writeReport writes parseable JSON (the overflow bound as null) and the HTML', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wasmesh-report-'))
    try {
      const paths = await writeReport(sampleReport(), join(dir, 'out'))
      expect(paths).to.deep.equal({ json: join(dir, 'out', 'report.json'), html: join(dir, 'out', 'report.html') })
      const json = JSON.parse(await readFile(paths.json, 'utf8')) as SimReport
      expect(json.calls.histogram.at(-1)?.leMs).to.equal(null)
      expect(json.announcements.histogram.at(-1)?.leMs).to.equal(null)
      expect(json.calls.histogram.at(-2)?.leMs).to.equal(120_000)
      expect(await readFile(paths.html, 'utf8')).to.match(/^<!doctype html>/)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  describe('progress', () => {
    function sink (isTTY: boolean): { out: { write: (s: string) => boolean, isTTY: boolean }, text: () => string } {
      let text = ''
      return { out: { isTTY, write: s => { text += s; return true } }, text: () => text }
    }

    it('redraws one line in place on a terminal', () => {
      const s = sink(true)
      const p = new Progress(s.out, { phases: 2 })
      p.phase('discovery', 0.5)
      p.phase('discovery', 1)
      p.phase('load')
      p.done()
      expect(s.text()).to.include('\r\x1b[2K').and.include('phase 1/2 discovery').and.include('100 %').and.include('phase 2/2 load')
      expect(s.text().split('\n')).to.have.length(2) // one closing line only
    })

    it('prints plain lines on a phase change or every 5 s otherwise', () => {
      const s = sink(false)
      let now = 0
      const p = new Progress(s.out, { now: () => now })
      p.phase('discovery', 0.1)
      now = 1000; p.phase('discovery', 0.2) // too soon: not printed
      now = 5000; p.phase('discovery', 0.9)
      now = 5100; p.phase('load', 0)
      p.done()
      const lines = s.text().trimEnd().split('\n')
      expect(lines).to.have.length(4)
      expect(lines[1]).to.include('90 %')
      expect(s.text()).not.to.include('\r')
    })
  })
})
