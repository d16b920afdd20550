import type { BinaryReader } from './binary-reader.ts'
import type { CoreValType, FuncSignature, Limits } from '../module-info.ts'

/**
 * The encodings of core types that appear in imports, exports and definitions. Only what
 * ModuleInfo can describe is accepted; typed references and GC types are refused with a
 * clear message rather than misdescribed, since no signature of ours could carry them.
 */

const REF_NULL = 0x63
const REF = 0x64
const FUNCREF = 0x70
const EXTERNREF = 0x6f

export function readValType (r: BinaryReader): CoreValType {
  const at = r.pos
  const b = r.u8()
  switch (b) {
    case 0x7f: return 'i32'
    case 0x7e: return 'i64'
    case 0x7d: return 'f32'
    case 0x7c: return 'f64'
    case 0x7b: return 'v128'
    case FUNCREF: return 'funcref'
    case EXTERNREF: return 'externref'
    case REF_NULL: return nullableAbstractRef(r, at)
    case REF: return r.fail('non-nullable reference types are not supported', at)
    default: return r.fail(`unsupported value type 0x${hex(b)}`, at)
  }
}

/** `(ref null func)` and `(ref null extern)` are funcref and externref spelled long */
function nullableAbstractRef (r: BinaryReader, at: number): CoreValType {
  const heap = r.u8()
  if (heap === FUNCREF) return 'funcref'
  if (heap === EXTERNREF) return 'externref'
  return r.fail('typed or GC reference types are not supported', at)
}

export function readRefType (r: BinaryReader): CoreValType {
  const at = r.pos
  const type = readValType(r)
  if (type !== 'funcref' && type !== 'externref') r.fail(`table element type must be a reference, not ${type}`, at)
  return type
}

export function readFuncType (r: BinaryReader): FuncSignature {
  const at = r.pos
  const form = r.u8()
  if (form !== 0x60) {
    // 0x4e rec, 0x50 sub, 0x4f sub final, 0x5f struct, 0x5e array
    if (form === 0x4e || form === 0x50 || form === 0x4f || form === 0x5f || form === 0x5e) {
      r.fail('GC type definitions (rec, sub, struct, array) are not supported', at)
    }
    r.fail(`unknown type form 0x${hex(form)}`, at)
  }
  return { params: readValTypes(r), results: readValTypes(r) }
}

function readValTypes (r: BinaryReader): CoreValType[] {
  const n = r.count()
  const types: CoreValType[] = new Array(n)
  for (let i = 0; i < n; i++) types[i] = readValType(r)
  return types
}

/**
 * Memory limits: flag bit 0 = has max, bit 1 = shared (threads), bit 2 = 64-bit index
 * (memory64, whose bounds are u64). Larger flags (custom page sizes, ...) are refused.
 */
export function readMemoryLimits (r: BinaryReader): Limits {
  const at = r.pos
  const flags = r.u8()
  if (flags > 0x07) r.fail(`unknown memory limits flags 0x${hex(flags)}`, at)
  return readBounds(r, flags)
}

/** Table limits: bit 0 = has max, bit 2 = table64; shared tables are no standard yet. */
export function readTableLimits (r: BinaryReader): Limits {
  const at = r.pos
  const flags = r.u8()
  if ((flags & ~0x05) !== 0) r.fail(`unknown table limits flags 0x${hex(flags)}`, at)
  return readBounds(r, flags)
}

function readBounds (r: BinaryReader, flags: number): Limits {
  const index64 = (flags & 0x04) !== 0
  const min = index64 ? r.u64Number() : r.u32()
  const limits: Limits = { min }
  if ((flags & 0x01) !== 0) limits.max = index64 ? r.u64Number() : r.u32()
  if ((flags & 0x02) !== 0) limits.shared = true
  if (index64) limits.index64 = true
  return limits
}

export function readTableType (r: BinaryReader): { element: CoreValType, limits: Limits } {
  const element = readRefType(r)
  return { element, limits: readTableLimits(r) }
}

export function readGlobalType (r: BinaryReader): { type: CoreValType, mutable: boolean } {
  const type = readValType(r)
  const at = r.pos
  const mut = r.u8()
  if (mut > 1) r.fail(`invalid global mutability 0x${hex(mut)}`, at)
  return { type, mutable: mut === 1 }
}

/**
 * Steps over a constant expression up to its `end` (0x0b). Constant expressions hold no
 * blocks, so the first `end` closes it; each loop turn consumes at least one byte, so it
 * stops at the reader's end at the latest. Operators allowed: the spec's, extended-const's
 * arithmetic and v128.const; anything else is refused.
 */
export function skipConstExpr (r: BinaryReader): void {
  for (;;) {
    const at = r.pos
    const op = r.u8()
    switch (op) {
      case 0x0b: return // end
      case 0x41: r.skipLeb(5); break // i32.const
      case 0x42: r.skipLeb(10); break // i64.const
      case 0x43: r.skip(4); break // f32.const
      case 0x44: r.skip(8); break // f64.const
      case 0x23: r.u32(); break // global.get
      case 0xd2: r.u32(); break // ref.func
      case 0xd0: r.skipLeb(5); break // ref.null heaptype (s33)
      case 0x6a: case 0x6b: case 0x6c: // i32.add, i32.sub, i32.mul
      case 0x7c: case 0x7d: case 0x7e: // i64.add, i64.sub, i64.mul
        break
      case 0xfd: { // SIMD prefix: only v128.const (12) is constant
        const sub = r.u32()
        if (sub !== 12) r.fail(`opcode 0xfd ${sub} is not allowed in a constant expression`, at)
        r.skip(16)
        break
      }
      default: r.fail(`opcode 0x${hex(op)} is not allowed in a constant expression`, at)
    }
  }
}

export function hex (b: number): string {
  return b.toString(16).padStart(2, '0')
}
