/**
 * A deployment manifest as users write it, turned into the canonical Manifest. Two shapes:
 *
 * - ours: `{name, steps: [{module, function, replicas?, peer?}], config?: {KEY: VALUE}}`. Unknown
 *   fields are refused, naming them: a typo such as `replica` must not silently deploy one replica.
 * - wasmiot's: `{name, sequence: [{device, module, func}], config?}`. wasmiot sends fields of its own
 *   (`proc`, ...), so unknown fields are ignored here. `device` null, missing or "" means any peer
 *   (wasmiot tests it for falsiness); a device name pins the step like our `peer`.
 *
 * Every rejection is a `bad-request` whose `field` is the path from the manifest's root
 * (`steps.1.replicas`, `sequence.0.func`, `config.KEY`).
 */
import { z } from 'zod'
import { WasmeshError } from '../../errors.ts'
import { isPlainObject } from '../../validation.ts'
import { NODE_NAME } from '../../protocols/announce/node-name.ts'
import { CID_TEXT, MODULE_NAME } from '../../protocols/modules/constants.ts'
import { CONTROL_CHARS, LIMITS as DESCRIPTION_LIMITS } from '../../wasm/describe/description.ts'

export interface ManifestStep {
  /** A CID or a module name, as given: resolving a name is the deployer's business. */
  module: string
  function: string
  replicas: number
  /** A peer id or a node name the step is pinned to; absent: any peer that satisfies the module. */
  peer?: string
}

export interface Manifest {
  name: string
  steps: ManifestStep[]
  config: Record<string, string>
}

export const MANIFEST_LIMITS = { steps: 32, replicas: 8, configEntries: 64, configValueBytes: 4096, nameLength: 64 } as const

/** The name becomes a URL segment (`/deployments/NAME`): no escaping needed, no dot-only names. */
const DEPLOYMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/
/** Config keys are environment variable names. */
const CONFIG_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/

function fail (field: string, message: string): never {
  throw new WasmeshError('bad-request', `manifest: ${field}: ${message}`, { field })
}

/** A field's type error, telling a missing field from a wrong one. */
function expected (what: string): (issue: z.core.$ZodRawIssue) => string {
  return issue => issue.input === undefined ? `missing (expected ${what})` : `expected ${what}`
}

const nameSchema = z.string({ error: expected('a string') })
  .min(1, 'must not be empty')
  .max(MANIFEST_LIMITS.nameLength, `at most ${MANIFEST_LIMITS.nameLength} characters`)
  .regex(DEPLOYMENT_NAME, 'letters, digits, ".", "_" and "-" only, starting with a letter or digit (the name becomes part of URLs)')

const moduleSchema = z.string({ error: expected('a string') })
  .refine(s => CID_TEXT.test(s) || MODULE_NAME.test(s), 'expected a module CID (bafk..., Qm...) or a module name (a letter or "_", then letters, digits, ".", "_" or "-", at most 64 characters)')

// An export name as a description accepts it, so any function that can be described can be deployed.
const functionSchema = z.string({ error: expected('a string') })
  .min(1, 'must not be empty')
  .max(DESCRIPTION_LIMITS.nameLength, `at most ${DESCRIPTION_LIMITS.nameLength} characters`)
  .refine(s => !CONTROL_CHARS.test(s), 'must not contain control characters')
  .refine(s => !s.includes('/'), 'must not contain "/" (the function name is a URL segment)')

const PEER_RULE = '1 to 64 characters, no control characters'
const peerSchema = z.string({ error: expected(`a peer id or node name (${PEER_RULE})`) })
  .regex(NODE_NAME, `expected a peer id or node name (${PEER_RULE})`)

const replicasSchema = z.int({ error: expected(`a whole number from 1 to ${MANIFEST_LIMITS.replicas}`) })
  .min(1).max(MANIFEST_LIMITS.replicas)

function stepList<T extends z.ZodType> (step: T): z.ZodArray<T> {
  return z.array(step, { error: expected('a list of steps') })
    .min(1, 'at least one step')
    .max(MANIFEST_LIMITS.steps, `at most ${MANIFEST_LIMITS.steps} steps`)
}

