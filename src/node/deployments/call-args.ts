import { WasmeshError } from '../../errors.ts'
import type { FunctionDescription } from '../../wasm/describe/description.ts'

const INTEGER_TEXT = /^-?[0-9]{1,20}$/
const NUMBER_TEXT = /^-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$/

/**
 * A call's arguments as the HTTP API takes them (SPEC.md): a JSON `{"args": [...]}`, or query
 * parameters named as in the description (or arg0, arg1...). Numbers stay numbers; integers
 * too big for them come as decimal strings. Pure.
 */
export function callArgs (query: Record<string, unknown>, jsonArgs: unknown, description: FunctionDescription | null): Array<number | string> {
  if (jsonArgs !== undefined) {
    if (!Array.isArray(jsonArgs)) throw new WasmeshError('bad-request', 'args: expected a JSON array of numbers', { field: 'args' })
    if (jsonArgs.length > 64) throw new WasmeshError('bad-request', 'args: at most 64 arguments', { field: 'args' })
    return jsonArgs.map((v, i) => argument(v, `args.${i}`))
  }
  const params = description?.parameters.map((p, i) => ({ name: p.name, alias: `arg${i}` }))
  if (params !== undefined) {
    return params.map(p => {
      const value = query[p.name] ?? query[p.alias]
      if (value === undefined) throw new WasmeshError('bad-request', `${p.name}: missing (a query parameter)`, { field: p.name })
      return argument(value, p.name)
    })
  }
  const args: Array<number | string> = []
  for (let i = 0; query[`arg${i}`] !== undefined && i < 64; i++) args.push(argument(query[`arg${i}`], `arg${i}`))
  return args
}

function argument (value: unknown, field: string): number | string {
  if (typeof value === 'number' && Number.isFinite(value)) return value
  if (typeof value === 'string') {
    const text = value.trim()
    if (INTEGER_TEXT.test(text)) {
      const n = Number(text)
      return Number.isSafeInteger(n) ? n : text
    }
    if (NUMBER_TEXT.test(text)) return Number(text)
  }
  throw new WasmeshError('bad-request', `${field}: expected a number, got ${JSON.stringify(value)?.slice(0, 40)}`, { field })
}
