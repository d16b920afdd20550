import type { WasmMemory } from '../engine.ts'
import { E, Errno } from './errno.ts'
import { LIMITS } from './rights.ts'

/**
 * Bounds-checked access to the guest's linear memory. Every pointer and length comes from the
 * guest, so each access is checked (EFAULT) before a typed array is made: a RangeError must
 * never escape. `memory.buffer` is re-read when it changes, because growing memory replaces it.
 */
export class GuestMemory {
  memory: WasmMemory | undefined
  private buffer: ArrayBuffer | undefined
  private view: DataView | undefined

  private dataView (): DataView {
    if (this.memory === undefined) throw new Errno(E.FAULT)
    const buffer = this.memory.buffer
    if (buffer !== this.buffer || this.view === undefined || this.view.byteLength !== buffer.byteLength) {
      this.buffer = buffer
      this.view = new DataView(buffer)
    }
    return this.view
  }

  /** the guest's i32 as the unsigned address it means */
  private check (ptr: number, len: number): DataView {
    const view = this.dataView()
    const start = ptr >>> 0
    if (!Number.isSafeInteger(len) || len < 0 || start + len > view.byteLength) throw new Errno(E.FAULT)
    return view
  }

  /** EFAULT unless the bytes are all in memory: an out-pointer checked before a call has effects, no view made */
  assertRange (ptr: number, len: number): void {
    this.check(ptr, len >>> 0)
  }

  /** a live view of guest bytes (valid until the guest's memory grows) */
  bytes (ptr: number, len: number): Uint8Array {
    const view = this.check(ptr, len >>> 0)
    return new Uint8Array(view.buffer, ptr >>> 0, len >>> 0)
  }

  u8 (ptr: number): number { return this.check(ptr, 1).getUint8(ptr >>> 0) }
  u16 (ptr: number): number { return this.check(ptr, 2).getUint16(ptr >>> 0, true) }
  u32 (ptr: number): number { return this.check(ptr, 4).getUint32(ptr >>> 0, true) }
  u64 (ptr: number): bigint { return this.check(ptr, 8).getBigUint64(ptr >>> 0, true) }

  setU8 (ptr: number, value: number): void { this.check(ptr, 1).setUint8(ptr >>> 0, value) }
  setU16 (ptr: number, value: number): void { this.check(ptr, 2).setUint16(ptr >>> 0, value, true) }
  setU32 (ptr: number, value: number): void { this.check(ptr, 4).setUint32(ptr >>> 0, value >>> 0, true) }
  setU64 (ptr: number, value: bigint | number): void {
    this.check(ptr, 8).setBigUint64(ptr >>> 0, BigInt.asUintN(64, BigInt(value)), true)
  }

  /** copy host bytes into the guest */
  write (ptr: number, data: Uint8Array): void {
    this.bytes(ptr, data.length).set(data)
  }

  /** the iovec array at ptr as views of guest memory; EINVAL past LIMITS.iovecs */
  iovecs (ptr: number, count: number): Uint8Array[] {
    const n = count >>> 0
    if (n > LIMITS.iovecs) throw new Errno(E.INVAL)
    this.check(ptr, n * 8)
    const out: Uint8Array[] = []
    for (let i = 0; i < n; i++) {
      const base = (ptr >>> 0) + i * 8
      out.push(this.bytes(this.u32(base), this.u32(base + 4)))
    }
    return out
  }

  /** a path: ENAMETOOLONG past LIMITS.pathBytes, EILSEQ if not UTF-8, EINVAL with a NUL */
  path (ptr: number, len: number): string {
    const n = len >>> 0
    if (n > LIMITS.pathBytes) throw new Errno(E.NAMETOOLONG)
    const text = decodeUtf8(this.bytes(ptr, n))
    if (text.includes('\0')) throw new Errno(E.INVAL)
    return text
  }
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** strict UTF-8 (EILSEQ); copies first, as TextDecoder refuses views of shared memory */
function decodeUtf8 (bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes.slice())
  } catch {
    throw new Errno(E.ILSEQ)
  }
}
