import { z } from 'zod'
import { WasmeshError } from '../../errors.ts'
import { parseJson, parseOrBadRequest } from '../../validation.ts'
import { BUILTIN_SKILLS, SKILL_CATALOG, catalogDescriptor } from './catalog.ts'
import type { SkillDescriptor } from './descriptor.ts'

/** Where a skill's host functions get their data (SPEC.md, "Skills file"). */
export const providerSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('simulated'),
    values: z.object({ temperature: z.number().optional(), humidity: z.number().optional() }).strict().optional()
  }).strict(),
  z.object({ type: z.literal('command'), command: z.string().min(1) }).strict(),
  z.object({ type: z.literal('file'), path: z.string().min(1) }).strict()
], { error: (issue) => issue.code === 'invalid_union' ? 'unknown provider type (expected simulated, command or file)' : undefined })

export type SkillProvider = z.infer<typeof providerSchema>

const skillsFileSchema = z.object({
  skills: z.array(z.object({
    name: z.string(),
    provider: providerSchema
  }).strict()).max(64)
}).strict()

export interface ConfiguredSkill {
  name: string
  provider: SkillProvider
}

/** Parses and checks a skills file's text; throws `bad-request` naming the offending field. */
export function parseSkillsFile (text: string, source = 'skills file'): ConfiguredSkill[] {
  const file = parseOrBadRequest(skillsFileSchema, parseJson(text, source), source)
  const seen = new Set<string>()
  file.skills.forEach((skill, i) => {
    if ((BUILTIN_SKILLS as readonly string[]).includes(skill.name)) {
      throw new WasmeshError('bad-request', `${source}: skills.${i}.name: "${skill.name}" is built in and offered by every node; do not list it`, { field: `skills.${i}.name` })
    }
    if (catalogDescriptor(skill.name) === undefined) {
      const known = Object.keys(SKILL_CATALOG).filter(n => !(BUILTIN_SKILLS as readonly string[]).includes(n)).join(', ')
      throw new WasmeshError('bad-request', `${source}: skills.${i}.name: unknown skill "${skill.name}" (known: ${known})`, { field: `skills.${i}.name` })
    }
    if (seen.has(skill.name)) {
      throw new WasmeshError('bad-request', `${source}: skills.${i}.name: "${skill.name}" is listed twice`, { field: `skills.${i}.name` })
    }
    seen.add(skill.name)
  })
  return file.skills
}

/** The descriptors a node announces: the built-in skills, then the configured ones. */
export function skillDescriptors (configured: readonly ConfiguredSkill[]): SkillDescriptor[] {
  const builtin = BUILTIN_SKILLS.map(name => SKILL_CATALOG[name])
  const offered = configured.map(s => ({ ...SKILL_CATALOG[s.name], meta: { provider: s.provider.type } }))
  return [...builtin, ...offered]
}
