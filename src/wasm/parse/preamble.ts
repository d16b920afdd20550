import { BinaryReader } from './binary-reader.ts'

/**
 * The 8-byte preamble: `\0asm`, then a version that tells a core module (1, layer 0) from
 * a component (0x0d, layer 1). Both share the magic, so reading the rest right depends on it.
 */
export type BinaryKind = 'core' | 'component'

const MAGIC = [0x00, 0x61, 0x73, 0x6d]
const CORE = [0x01, 0x00, 0x00, 0x00]
const COMPONENT = [0x0d, 0x00, 0x01, 0x00]

/** what the bytes claim to be; anything else is an invalid module */
export function readPreamble (r: BinaryReader): BinaryKind {
  const at = r.pos
  if (r.remaining < 8) r.fail(`${r.remaining} bytes are too short for a WebAssembly preamble`, at)
  for (let i = 0; i < 4; i++) {
    if (r.bytes[at + i] !== MAGIC[i]) r.fail('no WebAssembly magic number (\\0asm)', at)
  }
  r.pos = at + 8
  if (matches(r.bytes, at + 4, CORE)) return 'core'
  if (matches(r.bytes, at + 4, COMPONENT)) return 'component'
  return r.fail(`unsupported version and layer ${Array.from(r.bytes.subarray(at + 4, at + 8), b => b.toString(16).padStart(2, '0')).join(' ')}`, at + 4)
}

/** the same decision without throwing: used to pick a validator before parsing */
export function isComponent (bytes: Uint8Array): boolean {
  return bytes.length >= 8 && matches(bytes, 0, MAGIC) && matches(bytes, 4, COMPONENT)
}

export function binaryKind (bytes: Uint8Array): BinaryKind {
  return readPreamble(new BinaryReader(bytes))
}

function matches (bytes: Uint8Array, at: number, expected: number[]): boolean {
  for (let i = 0; i < expected.length; i++) {
    if (bytes[at + i] !== expected[i]) return false
  }
  return true
}
