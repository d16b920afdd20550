import * as vega from 'vega'
import { compile } from 'vega-lite'
import type { TopLevelSpec } from 'vega-lite'
import { formatMs } from './format.ts'
import { scenarioLine, summarySections } from './table.ts'
import type { SimReport } from './types.ts'

/**
 * The run as one self-contained HTML file: three charts as inline SVG, drawn in Node by
 * vega-lite + vega with no browser and no canvas (text widths are estimated), and the summary
 * tables. Nothing is loaded when the file is opened. Async because vega renders asynchronously.
 */
export async function htmlReport (report: SimReport): Promise<string> {
  const [convergence, latency, success] = await Promise.all([
    svg(convergenceChart(report)),
    svg(latencyChart(report)),
    svg(successChart(report))
  ])
  const tables = summarySections(report).map(section => {
    const width = Math.max(section.head?.length ?? 0, ...section.rows.map(r => r.length))
    const cells = (row: string[], tag: string): string =>
      Array.from({ length: width }, (_, i) => `<${tag}>${escapeHtml(row[i] ?? '')}</${tag}>`).join('')
    const head = section.head === undefined ? '' : `<thead><tr>${cells(section.head, 'th')}</tr></thead>`
    const rows = section.rows.length === 0
      ? `<tr><td colspan="${width}">none</td></tr>`
      : section.rows.map(r => `<tr>${cells(r, 'td')}</tr>`).join('')
    return `<h3>${escapeHtml(section.title)}</h3>\n<table${section.head === undefined ? ' class="kv"' : ''}>${head}<tbody>${rows}</tbody></table>`
  })
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>wasmesh sim: ${escapeHtml(report.scenario.name)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
h1 { font-size: 1.3em; } h2 { font-size: 1.1em; margin-top: 2em; } h3 { font-size: 1em; margin: 1.2em 0 .3em; }
table { border-collapse: collapse; } td, th { padding: .15em .8em .15em 0; text-align: left; vertical-align: top; }
th { border-bottom: 1px solid #999; } table.kv td:first-child { color: #555; }
</style>
</head>
<body>
<h1>${escapeHtml(scenarioLine(report))}</h1>
<p>Started ${escapeHtml(report.startedAt)}, wall time ${escapeHtml(formatMs(report.wallMs))}: ${escapeHtml(report.phases.map(p => `${p.name} ${formatMs(p.ms)}`).join(', '))}.</p>
<h2>Discovery: fraction of nodes converged</h2>
${convergence}
<h2>Call latency</h2>
${latency}
<h2>Call success rate during the load, with the scenario's events</h2>
${success}
<h2>Summary</h2>
${tables.join('\n')}
</body>
</html>
`
}

export function escapeHtml (text: string): string {
  return text.replace(/[&<>"']/g, c => ENTITIES[c])
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/** One layer of a layered chart (vega-lite does not export the type by name). */
type Layer = Extract<TopLevelSpec, { layer: unknown }>['layer'][number]

const WIDTH = 640
const HEIGHT = 220
const CONFIG = { font: 'system-ui, sans-serif', view: { stroke: null } }

function convergenceChart (report: SimReport): TopLevelSpec {
  const points = report.discovery.timeline.map(p => ({ s: p.t / 1000, share: p.converged }))
  const converged = report.discovery.convergedMs === null
    ? []
    : [{ s: report.discovery.convergedMs / 1000, label: `converged at ${formatMs(report.discovery.convergedMs)}` }]
  return shareOverTime(points, 'seconds since the first node started', 'nodes converged', markers(converged, 'green', 'bottom'))
}

/** A line of a share (0..1) against seconds, with marker layers over it. */
function shareOverTime (points: Array<{ s: number, share: number }>, xTitle: string, yTitle: string, marks: Layer[]): TopLevelSpec {
  return layered([
    {
      data: { values: points },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 's', type: 'quantitative', title: xTitle },
        y: { field: 'share', type: 'quantitative', title: yTitle, scale: { domain: [0, 1] }, axis: { format: '%' } }
      }
    },
    ...marks
  ])
}

/** A chart of the report's size and look, drawn from layers. */
function layered (layer: Layer[]): TopLevelSpec {
  return { width: WIDTH, height: HEIGHT, config: CONFIG, layer }
}

function latencyChart (report: SimReport): TopLevelSpec {
  const buckets = report.calls.histogram
  const step = 10 ** 0.1 // display width of the first and the overflow bucket, as a regular one
  const bars = buckets.map((b, i) => {
    const overflow = b.leMs === null || !Number.isFinite(b.leMs)
    const prev = i === 0 ? null : buckets[i - 1].leMs
    const lo = prev !== null && Number.isFinite(prev) ? prev : (overflow ? 1 : (b.leMs as number) / step)
    const hi = overflow ? lo * step : b.leMs as number
    return { lo, hi, count: b.count, label: overflow ? `> ${formatMs(lo)}` : `≤ ${formatMs(hi)}` }
  })
  const first = bars.findIndex(b => b.count > 0)
  const last = bars.findLastIndex(b => b.count > 0)
  const shown = first === -1 ? [] : bars.slice(first, last + 1)
  const quantiles = [['p50', report.calls.p50Ms], ['p99', report.calls.p99Ms]] as const
  const rules = quantiles.flatMap(([name, ms]) => ms === null ? [] : [{ s: ms, label: `${name} ${formatMs(ms)}` }])
  return layered([
    {
      data: { values: shown },
      mark: { type: 'rect', color: '#4c78a8', stroke: 'white', strokeWidth: 0.5 },
      encoding: {
        x: { field: 'lo', type: 'quantitative', title: 'call latency (ms, log scale)', scale: { type: 'log' } },
        x2: { field: 'hi' },
        y: { field: 'count', type: 'quantitative', title: 'calls' }
      }
    },
    ...markers(rules, '#e45756', 'top', 'log')
  ])
}

function successChart (report: SimReport): TopLevelSpec {
  const points = report.calls.timeline
    .filter(p => p.ok + p.failed > 0)
    .map(p => ({ s: p.t / 1000, share: p.ok / (p.ok + p.failed) }))
  const events = report.events.map((e, i) => ({ s: e.t / 1000, label: e.type, row: i % 3 }))
  return shareOverTime(points, 'seconds since the load began', 'calls succeeded', markers(events, '#e45756', 'bottom'))
}

/** Vertical lines at `s` on the x axis, each labelled at the top or bottom; `row` staggers labels that would overlap. */
function markers (values: Array<{ s: number, label: string, row?: number }>, color: string, at: 'top' | 'bottom', scale: 'linear' | 'log' = 'linear'): Layer[] {
  if (values.length === 0) return []
  const x = { field: 's', type: 'quantitative' as const, scale: { type: scale } }
  return [
    { data: { values }, mark: { type: 'rule', color, strokeDash: [4, 3] }, encoding: { x } },
    {
      data: { values: values.map(v => ({ ...v, y: at === 'top' ? 4 + (v.row ?? 0) * 13 : HEIGHT - 4 - (v.row ?? 0) * 13 })) },
      mark: { type: 'text', color, align: 'left', baseline: at, dx: 3, fontSize: 11 },
      encoding: { x, y: { field: 'y', type: 'quantitative', scale: null }, text: { field: 'label' } }
    }
  ]
}

async function svg (spec: TopLevelSpec): Promise<string> {
  const quiet = vega.logger(vega.Error)
  const view = new vega.View(vega.parse(compile(spec, { logger: quiet }).spec), { renderer: 'none', logLevel: vega.Error })
  try {
    return await view.toSVG()
  } finally {
    view.finalize()
  }
}
