import { WasmeshError } from '../errors.ts'
import { engine } from './engine.ts'
import { isComponent, outlineComponent, parseComponent, parseCoreModule } from './parse/index.ts'
import type { ModuleLimits } from './limits.ts'
import type { ModuleInfo } from './module-info.ts'

/**
 * Accepts a binary for the mesh or says why not, cheapest checks first: emptiness, size,
 * the engine's own validation, the parse, then what its memories would claim at start.
 * The engine cannot validate a component as a whole (it knows core modules only), so for
 * a component it validates each embedded core module, and jco's decoding in the parser
 * checks the component's structure and types.
 */
export async function validateModule (bytes: Uint8Array, limits: ModuleLimits): Promise<ModuleInfo> {
  if (bytes.length === 0) throw new WasmeshError('invalid-module', 'empty module: 0 bytes')
  assertModuleSize(bytes, limits)
  // The outline that finds a component's core modules is also half its parse: walked once.
  const outline = isComponent(bytes) ? outlineComponent(bytes) : null
  if (outline !== null) {
    outline.coreModules.forEach((core, index) => {
      if (!engine.validate(core)) throw new WasmeshError('invalid-module', `invalid core module ${index} in the component: ${compileError(core)}`)
    })
  } else if (!engine.validate(bytes)) {
    throw new WasmeshError('invalid-module', `invalid module: ${compileError(bytes)}`)
  }
  const info = outline !== null ? await parseComponent(bytes, outline) : parseCoreModule(bytes)
  info.memories.forEach((memory, index) => {
    if (memory.min > limits.maxMemoryPages) {
      throw new WasmeshError('invalid-module',
        `memory ${index}${memoryLabel(info, index)} needs ${memory.min} pages at start, over the limit of ${limits.maxMemoryPages} pages`,
        { memory: index, min: memory.min, limit: limits.maxMemoryPages })
    }
  })
  return info
}

/** `too-large` past the size limit: the first check, before anything reads the bytes */
export function assertModuleSize (bytes: Uint8Array, limits: ModuleLimits): void {
  if (bytes.length > limits.maxModuleBytes) {
    throw new WasmeshError('too-large', `module of ${bytes.length} bytes exceeds the limit of ${limits.maxModuleBytes} bytes`,
      { size: bytes.length, limit: limits.maxModuleBytes })
  }
}

/**
 * The engine's reason for refusing the bytes. Compiling only to get a message is slow on
 * large modules, so it happens only once validate() already said no (and V8 stops at the
 * first error).
 */
function compileError (bytes: Uint8Array): string {
  try {
    new engine.Module(bytes)
    return 'rejected by the WebAssembly validator'
  } catch (err) {
    return err instanceof Error ? err.message.replace(/^WebAssembly\.Module\(\): /, '') : String(err)
  }
}

/** ` (imported as "env"."memory")` for an imported memory, whose host would have to provide it */
function memoryLabel (info: ModuleInfo, index: number): string {
  const imported = info.imports.filter(i => i.kind === 'memory')
  return index < imported.length ? ` (imported as "${imported[index].module}"."${imported[index].name}")` : ''
}
