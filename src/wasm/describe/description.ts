/**
 * A module's description: for each described export, how it is called over HTTP (method,
 * named parameters), what it answers (a number, a file, or nothing) and which files it
 * reads or writes (mounts). normalize.ts makes one from user input; this file holds the
 * canonical shape, the one that is stored, served and read back.
 */
import { z } from 'zod'

/** The value types a function may take or return over HTTP: numbers only. */
export const NUMBER_TYPES = ['i32', 'i64', 'f32', 'f64'] as const
export type NumberType = typeof NUMBER_TYPES[number]

export const METHODS = ['get', 'post'] as const
export type Method = typeof METHODS[number]

/**
 * `deployment`: the file is given once, when the module is described, and stored with it;
 * `execution`: the caller sends it with each call; `output`: the function writes it and the
 * caller gets it back as the answer.
 */
export const MOUNT_STAGES = ['deployment', 'execution', 'output'] as const
export type MountStage = typeof MOUNT_STAGES[number]

export const DEFAULT_MEDIA_TYPE = 'application/octet-stream'

/** Bounds that keep a description (and the OpenAPI document made from it) small. */
export const LIMITS = {
  functions: 256,
  parameters: 32,
  mounts: 32,
  nameLength: 128
} as const

/** RFC 9110 `type/subtype`, no parameters; stored lowercase since media types are case-insensitive. */
export const MEDIA_TYPE = /^[a-z0-9!#$%&'*+.^_`|~-]+\/[a-z0-9!#$%&'*+.^_`|~-]+$/

/** C0, DEL and C1 controls: they would corrupt headers, logs and multipart part names. */
export const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/

const nameSchema = z.string()
  .min(1, 'must not be empty')
  .max(LIMITS.nameLength, `at most ${LIMITS.nameLength} characters`)
  .refine(s => !CONTROL_CHARS.test(s), 'must not contain control characters')

const mediaTypeSchema = z.string().regex(MEDIA_TYPE, 'expected a lowercase media type "type/subtype"')

export const mountDescriptionSchema = z.object({
  name: nameSchema,
  mediaType: mediaTypeSchema,
  stage: z.enum(MOUNT_STAGES),
  /** set on a deployment-stage mount once its file is stored: the file's CID and size in bytes */
  cid: z.string().min(1).max(256).optional(),
  size: z.number().int().nonnegative().optional()
}).strict()

export const resultDescriptionSchema = z.union([
  z.object({ type: z.enum(NUMBER_TYPES) }).strict(),
  z.object({ mediaType: mediaTypeSchema }).strict(),
  z.null()
])

export const functionDescriptionSchema = z.object({
  method: z.enum(METHODS),
  parameters: z.array(z.object({ name: nameSchema, type: z.enum(NUMBER_TYPES) }).strict())
    .max(LIMITS.parameters, `at most ${LIMITS.parameters} parameters`),
  /** null: the function answers nothing (its return value, if any, is not part of the answer) */
  result: resultDescriptionSchema,
  mounts: z.array(mountDescriptionSchema).max(LIMITS.mounts, `at most ${LIMITS.mounts} mounts`)
}).strict()

/**
 * The stored shape. It checks structure only; whether it fits the module's exports is
 * normalizeDescription's job, done once when the description is attached.
 */
export const moduleDescriptionSchema = z.object({
  functions: z.record(nameSchema, functionDescriptionSchema)
    .refine(fns => Object.keys(fns).length <= LIMITS.functions, `at most ${LIMITS.functions} functions`)
}).strict()

export type MountDescription = z.infer<typeof mountDescriptionSchema>
export type ResultDescription = z.infer<typeof resultDescriptionSchema>
export type ParameterDescription = FunctionDescription['parameters'][number]
export type FunctionDescription = z.infer<typeof functionDescriptionSchema>
export type ModuleDescription = z.infer<typeof moduleDescriptionSchema>

export function isNumberType (value: unknown): value is NumberType {
  return (NUMBER_TYPES as readonly unknown[]).includes(value)
}

/** The mount a function's answer is read from, if it has one (there is at most one). */
export function outputMount (fn: Pick<FunctionDescription, 'mounts'>): MountDescription | undefined {
  return fn.mounts.find(m => m.stage === 'output')
}
