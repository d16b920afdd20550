import { WasmeshError } from '../../errors.ts'
import type { CoreValType } from '../module-info.ts'

/**
 * Arguments as users give them (CLI words, query strings, JSON numbers; 64-bit integers as
 * strings) made into what a core export takes: i32 and floats as numbers, i64 as BigInt.
 * Anything that is not a number of the parameter's type is `bad-request` naming the
 * argument, never a silent NaN or a wrapped integer.
 */
export function coerceArgs (params: readonly CoreValType[], args: readonly unknown[], fn: string): Array<number | bigint> {
  if (args.length !== params.length) {
    throw new WasmeshError('bad-request', `${fn} takes ${params.length} argument${params.length === 1 ? '' : 's'} (${params.join(', ')}), not ${args.length}`, { field: 'args' })
  }
  return params.map((type, i) => coerce(type, args[i], `arg${i}`, fn))
}

const INT = /^[+-]?(?:0|[1-9][0-9]*)$/
const I32_MIN = -(2 ** 31)
const U32_MAX = 2 ** 32 - 1

function coerce (type: CoreValType, raw: unknown, name: string, fn: string): number | bigint {
  const bad = (why: string): never => {
    throw new WasmeshError('bad-request', `${fn}: ${name} ${why}`, { field: name })
  }
  // the hot path (every call through a GuestInstance): values already of the right kind
  if (typeof raw === 'number' && (type === 'f32' || type === 'f64')) return raw
  if (typeof raw === 'number' && type === 'i32' && Number.isInteger(raw) && raw >= I32_MIN && raw <= U32_MAX) return raw | 0
  if (typeof raw === 'bigint' && type === 'i64' && BigInt.asIntN(64, raw) === raw) return raw
  if (typeof raw !== 'number' && typeof raw !== 'string' && typeof raw !== 'bigint') bad(`must be a number, not ${raw === null ? 'null' : typeof raw}`)
  const text = String(raw).trim()
  switch (type) {
    case 'i32': {
      if (!INT.test(text)) bad(`must be an integer, not "${text}"`)
      const n = Number(text)
      // unsigned values up to 2^32-1 are the same bits as negative i32s, as wasmtime accepts them
      if (n < I32_MIN || n > U32_MAX) bad(`${text} does not fit an i32`)
      return n | 0
    }
    case 'i64': {
      if (!INT.test(text)) bad(`must be an integer, not "${text}"`)
      const n = BigInt(text)
      if (n < -(2n ** 63n) || n > 2n ** 64n - 1n) bad(`${text} does not fit an i64`)
      return BigInt.asIntN(64, n)
    }
    case 'f32':
    case 'f64': {
      const n = typeof raw === 'number' ? raw : text === '' ? NaN : Number(text)
      if (Number.isNaN(n) && !/^[+-]?nan$/i.test(text)) bad(`must be a number, not "${text}"`)
      return n
    }
    default:
      return bad(`has type ${type}, which cannot be given from outside`)
  }
}
