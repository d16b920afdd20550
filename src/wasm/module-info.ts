/**
 * What wasmesh knows of a WebAssembly binary without running it: the shape the parser
 * (src/wasm/parse/) produces and the description, OpenAPI and store code consume.
 * Plain JSON-able data, so it can be persisted and served as is.
 */

/** Every value type a core module may use in a signature. */
export type CoreValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | 'funcref' | 'externref'

export interface FuncSignature {
  params: CoreValType[]
  results: CoreValType[]
}

/** Limits of a memory (in 64 KiB pages) or a table (in elements). */
export interface Limits {
  min: number
  max?: number
  shared?: boolean
  /** memory64 / table64 */
  index64?: boolean
}

export type ExternDesc =
  | { kind: 'function', signature: FuncSignature }
  | { kind: 'memory', limits: Limits }
  | { kind: 'table', element: CoreValType, limits: Limits }
  | { kind: 'global', type: CoreValType, mutable: boolean }
  | { kind: 'tag', signature: FuncSignature }

export type ImportEntry = { module: string, name: string } & ExternDesc
export type ExportEntry = { name: string } & ExternDesc

export interface CustomSection {
  name: string
  /** payload size in bytes, the name excluded */
  size: number
}

/** A component's world as WIT, read with jco. */
export interface ComponentWorld {
  /** the world's imports as WIT names, e.g. `wasi:cli/stdout@0.2.0` or `camera` */
  imports: string[]
  /** the world's exports as WIT names, e.g. `add` or `local:calc/ops` */
  exports: string[]
  /** the whole WIT text jco prints */
  wit: string
}

export interface ModuleInfo {
  kind: 'core' | 'component'
  /** bytes */
  size: number
  imports: ImportEntry[]
  exports: ExportEntry[]
  /** every memory the module defines or imports, imports first (index order) */
  memories: Limits[]
  /** every table the module defines or imports, imports first (index order) */
  tables: Array<{ element: CoreValType, limits: Limits }>
  customSections: CustomSection[]
  /** skills the module needs: its import module names, WASI preview 1 excluded, sorted */
  requires: string[]
  /** for a component only */
  component?: ComponentWorld
}
