import { WasmeshError } from './errors.ts'
import type { z } from 'zod'

/** Parses `value` with `schema`, or throws a `bad-request` naming the first offending field. */
export function parseOrBadRequest<S extends z.ZodType> (schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  const issue = result.error.issues[0]
  const field = issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)'
  throw new WasmeshError('bad-request', `${what}: ${field}: ${issue.message}`, { field })
}

/** JSON.parse that throws a `bad-request` instead of a SyntaxError. */
export function parseJson (text: string, what: string): unknown {
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new WasmeshError('bad-request', `${what}: not valid JSON (${(err as Error).message})`)
  }
}

/** A JSON object: not null, not an array. */
export function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
