/**
 * The deployment record: what was deployed, where each step runs, who looks after it. It is
 * what travels (commits, gossip) and what every participant keeps on disk.
 */
import { z } from 'zod'
import { functionDescriptionSchema } from '../../wasm/describe/description.ts'

const peerIdSchema = z.string().min(1).max(128)

export const placedStepSchema = z.object({
  /** the module as the manifest named it (name or CID): the `{module}` of call paths */
  module: z.string().min(1).max(128),
  cid: z.string().min(1).max(128),
  descriptionCid: z.string().min(1).max(128).nullable(),
  function: z.string().min(1).max(128),
  /** the function's description, so any node can read arguments and serve the OpenAPI */
  description: functionDescriptionSchema.nullable(),
  replicas: z.number().int().min(1).max(8),
  /** the peer id or node name the manifest pinned the step to */
  pin: z.string().min(1).max(128).optional(),
  requires: z.array(z.string().max(64)).max(64),
  /** the peers that host it, best first */
  peers: z.array(peerIdSchema).max(8)
}).strict()

export const DEPLOYMENT_STATUSES = ['active', 'degraded', 'removed'] as const

export const deploymentRecordSchema = z.object({
  /** also a folder name on the hosts: one safe path segment */
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/),
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/),
  /** grows with every change of placement, coordinator or status */
  version: z.number().int().nonnegative(),
  /** the peer that looks after the deployment and holds its lease */
  coordinator: peerIdSchema,
  status: z.enum(DEPLOYMENT_STATUSES),
  createdAt: z.number(),
  config: z.record(z.string(), z.string()),
  steps: z.array(placedStepSchema).min(1).max(32)
}).strict()

export type PlacedStep = z.infer<typeof placedStepSchema>
export type DeploymentRecord = z.infer<typeof deploymentRecordSchema>
export type DeploymentStatus = typeof DEPLOYMENT_STATUSES[number]

/**
 * Whether record `a` supersedes `b` of the same deployment: the higher version; at the same
 * version a removal, then the lower coordinator id (two nodes that took over at once).
 */
export function supersedes (a: DeploymentRecord, b: DeploymentRecord | undefined): boolean {
  if (b === undefined) return true
  if (a.version !== b.version) return a.version > b.version
  if ((a.status === 'removed') !== (b.status === 'removed')) return a.status === 'removed'
  return a.coordinator < b.coordinator
}

/** Whether `peerId` coordinates the record or hosts any of its steps. */
export function involves (record: DeploymentRecord, peerId: string): boolean {
  return record.coordinator === peerId || record.steps.some(s => s.peers.includes(peerId))
}

/** The peers hosting any step of the record. */
export function participants (record: DeploymentRecord): string[] {
  return [...new Set(record.steps.flatMap(s => s.peers))]
}
