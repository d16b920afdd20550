import { nodeUrl, requestJson } from './client.ts'
import type { Command } from 'commander'

interface PeerJson { peerId: string, name: string, http: string | null, skills: Array<{ name: string }>, lastSeenMs: number }

/** Table lines for peers, aligned. Pure. */
export function formatPeers (peers: PeerJson[]): string {
  if (peers.length === 0) return 'no peers known yet'
  const rows = [['NAME', 'PEER ID', 'SKILLS', 'HTTP', 'SEEN'],
    ...peers.map(p => [p.name, p.peerId, p.skills.map(s => s.name).join(','), p.http ?? '-', `${(p.lastSeenMs / 1000).toFixed(1)}s ago`])]
  const widths = rows[0].map((_, c) => Math.max(...rows.map(r => r[c].length)))
  return rows.map(r => r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd()).join('\n')
}

export function peersCommand (program: Command): void {
  program.command('peers')
    .description('the peers this node knows, with their skills')
    .option('--node <url>', 'node to ask (default $WASMESH_NODE, else http://127.0.0.1:8080)')
    .option('--json', 'machine-readable output')
    .action(async (opts: { node?: string, json?: boolean }) => {
      const peers = await requestJson(nodeUrl(opts.node), '/peers') as PeerJson[]
      process.stdout.write((opts.json === true ? JSON.stringify(peers, null, 2) : formatPeers(peers)) + '\n')
    })
}
