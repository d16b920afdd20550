import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { WasmeshError } from '../../errors.ts'
import { parseSkillsFile } from '../../wasm/skills/skills-file.ts'
import { parseHostPort } from '../http-url.ts'
import { lockDataDir } from '../data-dir-lock.ts'
import { systemLoad } from '../load.ts'
import { meshKeyProtector } from '../mesh-key.ts'
import { WasmeshNode } from '../node.ts'
import { lanParts } from '../parts.ts'
import type { ConfiguredSkill } from '../../wasm/skills/skills-file.ts'

/** A stop that takes longer than this is cut short (the goodbye and closes are all bounded). */
const STOP_DEADLINE_MS = 1_800
/** Signals closer together than this are one signal delivered twice. */
const SAME_SIGNAL_MS = 300

export interface StartFlags {
  name?: string
  data: string
  http: string
  listen: string[]
  skills?: string
  meshKey?: string
  heartbeatMs?: number
  maxModuleMib?: number
}

function bad (message: string): WasmeshError {
  return new WasmeshError('bad-request', message)
}

export async function readSkills (file: string | undefined): Promise<ConfiguredSkill[]> {
  if (file === undefined) return []
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw bad(`--skills ${file}: ${(err as Error).message}`)
  }
  return parseSkillsFile(text, `--skills ${file}`)
}

/**
 * What a stop signal does, given how long ago (ms) the first one came. A second Ctrl-C means
 * "now"; one that comes at once is the same Ctrl-C reaching us twice: from the terminal and
 * forwarded by the Node 20 launcher (bin/wasmesh.js). Pure.
 */
export function onStopSignal (sinceFirstMs: number | undefined): 'stop' | 'ignore' | 'exit' {
  if (sinceFirstMs === undefined) return 'stop'
  return sinceFirstMs > SAME_SIGNAL_MS ? 'exit' : 'ignore'
}

export async function start (flags: StartFlags): Promise<void> {
  let http: { host: string, port: number }
  try {
    http = parseHostPort(flags.http)
  } catch (err) {
    throw bad(`--http: ${(err as Error).message}`)
  }
  for (const addr of flags.listen) {
    try {
      multiaddr(addr)
    } catch (err) {
      throw bad(`--listen ${addr}: not a multiaddr (${(err as Error).message}); e.g. /ip4/0.0.0.0/tcp/4001`)
    }
  }
  const skills = await readSkills(flags.skills)
  const connectionProtector = flags.meshKey === undefined ? undefined : await meshKeyProtector(flags.meshKey)
  const dataDir = resolve(flags.data)
  // Signals are handled from here on: one that comes while the node starts stops it once started.
  let node: WasmeshNode | undefined
  let started = false
  let stoppingSince: number | undefined
  const stopNow = (): void => {
    const deadline = setTimeout(() => {
      process.stderr.write('stop took too long; exiting\n')
      process.exit(1)
    }, STOP_DEADLINE_MS)
    const stopping = node === undefined ? Promise.resolve() : node.stop()
    stopping.then(() => {
      clearTimeout(deadline)
      process.stdout.write('stopped\n')
      process.exit(0)
    }, (err: Error) => {
      process.stderr.write(`error while stopping: ${err.message}\n`)
      process.exit(1)
    })
  }
  const onSignal = (signal: NodeJS.Signals): void => {
    const action = onStopSignal(stoppingSince === undefined ? undefined : Date.now() - stoppingSince)
    if (action === 'exit') process.exit(130)
    if (action === 'ignore') return
    stoppingSince = Date.now()
    process.stdout.write(`${signal}: stopping\n`)
    if (started) stopNow()
  }
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal)

  process.on('exit', await lockDataDir(dataDir))
  try {
    const parts = await lanParts({ dataDir, listen: flags.listen, load: systemLoad(), connectionProtector })
    node = await WasmeshNode.create({
      name: flags.name,
      skills,
      http,
      heartbeatMs: flags.heartbeatMs,
      ...(flags.maxModuleMib !== undefined ? { limits: { maxModuleBytes: flags.maxModuleMib * 1024 * 1024 } } : {}),
      parts
    })
  } catch (err) {
    // libp2p refuses unparseable listen addresses while building the node.
    if (err instanceof WasmeshError) throw err
    throw bad(`cannot build the node: ${(err as Error).message}`)
  }
  await node.start()
  started = true

  const out = [
    `wasmesh node "${node.name}" started`,
    `peer id  ${node.peerId}`,
    ...node.addrs.map(a => `libp2p   ${a}`),
    `http     ${node.httpUrl ?? '-'}`,
    `skills   ${node.skills.map(s => s.name).join(', ')}`,
    `data     ${dataDir}`
  ]
  process.stdout.write(out.join('\n') + '\n')
  if (stoppingSince !== undefined) stopNow()
}
