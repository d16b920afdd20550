import { createHash } from 'node:crypto'
import { z } from 'zod'

/** WebAssembly value types a host function may take or return. */
export const VALTYPES = ['i32', 'i64', 'f32', 'f64'] as const
export type ValType = typeof VALTYPES[number]

export const SKILL_NAME = /^[a-z][a-z0-9_-]{0,31}$/
const FUNCTION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/

export const functionSignatureSchema = z.object({
  params: z.array(z.enum(VALTYPES)).max(16),
  results: z.array(z.enum(VALTYPES)).max(1)
}).strict()

export const skillDescriptorSchema = z.object({
  name: z.string().regex(SKILL_NAME),
  version: z.string().min(1).max(32),
  functions: z.record(z.string().regex(FUNCTION_NAME), functionSignatureSchema)
    .refine(fns => Object.keys(fns).length <= 64, 'at most 64 functions per skill'),
  meta: z.record(z.string().max(64), z.union([z.string().max(256), z.number(), z.boolean()])).optional()
}).strict()

export type FunctionSignature = z.infer<typeof functionSignatureSchema>
export type SkillDescriptor = z.infer<typeof skillDescriptorSchema>

/**
 * A short, order-independent fingerprint of what a set of skills offers (names, versions,
 * function signatures; not meta). Peers compare digests to tell whether what they know of a
 * peer's skills is current without shipping the descriptors.
 */
export function skillsDigest (skills: readonly SkillDescriptor[]): string {
  const canonical = [...skills]
    .sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
    .map(s => [s.name, s.version, Object.keys(s.functions).sort().map(f => [f, s.functions[f].params, s.functions[f].results])])
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex').slice(0, 16)
}
