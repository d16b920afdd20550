import { WasmeshError } from '../../errors.ts'
import { BinaryReader } from '../parse/binary-reader.ts'
import { readPreamble } from '../parse/preamble.ts'
import { readMemoryLimits, readRefType, readTableLimits, skipConstExpr } from '../parse/core-types.ts'
import type { Limits } from '../module-info.ts'

/** What a guest's memories and tables may grow to. */
export interface GrowthCaps {
  /** 64 KiB pages */
  maxMemoryPages: number
  /** elements */
  maxTableElements: number
}

const SECTION_TABLE = 4
const SECTION_MEMORY = 5
/** a table type with an initialiser expression (function references) */
const TABLE_WITH_INIT = 0x40

/**
 * Gives every memory and table a core module defines a maximum within the caps, because
 * toolchains emit none and the engine would let a guest grow to gigabytes (worker
 * resourceLimits do not cover wasm memory). A declared maximum above a cap is lowered to it:
 * growth past the cap then fails the way the spec allows (memory.grow returns -1). A minimum
 * over a cap can't be met and is refused. Only the table and memory sections are re-encoded;
 * the other bytes are copied as they are, and the input is returned untouched if nothing
 * needs to change.
 */
export function capGrowth (bytes: Uint8Array, caps: GrowthCaps): Uint8Array {
  const r = new BinaryReader(bytes)
  if (readPreamble(r) !== 'core') r.fail('expected a core module', 0)
  const pieces: Uint8Array[] = [bytes.subarray(0, r.pos)]
  let changed = false
  while (!r.atEnd()) {
    const { id, at, body } = r.section()
    if (id === SECTION_MEMORY || id === SECTION_TABLE) {
      const rewritten = id === SECTION_MEMORY ? capMemories(body, caps.maxMemoryPages) : capTables(body, caps.maxTableElements)
      if (rewritten !== undefined) {
        changed = true
        pieces.push(section(id, rewritten))
        continue
      }
    }
    pieces.push(bytes.subarray(at, body.end))
  }
  return changed ? concat(pieces) : bytes
}

function capMemories (r: BinaryReader, cap: number): Uint8Array | undefined {
  const out = new Writer()
  const n = r.count()
  out.u32(n)
  let changed = false
  for (let i = 0; i < n; i++) {
    const limits = readMemoryLimits(r)
    if (limits.min > cap) {
      throw new WasmeshError('invalid-module', `memory ${i} needs ${limits.min} pages at start, over the limit of ${cap} pages`, { memory: i, min: limits.min, limit: cap })
    }
    changed = writeCapped(out, limits, cap, limits.shared === true ? 0x02 : 0) || changed
  }
  return changed ? out.result() : undefined
}

function capTables (r: BinaryReader, cap: number): Uint8Array | undefined {
  const out = new Writer()
  const n = r.count()
  out.u32(n)
  let changed = false
  for (let i = 0; i < n; i++) {
    const withInit = r.peek() === TABLE_WITH_INIT
    if (withInit) out.bytes(r.take(2)) // 0x40 0x00
    const refTypeAt = r.pos
    readRefType(r)
    out.bytes(r.bytes.subarray(refTypeAt, r.pos))
    const limits = readTableLimits(r)
    if (limits.min > cap) {
      throw new WasmeshError('invalid-module', `table ${i} needs ${limits.min} elements at start, over the limit of ${cap}`, { table: i, min: limits.min, limit: cap })
    }
    changed = writeCapped(out, limits, cap, 0) || changed
    if (withInit) {
      // the initialiser expression follows the limits: copy it through its `end`
      const exprAt = r.pos
      skipConstExpr(r)
      out.bytes(r.bytes.subarray(exprAt, r.pos))
    }
  }
  return changed ? out.result() : undefined
}

/** writes limits with max = min(declared max, cap); says whether that changed anything */
function writeCapped (out: Writer, limits: Limits, cap: number, extraFlags: number): boolean {
  const max = limits.max === undefined ? cap : Math.min(limits.max, cap)
  const index64 = limits.index64 === true
  out.byte(0x01 | extraFlags | (index64 ? 0x04 : 0))
  if (index64) {
    out.u64(limits.min)
    out.u64(max)
  } else {
    out.u32(limits.min)
    out.u32(max)
  }
  return max !== limits.max
}

function section (id: number, body: Uint8Array): Uint8Array {
  const w = new Writer()
  w.byte(id)
  w.u32(body.length)
  w.bytes(body)
  return w.result()
}

function concat (pieces: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of pieces) {
    out.set(p, at)
    at += p.length
  }
  return out
}

class Writer {
  private readonly parts: number[] = []
  private readonly chunks: Uint8Array[] = []

  byte (b: number): void { this.parts.push(b) }

  u32 (n: number): void { this.u64(n) }

  u64 (n: number): void {
    let v = BigInt(n)
    do {
      let b = Number(v & 0x7fn)
      v >>= 7n
      if (v > 0n) b |= 0x80
      this.parts.push(b)
    } while (v > 0n)
  }

  bytes (b: Uint8Array): void {
    this.flush()
    this.chunks.push(b)
  }

  result (): Uint8Array {
    this.flush()
    return concat(this.chunks)
  }

  private flush (): void {
    if (this.parts.length > 0) {
      this.chunks.push(Uint8Array.from(this.parts))
      this.parts.length = 0
    }
  }
}
