import { WasmeshError } from '../../../errors.ts'
import type { ImportObject } from '../../engine.ts'
import { cameraImports } from './camera.ts'
import type { HostFunctions, SkillHostContext } from './context.ts'
import { dhtImports } from './dht.ts'
import { sysImports } from './sys.ts'

export type { SkillHostContext } from './context.ts'

/** each skill's host functions, matching SKILL_CATALOG's signatures */
export const SKILL_HOSTS: Readonly<Record<string, (ctx: SkillHostContext) => HostFunctions>> = Object.freeze({
  sys: sysImports,
  camera: cameraImports,
  dht: dhtImports
})

/**
 * The imports that give a guest the named skills: import module name = skill name. Only the
 * named ones, so a guest never reaches a skill its node was not told to offer.
 */
export function skillImports (skills: readonly string[], ctx: SkillHostContext): ImportObject {
  const imports: ImportObject = {}
  for (const skill of skills) {
    const host = Object.hasOwn(SKILL_HOSTS, skill) ? SKILL_HOSTS[skill] : undefined
    if (host === undefined) throw new WasmeshError('unsatisfiable', `no host functions for skill "${skill}" (known: ${Object.keys(SKILL_HOSTS).join(', ')})`)
    imports[skill] = host(ctx)
  }
  return imports
}
