import { readdir, readFile, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { WasmeshError } from '../../../errors.ts'
import { quantityKind } from '../quantities.ts'
import type { ResolvedProviderOptions } from './options.ts'
import type { SkillProvider } from './provider.ts'
import { valueFromOutput } from './value.ts'

/**
 * A file's content per read, or for a directory its regular files in name order, one per read,
 * cycling; each quantity keeps its own place. The directory is listed again at every read, so
 * files may be added while the node runs.
 */
export function fileProvider (skill: string, path: string, options: ResolvedProviderOptions): SkillProvider {
  const full = resolve(options.cwd, path)
  const turns = new Map<string, number>()
  return {
    async read (quantity, signal) {
      quantityKind(skill, quantity)
      const info = await statOrFail(skill, full)
      let file = full
      if (info.isDirectory()) {
        const files = await regularFiles(skill, full)
        const turn = turns.get(quantity) ?? 0
        turns.set(quantity, turn + 1)
        file = join(full, files[turn % files.length])
      }
      const bytes = await readCapped(skill, file, options.maxBytes, signal)
      return valueFromOutput(skill, quantity, bytes, `file ${file}`)
    }
  }
}

async function statOrFail (skill: string, path: string): Promise<Awaited<ReturnType<typeof stat>>> {
  try {
    return await stat(path)
  } catch (err) {
    throw fileError(skill, path, err)
  }
}

async function regularFiles (skill: string, dir: string): Promise<string[]> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (err) {
    throw fileError(skill, dir, err)
  }
  const files: string[] = []
  // sorted by code unit, not locale: the same order on every device
  for (const name of names.sort((a, b) => a < b ? -1 : a > b ? 1 : 0)) {
    // stat, not the dirent: a link to a regular file counts as one
    const info = await stat(join(dir, name)).catch(() => undefined)
    if (info?.isFile() === true) files.push(name)
  }
  if (files.length === 0) throw new WasmeshError('unavailable', `skill ${skill}: directory ${dir} has no regular files to read`)
  return files
}

async function readCapped (skill: string, file: string, maxBytes: number, signal: AbortSignal): Promise<Uint8Array> {
  const info = await statOrFail(skill, file)
  if (!info.isFile()) throw new WasmeshError('unavailable', `skill ${skill}: ${file} is not a regular file`)
  if (info.size > maxBytes) throw new WasmeshError('unavailable', `skill ${skill}: file ${file} has ${info.size} bytes, more than the ${maxBytes} allowed`)
  try {
    const bytes = await readFile(file, { signal })
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)
  } catch (err) {
    if (signal.aborted) {
      throw signal.reason instanceof WasmeshError ? signal.reason : new WasmeshError('unavailable', `skill ${skill}: reading ${file} was aborted`)
    }
    throw fileError(skill, file, err)
  }
}

function fileError (skill: string, path: string, err: unknown): WasmeshError {
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'ENOENT') return new WasmeshError('unavailable', `skill ${skill}: file ${path} does not exist`)
  if (code === 'EACCES') return new WasmeshError('unavailable', `skill ${skill}: file ${path} is not readable (permission denied)`)
  return new WasmeshError('unavailable', `skill ${skill}: cannot read ${path}: ${(err as Error).message}`)
}
