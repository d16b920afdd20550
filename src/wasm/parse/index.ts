import { parseComponent } from './component.ts'
import { parseCoreModule } from './core-sections.ts'
import { binaryKind } from './preamble.ts'
import type { ModuleInfo } from '../module-info.ts'

export { parseCoreModule } from './core-sections.ts'
export { binaryKind, isComponent } from './preamble.ts'
export { componentRequires, outlineComponent, parseComponent, worldFromWit } from './component.ts'
export type { ComponentOutline } from './component.ts'

/**
 * What a WebAssembly binary offers and needs, read without running it: a core module is
 * parsed here and now; a component is outlined here and its world read with jco (hence
 * async). Malformed bytes throw WasmeshError('invalid-module'); nothing else is expected.
 */
export async function parseModule (bytes: Uint8Array): Promise<ModuleInfo> {
  return binaryKind(bytes) === 'core' ? parseCoreModule(bytes) : await parseComponent(bytes)
}
