import { readFile } from 'node:fs/promises'
import { availableParallelism } from 'node:os'
import { basename, dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'
import { MAX_HEARTBEAT_MS } from '../src/protocols/announce/constants.ts'
import { WasmeshError } from '../src/errors.ts'
import { parseJson, parseOrBadRequest } from '../src/validation.ts'

const SIM_DIR = dirname(fileURLToPath(import.meta.url))

const name = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, . _ - (1 to 64)')
const share = z.object({ name, share: z.number().min(0).max(1) }).strict()
const count = z.object({ name, nodes: z.number().int().min(0) }).strict()
const seconds = z.number().min(0).max(3600)

const eventSchema = z.discriminatedUnion('type', [
  // `count` nodes, or `fraction` of the live ones, chosen by the seed
  z.object({ type: z.enum(['crash', 'leave']), at: seconds, count: z.number().int().min(1).optional(), fraction: z.number().gt(0).max(1).optional() }).strict(),
  z.object({ type: z.literal('join'), at: seconds, count: z.number().int().min(1).max(2000), skills: z.array(name).max(16).default([]) }).strict(),
  // the live nodes split into segments of these relative sizes; links between segments drop
  z.object({ type: z.literal('partition'), at: seconds, segments: z.array(z.number().positive()).min(2).max(16) }).strict(),
  z.object({ type: z.literal('heal'), at: seconds }).strict(),
  // `count` live nodes chosen by the seed gain and lose skills
  z.object({ type: z.literal('skills'), at: seconds, count: z.number().int().min(1), add: z.array(name).max(16).default([]), remove: z.array(name).max(16).default([]) }).strict()
])

const callSchema = z.object({
  deployment: name,
  /** the step's module as the deployment names it; default: the first step's */
  module: z.string().min(1).max(128).optional(),
  function: z.string().min(1).max(128).optional(),
  args: z.array(z.union([z.number(), z.string().max(4096)])).max(16).default([])
}).strict()

export const scenarioSchema = z.object({
  name: name.optional(),
  seed: z.number().int().min(0).max(2 ** 32 - 1).default(1),
  nodes: z.number().int().min(2).max(2000).default(100),
  /** threads the nodes are spread over (default: one per core, at most 8) */
  workers: z.number().int().min(1).max(16).optional(),
  /** peers a joining node is told of by the simulated LAN (and they of it) */
  fanout: z.number().int().min(1).max(64).default(4),
  /** delay added to every message between two nodes of one thread (the memory transport's) */
  latencyMs: z.number().min(0).max(1000).default(0),
  /** default: grows with the node count (see defaultHeartbeatMs) */
  heartbeatMs: z.number().int().min(100).max(MAX_HEARTBEAT_MS).optional(),
  convergeTimeoutS: z.number().min(1).max(3600).default(150),
  /** which share (or how many) of the nodes offer each skill, chosen by the seed */
  skills: z.array(z.union([share, count])).max(32).default([{ name: 'camera', share: 0.1 }, { name: 'dht', share: 0.3 }]),
  /** modules added before deploying, each on `nodes` nodes chosen by the seed: WAT or wasm files, relative to the scenario file */
  modules: z.array(z.object({ name, file: z.string().min(1).max(1024), nodes: z.number().int().min(1).max(2000).default(1) }).strict()).max(64).default([]),
  /** manifests (../shared/SPEC.md), each deployed through a random node */
  deployments: z.array(z.unknown()).max(64).default([]),
  load: z.object({
    /** calls per second over the whole mesh, each through a random live node */
    rate: z.number().min(0).max(10_000).default(20),
    durationS: seconds.default(30),
    /** default: each deployment's first step, in turn */
    calls: z.array(callSchema).max(64).optional(),
    timeoutMs: z.number().int().min(10).max(120_000).default(5_000)
  }).strict().default({ rate: 20, durationS: 30, timeoutMs: 5_000 }),
  events: z.array(eventSchema).max(256).default([]),
  /** how long after an event calls may fail before it counts as not recovered */
  recoveryLimitS: z.number().min(1).max(600).default(15)
}).strict()

export type Scenario = z.infer<typeof scenarioSchema> & { name: string, workers: number, heartbeatMs: number, modules: Array<{ name: string, file: string, nodes: number }> }
export type SimEvent = z.infer<typeof eventSchema>
export type ScenarioCall = z.infer<typeof callSchema>

/**
 * The heartbeat a mesh of `nodes` gets unless the scenario says: every node receives every
 * heartbeat, so the mesh's work grows with nodes² / heartbeat; this keeps each node's share at 2
 * announcements a second (at least 2 s: 10 s for 20 nodes, 250 s for 500). A crashed node is still noticed at once by its neighbours (its connections
 * drop) and by deployments (which probe); only its entry in far tables waits for the heartbeat. Pure.
 */
export function defaultHeartbeatMs (nodes: number): number {
  return Math.min(MAX_HEARTBEAT_MS, Math.max(2_000, nodes * 500))
}

/** Checks a scenario, fills in defaults and makes module paths absolute (relative to `baseDir`). */
export function parseScenario (input: unknown, opts: { baseDir: string, name: string, cores?: number }): Scenario {
  const s = parseOrBadRequest(scenarioSchema, input, 'scenario')
  return {
    ...s,
    name: s.name ?? opts.name,
    workers: s.workers ?? Math.max(1, Math.min(8, opts.cores ?? availableParallelism(), s.nodes)),
    heartbeatMs: s.heartbeatMs ?? defaultHeartbeatMs(s.nodes),
    modules: s.modules.map(m => ({ ...m, file: resolve(opts.baseDir, m.file) }))
  }
}

/** The scenario in `file` (JSON), or the default one (sim/scenarios/default.json); `overrides` win over the file. */
export async function loadScenario (file: string | undefined, overrides: Record<string, unknown> = {}): Promise<Scenario> {
  const path = file ?? resolve(SIM_DIR, 'scenarios', 'default.json')
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new WasmeshError('bad-request', `scenario: cannot read ${path}: ${(err as Error).message}`, { field: 'scenario' })
  }
  const parsed = parseJson(text, `scenario ${path}`)
  const merged = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? { ...parsed, ...overrides } : parsed
  return parseScenario(merged, { baseDir: dirname(path), name: basename(path).replace(/\.json$/, '') })
}
