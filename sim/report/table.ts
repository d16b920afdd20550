import { formatBytesPerS, formatMs, formatNumber, formatPercent, formatPlacement, oneLine } from './format.ts'
import type { LatencySummary, SimReport } from './types.ts'

/**
 * The summary's content as plain cells, drawn once: the text table (stdout) and the HTML
 * report's tables both render these, so they always say the same.
 */
export interface SummarySection {
  title: string
  /** column headings; absent: each row is a label followed by its values */
  head?: string[]
  rows: string[][]
}

export function scenarioLine (report: SimReport): string {
  const s = report.scenario
  const skills = s.skills.length === 0 ? 'none' : s.skills.map(k => `${k.name} on ${k.nodes}`).join(', ')
  return `Scenario ${oneLine(s.name)}: seed ${s.seed}, ${s.nodes} nodes on ${s.workers} workers, fanout ${s.fanout}, ` +
    `heartbeat ${formatMs(s.heartbeatMs)}, link latency ${s.latencyMs === 0 ? 'none' : formatMs(s.latencyMs)}; skills ${skills}`
}

export function summarySections (report: SimReport): SummarySection[] {
  const { calls, perNode } = report
  const errors = Object.entries(calls.errors).sort((a, b) => b[1] - a[1])
  return [
    {
      title: 'Discovery',
      rows: [
        ['convergence', report.discovery.convergedMs === null ? 'never (within the limit)' : formatMs(report.discovery.convergedMs)],
        ['announcement delivery', ...latencyCells(report.announcements, 'receipts')]
      ]
    },
    {
      title: 'Deploys',
      head: ['deployment', 'latency', 'result', 'placement / error'],
      rows: report.deploys.map(d => [
        oneLine(d.name),
        formatMs(d.ms),
        d.ok ? 'ok' : 'error',
        d.ok ? formatPlacement(d.placement) : oneLine(d.error ?? 'unknown error')
      ])
    },
    {
      title: 'Calls',
      rows: [
        ['total', `${calls.total} (${calls.ok} ok, ${calls.failed} failed)`],
        ['success rate', formatPercent(calls.successRate)],
        ['after recovery', formatPercent(calls.successRateAfterRecovery)],
        ['latency', ...latencyCells(calls, 'calls')],
        ['errors', ...(errors.length === 0 ? ['none'] : errors.map(([code, n]) => `${oneLine(code)} ${n}`))]
      ]
    },
    {
      title: 'Events',
      head: ['event', 'at', 'type', 'nodes', 'detail'],
      rows: report.events.map((e, i) => [`#${i}`, formatMs(e.t), oneLine(e.type), e.nodes.join(',') || '-', oneLine(e.detail) || '-'])
    },
    {
      title: 'Recovery',
      head: ['event', 'type', 'deployment', 'recovered in'],
      rows: report.recovery.map(r => [`#${r.event}`, oneLine(r.type), oneLine(r.deployment), formatMs(r.ms, 'never')])
    },
    {
      title: 'Per node (average)',
      rows: [
        ['gossip', `${formatNumber(perNode.gossipMessagesPerS)} msg/s`],
        ['bytes in', formatBytesPerS(perNode.bytesInPerS)],
        ['CPU', `${formatNumber(perNode.cpuMsPerS)} ms/s`],
        ['RSS', `${formatNumber(perNode.rssMb)} MB`]
      ]
    },
    {
      title: 'Run',
      rows: [
        ['started', report.startedAt],
        ['wall time', formatMs(report.wallMs)],
        ...report.phases.map(p => [`  ${oneLine(p.name)}`, formatMs(p.ms)])
      ]
    }
  ]
}

/** The text summary printed at the end of a run: aligned columns, no colours. */
export function summaryTable (report: SimReport): string {
  const lines = [scenarioLine(report), '']
  for (const section of summarySections(report)) {
    lines.push(section.title)
    const rows = section.head === undefined ? section.rows : [section.head, ...section.rows]
    if (section.rows.length === 0) lines.push('  none')
    else lines.push(...aligned(rows).map(line => `  ${line}`))
  }
  return lines.join('\n') + '\n'
}

function latencyCells (s: LatencySummary, what: string): string[] {
  if (s.count === 0) return [`no ${what}`]
  return [`p50 ${formatMs(s.p50Ms)}`, `p99 ${formatMs(s.p99Ms)}`, `max ${formatMs(s.maxMs)}`, `${s.count} ${what}`]
}

function aligned (rows: string[][]): string[] {
  const widths: number[] = []
  for (const row of rows) row.forEach((cell, i) => { widths[i] = Math.max(widths[i] ?? 0, cell.length) })
  return rows.map(row => row.map((cell, i) => cell.padEnd(widths[i])).join('   ').trimEnd())
}
