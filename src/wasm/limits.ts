/** What a node accepts of a module; one place for the defaults, each overridable per node. */
export interface ModuleLimits {
  /** Largest module (bytes) stored, fetched or run. */
  maxModuleBytes: number
  /** Largest memory minimum (64 KiB pages) a module may declare: the node could not give it more. */
  maxMemoryPages: number
}

export const DEFAULT_MODULE_LIMITS: ModuleLimits = {
  maxModuleBytes: 50 * 1024 * 1024,
  maxMemoryPages: 16_384 // 1 GiB
}
