import { WasmeshError } from '../../../errors.ts'
import { BUILTIN_SKILLS } from '../catalog.ts'
import { SKILL_QUANTITIES } from '../quantities.ts'
import type { ConfiguredSkill } from '../skills-file.ts'
import { commandProvider } from './command.ts'
import { fileProvider } from './file.ts'
import { resolveProviderOptions, type ProviderOptions } from './options.ts'
import type { SkillProvider } from './provider.ts'
import { simulatedProvider } from './simulated.ts'

export type { SkillProvider } from './provider.ts'
export { PROVIDER_DEFAULTS, SIMULATED_DEFAULTS, type ProviderOptions } from './options.ts'
export { testImagePng } from './test-image.ts'

/** the provider a skills-file entry names */
export function createProvider (skill: ConfiguredSkill, options?: ProviderOptions): SkillProvider {
  if (!Object.hasOwn(SKILL_QUANTITIES, skill.name)) {
    throw new WasmeshError('bad-request', `skill "${skill.name}" takes no provider (skills with providers: ${Object.keys(SKILL_QUANTITIES).join(', ')})`)
  }
  const resolved = resolveProviderOptions(options)
  const provider = skill.provider
  switch (provider.type) {
    case 'simulated': return simulatedProvider(skill.name, provider.values)
    case 'command': return commandProvider(skill.name, provider.command, resolved)
    case 'file': return fileProvider(skill.name, provider.path, resolved)
  }
}

/** a provider for each configured skill, by name; the built-in skills read nothing and get none */
export function createProviders (skills: readonly ConfiguredSkill[], options?: ProviderOptions): Map<string, SkillProvider> {
  const providers = new Map<string, SkillProvider>()
  for (const skill of skills) {
    if ((BUILTIN_SKILLS as readonly string[]).includes(skill.name)) continue
    providers.set(skill.name, createProvider(skill, options))
  }
  return providers
}
