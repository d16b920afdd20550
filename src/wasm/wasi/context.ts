import type { GuestMemory } from './memory-view.ts'
import type { FdTable } from './fd-table.ts'

/** What every group of preview 1 functions works on: one per Wasi instance. */
export interface WasiContext {
  readonly mem: GuestMemory
  readonly fds: FdTable
  readonly args: readonly string[]
  readonly env: ReadonlyArray<readonly [string, string]>
  readonly stdin: Uint8Array
  readonly stdout: (bytes: Uint8Array) => void
  readonly stderr: (bytes: Uint8Array) => void
  readonly sleep: (ms: number) => void
}

/** an import body: returns an errno (or nothing, for proc_exit) and may throw Errno */
export type WasiFunction = (...args: any[]) => number | undefined

/** a guest i64 that must be a non-negative offset or size, as a safe JS number (else EINVAL) */
export function offsetOf (value: bigint): number | undefined {
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) return undefined
  return Number(value)
}