const ourStepSchema = z.strictObject({
  module: moduleSchema,
  function: functionSchema,
  replicas: replicasSchema.default(1),
  // null is how many JSON writers spell "absent".
  peer: peerSchema.nullish()
}, { error: expected('a step {"module", "function", "replicas"?, "peer"?}') })

const ourSchema = z.strictObject({
  name: nameSchema,
  steps: stepList(ourStepSchema),
  config: z.unknown().optional()
})

const DEVICE_RULE = `expected null (any device) or a device name (${PEER_RULE})`
const wasmiotStepSchema = z.object({
  device: z.string({ error: DEVICE_RULE }).refine(s => s === '' || NODE_NAME.test(s), DEVICE_RULE).nullish(),
  module: moduleSchema,
  func: functionSchema
}, { error: expected('a step {"device", "module", "func"}') })

const wasmiotSchema = z.object({
  name: nameSchema,
  sequence: stepList(wasmiotStepSchema),
  config: z.unknown().optional()
})

function parse<S extends z.ZodType> (schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  // An unknown field first: a misspelt field also shows up as a missing one, and the typo is the cause.
  const issues = result.error.issues
  const issue = issues.find(i => i.code === 'unrecognized_keys') ?? issues[0]
  if (issue.code === 'unrecognized_keys') {
    const object = issue.path.length === 0 ? 'a manifest is {"name", "steps", "config"?}' : 'a step is {"module", "function", "replicas"?, "peer"?}'
    fail([...issue.path, issue.keys[0]].map(String).join('.'), `unknown field (${object})`)
  }
  fail(issue.path.map(String).join('.'), issue.message)
}

/** Either accepted shape → the canonical Manifest, or a `bad-request` naming the field. */
export function parseManifest (input: unknown): Manifest {
  if (!isPlainObject(input)) {
    fail('manifest', `expected an object {"name", "steps", "config"?} (got ${input === null ? 'null' : Array.isArray(input) ? 'a list' : typeof input})`)
  }
  const hasSteps = Object.hasOwn(input, 'steps')
  const hasSequence = Object.hasOwn(input, 'sequence')
  if (hasSteps && hasSequence) fail('sequence', 'give "steps" or wasmiot\'s "sequence", not both')

  if (hasSequence) {
    const m = parse(wasmiotSchema, input)
    return {
      name: m.name,
      steps: m.sequence.map(s => step(s.module, s.func, 1, s.device)),
      config: parseConfig(m.config)
    }
  }
  if (!hasSteps) fail('steps', 'missing (a manifest lists its steps: "steps": [{"module", "function"}, ...])')
  const m = parse(ourSchema, input)
  return {
    name: m.name,
    steps: m.steps.map(s => step(s.module, s.function, s.replicas, s.peer)),
    config: parseConfig(m.config)
  }
}

/** The canonical step: `peer` only when pinned, so equal manifests are deep-equal and serialize alike. */
function step (module: string, fn: string, replicas: number, peer: string | null | undefined): ManifestStep {
  return peer === null || peer === undefined || peer === '' ? { module, function: fn, replicas } : { module, function: fn, replicas, peer }
}

/**
 * By hand rather than z.record: a record is built by assignment, and a key `__proto__` (a
 * valid variable name) would then set the prototype instead of a value.
 */
function parseConfig (raw: unknown): Record<string, string> {
  if (raw === undefined) return {}
  if (!isPlainObject(raw)) fail('config', 'expected an object {"KEY": "VALUE", ...}')
  const entries = Object.entries(raw)
  if (entries.length > MANIFEST_LIMITS.configEntries) {
    fail('config', `at most ${MANIFEST_LIMITS.configEntries} entries (got ${entries.length})`)
  }
  return Object.fromEntries(entries.map(([key, value]) => {
    const field = `config.${key}`
    if (!CONFIG_KEY.test(key)) fail(field, 'a key is an environment variable name: a letter or "_", then letters, digits or "_"')
    let text: string
    if (typeof value === 'string') text = value
    else if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') text = String(value)
    else fail(field, 'expected a string (numbers and booleans are taken as their text)')
    const bytes = Buffer.byteLength(text, 'utf8')
    if (bytes > MANIFEST_LIMITS.configValueBytes) fail(field, `at most ${MANIFEST_LIMITS.configValueBytes} bytes (got ${bytes})`)
    return [key, text]
  }))
}
