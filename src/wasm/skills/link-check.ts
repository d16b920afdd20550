import { WasmeshError } from '../../errors.ts'
import { WASI_PREVIEW1_SIGNATURES } from '../wasi/signatures.ts'
import type { FuncSignature, ModuleInfo } from '../module-info.ts'
import type { SkillDescriptor } from './descriptor.ts'

export const WASI_PREVIEW1 = 'wasi_snapshot_preview1'

/**
 * Whether a module can be linked with what a node offers: every import of a core module is
 * a function of WASI preview 1 or of an offered skill (import module name = skill name),
 * with exactly the signature offered; a component's skill interfaces must all be offered
 * (its WASI 0.2 imports always are). Gives the problems, one line each, naming the import
 * (none means it links), and the skills missing altogether.
 */
export function linkCheck (info: ModuleInfo, offered: readonly SkillDescriptor[]): { problems: string[], missing: string[] } {
  const skills = new Map(offered.map(s => [s.name, s]))
  if (info.kind === 'component') {
    const missing = info.requires.filter(name => !skills.has(name))
    return { problems: missing.map(notOffered), missing }
  }
  const problems: string[] = []
  const missing: string[] = []
  for (const entry of info.imports) {
    const where = `import "${entry.module}"."${entry.name}"`
    const functions: Readonly<Record<string, FuncSignature>> | undefined =
      entry.module === WASI_PREVIEW1 ? WASI_PREVIEW1_SIGNATURES : skills.get(entry.module)?.functions
    if (functions === undefined) {
      if (!missing.includes(entry.module)) {
        missing.push(entry.module)
        problems.push(notOffered(entry.module))
      }
      continue
    }
    if (entry.kind !== 'function') {
      problems.push(`${where} is a ${entry.kind}; "${entry.module}" offers only functions`)
      continue
    }
    const offeredSignature = Object.hasOwn(functions, entry.name) ? functions[entry.name] : undefined
    if (offeredSignature === undefined) {
      problems.push(`${where}: "${entry.module}" has no function "${entry.name}"`)
    } else if (!sameSignature(offeredSignature, entry.signature)) {
      problems.push(`${where} has type ${show(entry.signature)}, but the node offers ${show(offeredSignature)}`)
    }
  }
  return { problems, missing }
}

/** linkCheck as an `unsatisfiable` error listing every problem and the missing skills */
export function assertLinks (info: ModuleInfo, offered: readonly SkillDescriptor[]): void {
  const { problems, missing } = linkCheck(info, offered)
  if (problems.length === 0) return
  throw new WasmeshError('unsatisfiable', `the module cannot be linked: ${problems.join('; ')}`, { missing, problems })
}

function notOffered (skill: string): string {
  return `needs skill "${skill}", which this node does not offer`
}

function sameSignature (a: FuncSignature, b: FuncSignature): boolean {
  return a.params.length === b.params.length && a.results.length === b.results.length &&
    a.params.every((t, i) => t === b.params[i]) && a.results.every((t, i) => t === b.results[i])
}

function show (s: FuncSignature): string {
  return `(${s.params.join(', ')}) -> (${s.results.join(', ')})`
}
