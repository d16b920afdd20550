/**
 * The engine's WebAssembly API, typed here: the project's lib (es2024, no DOM) leaves it out.
 * Only what wasmesh calls.
 */
export interface Engine {
  validate: (bytes: Uint8Array) => boolean
  Module: {
    new (bytes: Uint8Array): object
    imports: (module: object) => Array<{ module: string, name: string, kind: string }>
    exports: (module: object) => Array<{ name: string, kind: string }>
  }
}

export const engine = (globalThis as unknown as { WebAssembly: Engine }).WebAssembly
