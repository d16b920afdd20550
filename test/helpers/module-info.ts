import type { CoreValType, ModuleInfo } from '../../src/wasm/module-info.ts'

export type Sig = [params: CoreValType[], results: CoreValType[]]

/** A ModuleInfo with these function exports (and a memory, as real modules have), built by hand. */
export function moduleInfo (functions: Record<string, Sig>): ModuleInfo {
  return {
    kind: 'core',
    size: 1234,
    imports: [],
    exports: [
      { name: 'memory', kind: 'memory', limits: { min: 1 } },
      ...Object.entries(functions).map(([name, [params, results]]) => ({ name, kind: 'function' as const, signature: { params, results } }))
    ],
    memories: [{ min: 1 }],
    tables: [],
    customSections: [],
    requires: []
  }
}
