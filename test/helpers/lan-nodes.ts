/**
 * Real `wasmesh start` processes on a namespace LAN (test/helpers/netns.ts), one per host,
 * each serving HTTP on 8080 inside its namespace, and the CLI run beside them.
 */
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { destroyLanByPrefix } from './netns.ts'
import { Watched } from './peers-poller.ts'
import type { Lan, RunResult } from './netns.ts'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const NODE_BIN = join(ROOT, 'node_modules', '.bin', 'node')
export const WASMESH = join(ROOT, 'bin', 'wasmesh.js')
/** a node's HTTP API, as seen from inside its own namespace */
export const URL_IN_NS = 'http://127.0.0.1:8080'

export class LanNodes {
  readonly nodes: Array<Watched | undefined> = []
  readonly #lan: Lan
  readonly #dir: string
  readonly #name: (i: number) => string

  /** `dir` holds each node's data dir (`data<i>`); `name` names the node on host i. */
  constructor (lan: Lan, dir: string, name: (i: number) => string) {
    this.#lan = lan
    this.#dir = dir
    this.#name = name
  }

  /** Starts the node of host i (again, on the same data dir) and waits for its HTTP URL. */
  async start (i: number, extra: string[] = []): Promise<Watched> {
    const args = [NODE_BIN, WASMESH, 'start', '--name', this.#name(i), '--data', join(this.#dir, `data${i}`), '--http', '0.0.0.0:8080', ...extra]
    const node = new Watched(this.#lan.exec(i, args, { cwd: ROOT }))
    if (!await node.until(() => /^http\s/m.test(node.stdout), 20_000)) throw new Error(`${this.#name(i)} did not start: ${node.stdout}\n${node.stderr}`)
    this.nodes[i] = node
    return node
  }

  /** `wasmesh ARGS --node <host i's node>`, run in host i's namespace. */
  async run (i: number, args: string[]): Promise<RunResult> {
    return await this.#lan.run(i, [NODE_BIN, WASMESH, ...args, '--node', URL_IN_NS], 60_000, { cwd: ROOT })
  }

  /** Like run, but its stdout, and a failure for a non-zero exit. */
  async cli (i: number, args: string[]): Promise<string> {
    const res = await this.run(i, args)
    if (res.code !== 0) throw new Error(`wasmesh ${args.join(' ')} on ${this.#name(i)} exited ${res.code}: ${res.stderr}`)
    return res.stdout
  }

  /** Waits until host i's node knows `n` peers. */
  async waitPeers (i: number, n: number, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while ((JSON.parse(await this.cli(i, ['peers', '--json'])) as unknown[]).length !== n) {
      if (Date.now() > deadline) throw new Error(`${this.#name(i)} never saw ${n} peers`)
      await new Promise(resolve => setTimeout(resolve, 200))
    }
  }

  killAll (): void {
    for (const n of this.nodes) n?.kill('SIGKILL')
  }
}

/**
 * Ends what a netns test set up, whatever part of it exists: the nodes, the LAN (also by name
 * prefix, in case creating it threw half-way), and the temporary folder.
 */
export async function endLanNodes (set: { hosts?: LanNodes, lan?: Lan, prefix: string, dir: string }): Promise<void> {
  set.hosts?.killAll()
  await set.lan?.destroy()
  await destroyLanByPrefix(set.prefix)
  if (set.dir !== '') await rm(set.dir, { recursive: true, force: true })
}
