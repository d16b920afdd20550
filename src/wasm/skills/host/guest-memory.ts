import { WasmeshError } from '../../../errors.ts'
import type { WasmMemory } from '../../engine.ts'

/**
 * Bounds-checked access to a guest's memory for host functions. Pointers arrive as i32 and
 * mean u32 addresses. Every access makes a fresh view, since the buffer changes when memory
 * grows. `where` is the host function (for the trap message), `what` names the argument.
 */

/** the address as unsigned, once [ptr, ptr + length) is known to lie in memory */
export function checkRange (memory: WasmMemory, ptr: number, length: number, where: string, what: string): number {
  const start = ptr >>> 0
  const size = memory.buffer.byteLength
  if (start + length > size) {
    throw new WasmeshError('trap', `${where}: ${what} (${length} bytes at ${start}) is outside the guest's memory of ${size} bytes`)
  }
  return start
}

/** a copy of the guest's bytes, so later guest writes do not change what the host kept */
export function readBytes (memory: WasmMemory, ptr: number, length: number, where: string, what: string): Uint8Array {
  const start = checkRange(memory, ptr, length >>> 0, where, what)
  return new Uint8Array(memory.buffer, start, length >>> 0).slice()
}

export function writeBytes (memory: WasmMemory, ptr: number, data: Uint8Array, where: string, what: string): void {
  const start = checkRange(memory, ptr, data.length, where, what)
  new Uint8Array(memory.buffer, start, data.length).set(data)
}

export function readU32 (memory: WasmMemory, ptr: number, where: string, what: string): number {
  const start = checkRange(memory, ptr, 4, where, what)
  return new DataView(memory.buffer, start, 4).getUint32(0, true)
}

export function writeU32 (memory: WasmMemory, ptr: number, value: number, where: string, what: string): void {
  const start = checkRange(memory, ptr, 4, where, what)
  new DataView(memory.buffer, start, 4).setUint32(0, value >>> 0, true)
}
