import { parseJson } from '../../validation.ts'
import { nodeUrl, requestJson } from './client.ts'
import { readInput } from './module-command.ts'
import type { Command } from 'commander'

/** Placement is negotiated among peers (and may fetch modules): allow more than the default answer time. */
const DEPLOY_TIMEOUT_MS = 120_000

export interface DeploymentStepView {
  module: string
  cid: string
  function: string
  replicas: number
  peers: string[]
  hosts: Array<{ peerId: string, name: string }>
}

export interface DeploymentView {
  id: string
  name: string
  status: 'active' | 'degraded' | 'removed'
  version: number
  coordinator: string
  steps: DeploymentStepView[]
}

interface NodeFlag { node?: string, json?: boolean }

/** Where a step runs: node names where known, else peer ids; hosts named but not in `peers` count too. Pure. */
export function stepHosts (step: DeploymentStepView): string[] {
  const hosts = step.hosts ?? []
  const ids = [...(step.peers ?? [])]
  for (const h of hosts) if (!ids.includes(h.peerId)) ids.push(h.peerId)
  return ids.map(id => {
    const name = hosts.find(h => h.peerId === id)?.name
    return name !== undefined && name !== '' ? name : id
  })
}

/** `module.function -> hosts`, the one-line answer to "where does this step run". Pure. */
export function formatStep (step: DeploymentStepView): string {
  const hosts = stepHosts(step)
  return `${step.module}.${step.function} -> ${hosts.length === 0 ? '(no peer)' : hosts.join(', ')}`
}

/**
 * Lines for `deploy` and `deployments ID`: the id alone on the first line (so `| head -1` gives it to a
 * script), one indented line per step, and the status only when it is not the expected "active". Pure.
 */
export function formatDeployment (d: DeploymentView): string {
  const lines = [d.id, ...d.steps.map(s => `  ${formatStep(s)}`)]
  if (d.status !== 'active') lines.push(`status ${d.status}`)
  return lines.join('\n')
}

/** Table for `deployments`. Pure. */
export function formatDeployments (list: DeploymentView[]): string {
  if (list.length === 0) return 'no deployments'
  const rows = [['ID', 'NAME', 'STATUS', 'STEPS'],
    ...list.map(d => [d.id, d.name, d.status, d.steps.map(s => `${s.module}.${s.function}`).join(',') || '-'])]
  const widths = rows[0].map((_, c) => Math.max(...rows.map(r => r[c].length)))
  return rows.map(r => r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd()).join('\n')
}

function print (json: boolean | undefined, value: unknown, text: () => string): void {
  process.stdout.write((json === true ? JSON.stringify(value, null, 2) : text()) + '\n')
}

function withNode (cmd: Command): Command {
  return cmd
    .option('--node <url>', 'node to ask (default $WASMESH_NODE, else http://127.0.0.1:8080)')
    .option('--json', 'machine-readable output')
}

export function deployCommand (program: Command): void {
  withNode(program.command('deploy')
    .description('deploy an application: negotiates placement, prints the deployment id and where each step runs')
    .argument('<manifest>', 'the manifest JSON file'))
    .action(async (file: string, opts: NodeFlag) => {
      const text = (await readInput(file, 'manifest')).toString('utf8')
      parseJson(text, `manifest ${file}`)
      // Sent as written: the node validates it and names the faulty field.
      const view = await requestJson(nodeUrl(opts.node), '/deployments', {
        method: 'POST', body: text, headers: { 'content-type': 'application/json' }, timeoutMs: DEPLOY_TIMEOUT_MS
      }) as DeploymentView
      print(opts.json, view, () => formatDeployment(view))
    })

  withNode(program.command('deployments')
    .description('lists deployments, or shows one with where each step runs')
    .argument('[id]', 'a deployment id'))
    .action(async (id: string | undefined, opts: NodeFlag) => {
      const base = nodeUrl(opts.node)
      if (id === undefined) {
        const list = await requestJson(base, '/deployments') as DeploymentView[]
        print(opts.json, list, () => formatDeployments(list))
      } else {
        const view = await requestJson(base, `/deployments/${encodeURIComponent(id)}`) as DeploymentView
        print(opts.json, view, () => formatDeployment(view))
      }
    })

  withNode(program.command('undeploy')
    .description('removes a deployment')
    .argument('<id>', 'the deployment id'))
    .action(async (id: string, opts: NodeFlag) => {
      const view = await requestJson(nodeUrl(opts.node), `/deployments/${encodeURIComponent(id)}`, {
        method: 'DELETE', timeoutMs: DEPLOY_TIMEOUT_MS
      }) as DeploymentView
      print(opts.json, view, () => `removed ${view.id}`)
    })
}
