import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { SimReport } from './types.ts'

/**
 * Writes report.json and report.html into `dir` (created if missing). JSON.stringify already
 * writes the histograms' Infinity bound as null, as types.ts promises. The chart code (vega,
 * ~280 ms to load) is imported only here, when a report is written.
 */
export async function writeReport (report: SimReport, dir: string): Promise<{ json: string, html: string }> {
  await mkdir(dir, { recursive: true })
  const json = join(dir, 'report.json')
  const html = join(dir, 'report.html')
  await writeFile(json, JSON.stringify(report, null, 2) + '\n')
  const { htmlReport } = await import('./html.ts')
  await writeFile(html, await htmlReport(report))
  return { json, html }
}
