import { DEFAULT_MODULE_LIMITS } from '../limits.ts'
import type { ModuleLimits } from '../limits.ts'

/** What one guest instance may use; the defaults live here, each overridable per node. */
export interface RuntimeLimits extends ModuleLimits {
  /** wall-clock time of one call (or one run), instantiation included; past it the guest's worker is terminated */
  callTimeoutMs: number
  /** instantiation (worker start-up and the guest's start function included) */
  startTimeoutMs: number
  /** elements any table may grow to */
  maxTableElements: number
  /** stdout and stderr kept per call, each; the rest is dropped and the output marked truncated */
  maxOutputBytes: number
  /** V8 heap of a guest's worker (the JS glue of components lives there; wasm memory is capped separately) */
  workerHeapMib: number
  /** compiled modules kept for reuse */
  compiledCacheEntries: number
  /** workers started ahead of need, so a new instance (or one replacing a timed-out one) starts at once */
  spareWorkers: 0 | 1
}

export const DEFAULT_RUNTIME_LIMITS: RuntimeLimits = {
  ...DEFAULT_MODULE_LIMITS,
  callTimeoutMs: 10_000,
  startTimeoutMs: 10_000,
  maxTableElements: 100_000,
  maxOutputBytes: 1024 * 1024,
  workerHeapMib: 128,
  compiledCacheEntries: 64,
  spareWorkers: 1
}
