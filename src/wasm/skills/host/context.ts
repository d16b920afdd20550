import type { WasmMemory } from '../../engine.ts'

/**
 * What the host functions of skills need from the runtime that instantiates a guest. The
 * runtime owns all of it; the host functions only call it, synchronously, on the guest's thread.
 */
export interface SkillHostContext {
  /** the guest's memory; asked again at each use because the guest (or its `alloc`) may grow it */
  memory: () => WasmMemory
  /** one of the guest's exports, e.g. its `alloc` */
  guestExport: (name: string) => unknown
  /** a skill's value, blocking until the provider answers: ('camera','image') → bytes, ('dht','temperature'|'humidity') → number */
  read: (skill: string, quantity: string) => Uint8Array | number
  /** appends to the call's captured stdout */
  stdout: (bytes: Uint8Array) => void
  /** blocks for `ms` milliseconds, or less if the call is cut short */
  sleep: (ms: number) => void
  /** milliseconds since the instance started */
  millis: () => number
}

/** the host functions of one skill, by function name */
export type HostFunctions = Record<string, (...args: number[]) => number | undefined>
