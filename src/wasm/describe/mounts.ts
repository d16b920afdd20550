/**
 * Deployment-stage mounts and the files given for them when a module is described. A file
 * part is matched to mounts by name: one part `model.bin` serves every function that has a
 * deployment-stage mount `model.bin`.
 */
import { WasmeshError } from '../../errors.ts'
import { DEFAULT_MEDIA_TYPE, MEDIA_TYPE } from './description.ts'
import type { ModuleDescription } from './description.ts'

export interface MountRef {
  function: string
  mount: string
}

/** What the store knows of a file once it holds it. */
export interface StoredFile {
  cid: string
  /** bytes */
  size: number
  /** the part's Content-Type, if the client sent one */
  mediaType?: string
}

/** The names of every deployment-stage mount of every described function. */
export function deploymentMountNames (desc: ModuleDescription): Set<string> {
  const names = new Set<string>()
  for (const fn of Object.values(desc.functions)) {
    for (const m of fn.mounts) if (m.stage === 'deployment') names.add(m.name)
  }
  return names
}

/** Deployment-stage mounts with no file among `fileNames`, in description order. */
export function missingDeploymentFiles (desc: ModuleDescription, fileNames: readonly string[]): MountRef[] {
  const given = new Set(fileNames)
  const missing: MountRef[] = []
  for (const [fn, d] of Object.entries(desc.functions)) {
    for (const m of d.mounts) {
      if (m.stage === 'deployment' && !given.has(m.name)) missing.push({ function: fn, mount: m.name })
    }
  }
  return missing
}

/** File names that are no deployment-stage mount of any function: nothing would ever read them. */
export function unexpectedFiles (desc: ModuleDescription, fileNames: readonly string[]): string[] {
  const wanted = deploymentMountNames(desc)
  return fileNames.filter(name => !wanted.has(name))
}

/**
 * Throws the `bad-request` the describe route answers when the file parts do not match the
 * deployment-stage mounts: a part given twice, a mount without its file, a part no mount wants.
 */
export function assertDeploymentFiles (desc: ModuleDescription, fileNames: readonly string[]): void {
  const twice = fileNames.find((name, i) => fileNames.indexOf(name) !== i)
  if (twice !== undefined) {
    throw new WasmeshError('bad-request', `file part "${twice}" is given more than once`, { part: twice })
  }
  const [missing] = missingDeploymentFiles(desc, fileNames)
  if (missing !== undefined) {
    throw new WasmeshError('bad-request',
      `mount "${missing.mount}" of function "${missing.function}" is a deployment-stage mount and needs its file`,
      { mount: missing.mount, function: missing.function })
  }
  const [unexpected] = unexpectedFiles(desc, fileNames)
  if (unexpected !== undefined) {
    throw new WasmeshError('bad-request',
      `file part "${unexpected}" is not a deployment-stage mount of any described function`, { part: unexpected })
  }
}

/**
 * The description with each deployment-stage mount carrying its stored file's cid and size.
 * A mount that names no media type takes the part's Content-Type, as wasmiot does.
 */
export function attachDeploymentFiles (desc: ModuleDescription, files: ReadonlyMap<string, StoredFile>): ModuleDescription {
  return {
    functions: Object.fromEntries(Object.entries(desc.functions).map(([fn, d]) => [fn, {
      ...d,
      mounts: d.mounts.map(m => {
        const file = m.stage === 'deployment' ? files.get(m.name) : undefined
        if (file === undefined) return m
        const partType = file.mediaType?.toLowerCase()
        const mediaType = m.mediaType === DEFAULT_MEDIA_TYPE && partType !== undefined && MEDIA_TYPE.test(partType)
          ? partType
          : m.mediaType
        return { ...m, mediaType, cid: file.cid, size: file.size }
      })
    }]))
  }
}

/** A deployment-stage file as a stored description points at it. */
export interface DeploymentFile {
  mount: string
  cid: string
  size: number
  mediaType: string
}

/** The files a stored description's deployment-stage mounts point at, one per mount name. */
export function deploymentFiles (desc: ModuleDescription | null): DeploymentFile[] {
  const files = new Map<string, DeploymentFile>()
  for (const fn of Object.values(desc?.functions ?? {})) {
    for (const m of fn.mounts) {
      if (m.stage === 'deployment' && m.cid !== undefined && m.size !== undefined && !files.has(m.name)) {
        files.set(m.name, { mount: m.name, cid: m.cid, size: m.size, mediaType: m.mediaType })
      }
    }
  }
  return [...files.values()]
}
