import { readFile, writeFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { Option } from 'commander'
import { WasmeshError } from '../../errors.ts'
import { parseSkillsFile } from '../../wasm/skills/skills-file.ts'
import { parseHostPort } from '../http-url.ts'
import { systemLoad } from '../load.ts'
import { meshKeyProtector, newMeshKey } from '../mesh-key.ts'
import { WasmeshNode } from '../node.ts'
import { lanParts } from '../parts.ts'
import type { ConfiguredSkill } from '../../wasm/skills/skills-file.ts'
import type { Command } from 'commander'

export const START_DEFAULTS = { data: './.wasmesh', http: '0.0.0.0:8080' } as const
/** A stop that takes longer than this is cut short (the goodbye and closes are all bounded). */
const STOP_DEADLINE_MS = 1_800

interface StartFlags {
  name?: string
  data: string
  http: string
  listen: string[]
  skills?: string
  meshKey?: string
  heartbeatMs?: number
}

function bad (message: string): WasmeshError {
  return new WasmeshError('bad-request', message)
}

async function readSkills (file: string | undefined): Promise<ConfiguredSkill[]> {
  if (file === undefined) return []
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw bad(`--skills ${file}: ${(err as Error).message}`)
  }
  return parseSkillsFile(text, `--skills ${file}`)
}

function positiveInt (flag: string) {
  return (value: string): number => {
    const n = Number(value)
    if (!Number.isInteger(n) || n <= 0) throw bad(`${flag}: "${value}" is not a positive whole number`)
    return n
  }
}

async function start (flags: StartFlags): Promise<void> {
  let http: { host: string, port: number }
  try {
    http = parseHostPort(flags.http)
  } catch (err) {
    throw bad(`--http: ${(err as Error).message}`)
  }
  const skills = await readSkills(flags.skills)
  const connectionProtector = flags.meshKey === undefined ? undefined : await meshKeyProtector(flags.meshKey)
  const dataDir = resolve(flags.data)
  let node: WasmeshNode
  try {
    const parts = await lanParts({ dataDir, listen: flags.listen, load: systemLoad(), connectionProtector })
    node = await WasmeshNode.create({ name: flags.name, skills, http, heartbeatMs: flags.heartbeatMs, parts })
  } catch (err) {
    // libp2p refuses unparseable listen addresses while building the node.
    if (err instanceof WasmeshError) throw err
    throw bad(`cannot build the node: ${(err as Error).message}`)
  }
  await node.start()

  const out = [
    `wasmesh node "${node.name}" started`,
    `peer id  ${node.peerId}`,
    ...node.addrs.map(a => `libp2p   ${a}`),
    `http     ${node.httpUrl ?? '-'}`,
    `skills   ${node.skills.map(s => s.name).join(', ')}`,
    `data     ${dataDir}`
  ]
  process.stdout.write(out.join('\n') + '\n')

  let stopping = false
  const stop = (signal: string): void => {
    if (stopping) process.exit(130)
    stopping = true
    process.stdout.write(`${signal}: stopping\n`)
    const deadline = setTimeout(() => {
      process.stderr.write('stop took too long; exiting\n')
      process.exit(1)
    }, STOP_DEADLINE_MS)
    node.stop().then(() => {
      clearTimeout(deadline)
      process.stdout.write('stopped\n')
      process.exit(0)
    }, (err: Error) => {
      process.stderr.write(`error while stopping: ${err.message}\n`)
      process.exit(1)
    })
  }
  process.on('SIGINT', () => { stop('SIGINT') })
  process.on('SIGTERM', () => { stop('SIGTERM') })
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
    .action(start)

  program.command('mesh-key')
    .description('write a new random mesh key (for --mesh-key) to FILE')
    .argument('<file>', 'where to write it (refuses to overwrite)')
    .action(async (file: string) => {
      try {
        await writeFile(file, newMeshKey(), { flag: 'wx', mode: 0o600 })
      } catch (err) {
        throw bad(`${file}: ${(err as Error).message}`)
      }
      process.stdout.write(`wrote ${file}\n`)
    })
}
