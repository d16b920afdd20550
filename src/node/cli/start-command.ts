import { writeFile } from 'node:fs/promises'
import { Option } from 'commander'
import { WasmeshError } from '../../errors.ts'
import type { StartFlags } from './start.ts'
import type { Command } from 'commander'

export const START_DEFAULTS = { data: './.wasmesh', http: '0.0.0.0:8080' } as const

function positiveInt (flag: string) {
  return (value: string): number => {
    const n = Number(value)
    if (!Number.isInteger(n) || n <= 0) throw new WasmeshError('bad-request', `${flag}: "${value}" is not a positive whole number`)
    return n
  }
}

export function startCommand (program: Command): void {
  program.command('start')
    .description('run a node in the foreground until SIGINT/SIGTERM')
    .option('--name <name>', 'human name announced with the peer id (default: host name)')
    .option('--data <dir>', 'data directory (peer key, modules)', START_DEFAULTS.data)
    .option('--http <host:port>', 'HTTP API address; port 0 picks a free port', START_DEFAULTS.http)
    .option('--listen <multiaddr>', 'libp2p listen address, repeatable (default /ip4/0.0.0.0/tcp/0)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--skills <file>', 'skills file (JSON) naming the skills this node offers and their providers')
    .option('--mesh-key <file>', 'private mesh: connect only to nodes with this swarm key')
    .addOption(new Option('--heartbeat-ms <ms>', 're-announce period').argParser(positiveInt('--heartbeat-ms')))
    .addOption(new Option('--max-module-mib <mib>', 'largest module stored or fetched, in MiB (default 50)').argParser(positiveInt('--max-module-mib')))
    .action(async (flags: StartFlags) => {
      // Loaded only here: other commands need not pay for libp2p's start-up.
      const { start } = await import('./start.ts')
      await start(flags)
    })

  program.command('mesh-key')
    .description('write a new random mesh key (for --mesh-key) to FILE')
    .argument('<file>', 'where to write it (refuses to overwrite)')
    .action(async (file: string) => {
      const { newMeshKey } = await import('../mesh-key.ts')
      try {
        await writeFile(file, newMeshKey(), { flag: 'wx', mode: 0o600 })
      } catch (err) {
        throw new WasmeshError('bad-request', `${file}: ${(err as Error).message}`)
      }
      process.stdout.write(`wrote ${file}\n`)
    })
}
