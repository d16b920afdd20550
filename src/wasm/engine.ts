/**
 * The engine's WebAssembly API, typed here: the project's lib (es2024, no DOM) leaves it out.
 * Only what wasmesh calls.
 */

/** a compiled module (structured-cloneable to workers: they share its code) */
export type WasmModule = object

export interface WasmMemory {
  readonly buffer: ArrayBuffer
  grow: (deltaPages: number) => number
}

export interface WasmTable {
  readonly length: number
}

export type ImportObject = Record<string, Record<string, unknown>>

export interface WasmInstance {
  readonly exports: Record<string, unknown>
}

export interface Engine {
  validate: (bytes: Uint8Array) => boolean
  compile: (bytes: Uint8Array) => Promise<WasmModule>
  Module: {
    new (bytes: Uint8Array): WasmModule
    imports: (module: WasmModule) => Array<{ module: string, name: string, kind: string }>
    exports: (module: WasmModule) => Array<{ name: string, kind: string }>
  }
  Instance: new (module: WasmModule, imports?: ImportObject) => WasmInstance
  Memory: new (descriptor: { initial: number, maximum?: number, shared?: boolean }) => WasmMemory
  RuntimeError: new (message?: string) => Error
  CompileError: new (message?: string) => Error
  LinkError: new (message?: string) => Error
}

export const engine = (globalThis as unknown as { WebAssembly: Engine }).WebAssembly

/** a guest's memory export, if it has one */
export function exportedMemory (instance: WasmInstance, name = 'memory'): WasmMemory | undefined {
  const memory = instance.exports[name]
  return typeof memory === 'object' && memory !== null && 'buffer' in memory ? memory as WasmMemory : undefined
}
