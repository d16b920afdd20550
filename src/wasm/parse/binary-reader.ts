import { WasmeshError } from '../../errors.ts'

// ignoreBOM keeps a leading U+FEFF: it is part of a WebAssembly name, not a marker to drop.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * A cursor over a WebAssembly binary, never past `end`. Every read is bounds-checked and
 * every failure is a WasmeshError('invalid-module', '... at offset N') with N absolute in
 * the whole binary (sub-readers share the bytes), so a bad upload never crashes or hangs
 * the parser and the message points at the culprit byte.
 */
export class BinaryReader {
  readonly bytes: Uint8Array
  pos: number
  readonly end: number

  constructor (bytes: Uint8Array, start = 0, end = bytes.length) {
    this.bytes = bytes
    this.pos = start
    this.end = end
  }

  get remaining (): number {
    return this.end - this.pos
  }

  atEnd (): boolean {
    return this.pos >= this.end
  }

  fail (message: string, at = this.pos): never {
    throw new WasmeshError('invalid-module', `${message} at offset ${at}`, { offset: at })
  }

  u8 (): number {
    if (this.pos >= this.end) this.fail('unexpected end')
    return this.bytes[this.pos++]
  }

  peek (): number {
    if (this.pos >= this.end) this.fail('unexpected end')
    return this.bytes[this.pos]
  }

  /** unsigned LEB128, at most 5 bytes, unused bits of the last byte zero (as the spec demands) */
  u32 (): number {
    const start = this.pos
    let b = this.u8()
    if (b < 0x80) return b
    let result = b & 0x7f
    for (let shift = 7; shift < 35; shift += 7) {
      b = this.u8()
      if (shift === 28 && (b & 0xf0) !== 0) this.fail('u32 LEB128 too long or out of range', start)
      // multiplication rather than << keeps the result unsigned past 2^31
      result += (b & 0x7f) * 2 ** shift
      if (b < 0x80) return result
    }
    return this.fail('u32 LEB128 too long', start)
  }

  /** unsigned LEB128 up to 64 bits, at most 10 bytes */
  u64 (): bigint {
    const start = this.pos
    let result = 0n
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const b = this.u8()
      if (shift === 63n && (b & 0xfe) !== 0) this.fail('u64 LEB128 too long or out of range', start)
      result |= BigInt(b & 0x7f) << shift
      if (b < 0x80) return result
    }
    return this.fail('u64 LEB128 too long', start)
  }

  /** a u64 that must fit a JS number exactly (memory64 limits); beyond 2^53 no host could honour it anyway */
  u64Number (): number {
    const start = this.pos
    const value = this.u64()
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`value ${value} too large`, start)
    return Number(value)
  }

  /** skips a LEB128 of any signedness (const-expr immediates we never need the value of) */
  skipLeb (maxBytes: number): void {
    const start = this.pos
    for (let i = 0; i < maxBytes; i++) {
      if (this.u8() < 0x80) return
    }
    this.fail('LEB128 too long', start)
  }

  skip (n: number): void {
    if (n > this.remaining) this.fail(`${n} bytes needed, ${this.remaining} left`)
    this.pos += n
  }

  take (n: number): Uint8Array {
    const start = this.pos
    this.skip(n)
    return this.bytes.subarray(start, start + n)
  }

  /** a reader over the next n bytes; this one moves past them */
  sub (n: number): BinaryReader {
    const start = this.pos
    this.skip(n)
    return new BinaryReader(this.bytes, start, start + n)
  }

  /** The next section (core module or component): its id, where it starts, a reader over its body. */
  section (): { id: number, at: number, body: BinaryReader } {
    const at = this.pos
    const id = this.u8()
    const sizeAt = this.pos
    const size = this.u32()
    if (size > this.remaining) this.fail(`section ${id} of ${size} bytes runs past the end (${this.remaining} bytes left)`, sizeAt)
    return { id, at, body: this.sub(size) }
  }

  /**
   * A vector's length. Every element takes at least one byte, so a count above the bytes
   * left is malformed: refusing it early stops a forged count from driving a long loop or
   * a huge allocation.
   */
  count (): number {
    const start = this.pos
    const n = this.u32()
    if (n > this.remaining) this.fail(`count ${n} exceeds the ${this.remaining} bytes left`, start)
    return n
  }

  /** a length-prefixed UTF-8 name, validated */
  name (): string {
    const start = this.pos
    const length = this.u32()
    if (length > this.remaining) this.fail(`name of ${length} bytes exceeds the ${this.remaining} bytes left`, start)
    const from = this.pos
    const to = from + length
    this.pos = to
    // most names are short ASCII: building them by hand beats TextDecoder's call overhead
    if (length <= 64) {
      let s = ''
      let i = from
      for (; i < to; i++) {
        const b = this.bytes[i]
        if (b >= 0x80) break
        s += String.fromCharCode(b)
      }
      if (i === to) return s
    }
    try {
      return utf8.decode(this.bytes.subarray(from, to))
    } catch {
      return this.fail('name is not valid UTF-8', start)
    }
  }
}
