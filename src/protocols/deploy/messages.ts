/** Requests of the deploy protocol and their answers. */
import { z } from 'zod'
import { deploymentRecordSchema } from './record.ts'

export const bidSchema = z.object({
  /** bytes of memory free for guests */
  freeMem: z.number().nonnegative(),
  /** recent CPU load, 0..1 per core */
  cpu: z.number().nonnegative(),
  /** guests running */
  instances: z.number().int().nonnegative(),
  /** the module is in the bidder's store already */
  cached: z.boolean()
}).strict()

export const deployRequestSchema = z.discriminatedUnion('type', [
  /** would you host this module, and how well? */
  z.object({ type: z.literal('bid'), deployment: z.string().max(96), cid: z.string().max(128) }).strict(),
  /** you won step `step` of this (not yet committed) record: fetch, start, and say when ready */
  z.object({ type: z.literal('prepare'), record: deploymentRecordSchema, step: z.number().int().nonnegative(), holders: z.array(z.string().max(128)).max(8) }).strict(),
  /** the record is decided: keep it, run the steps it gives you, drop the rest */
  z.object({ type: z.literal('commit'), record: deploymentRecordSchema }).strict(),
  /** forget what you prepared for this version */
  z.object({ type: z.literal('abort'), deployment: z.string().max(96), version: z.number().int().nonnegative() }).strict()
])

export const deployAnswerSchema = z.union([
  z.object({ ok: z.literal(true), bid: bidSchema.optional() }).strict(),
  z.object({ ok: z.literal(false), error: z.object({ code: z.string().max(64), message: z.string().max(4096) }).passthrough() }).strict()
])

export type Bid = z.infer<typeof bidSchema>
export type DeployRequest = z.infer<typeof deployRequestSchema>
export type DeployAnswer = z.infer<typeof deployAnswerSchema>
export type DeployAccepted = Extract<DeployAnswer, { ok: true }>
