/**
 * Turns a description as users write it into the canonical ModuleDescription, checked
 * against the module's exports. Two input shapes are accepted:
 *
 * - ours: `{functions: {FN: {method?, parameters?: [{name, type?}], result?, mounts?: [...]}}}`
 * - wasmiot's describe shape: `{FN: {method, param0: 'integer', ..., mounts, output}}`, where
 *   `parameters` may also be a list, `mounts` a list `[{name, stage, mediaType?}]` or an object
 *   `{name: {stage, mediaType?}}`, and `output` a type word or a media type.
 *
 * Per function the fields of both shapes are read by the same code, so mixing them is fine.
 * Unknown fields are ignored, as wasmiot does. Every rejection is a `bad-request` naming the
 * field (`functions.FN.parameters.0.type`, or `FN.param0` in wasmiot's shape).
 */
import { z } from 'zod'
import { WasmeshError } from '../../errors.ts'
import { isPlainObject } from '../../validation.ts'
import {
  CONTROL_CHARS, DEFAULT_MEDIA_TYPE, isNumberType, LIMITS, MEDIA_TYPE, METHODS, MOUNT_STAGES, outputMount
} from './description.ts'
import type {
  FunctionDescription, Method, ModuleDescription, MountDescription, MountStage, NumberType,
  ParameterDescription, ResultDescription
} from './description.ts'
import type { CoreValType, FuncSignature, ModuleInfo } from '../module-info.ts'

/** wasmiot's type words, and ours; `integer` and `float` take their width from the signature. */
const TYPE_WORDS = 'integer, float, i32, i64, f32 or f64'
const PARAM_KEY = /^param(0|[1-9][0-9]*)$/

function fail (field: string, message: string): never {
  throw new WasmeshError('bad-request', `description: ${field}: ${message}`, { field })
}

/** zod for the JSON shapes; the field in the error is the full path from the description's root. */
function parseAt<S extends z.ZodType> (schema: S, value: unknown, field: string): z.infer<S> {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  const issue = result.error.issues[0]
  fail([field, ...issue.path.map(String)].join('.'), issue.message)
}

const functionFieldsSchema = z.object({
  method: z.string().optional(),
  parameters: z.array(z.object({ name: z.string(), type: z.string().optional() }))
    .max(LIMITS.parameters, `at most ${LIMITS.parameters} parameters`).optional(),
  output: z.string().optional()
})
const mountListSchema = z.array(z.object({ name: z.string(), stage: z.string(), mediaType: z.string().optional() }))
  .max(LIMITS.mounts, `at most ${LIMITS.mounts} mounts`)
const mountMapSchema = z.record(z.string(), z.object({ stage: z.string(), mediaType: z.string().optional() }))
  .refine(m => Object.keys(m).length <= LIMITS.mounts, `at most ${LIMITS.mounts} mounts`)
const resultSchema = z.union([
  z.null(),
  z.object({ type: z.string() }).strict(),
  z.object({ mediaType: z.string() }).strict()
], { error: 'expected null, {"type": ...} or {"mediaType": ...}' })

export function normalizeDescription (input: unknown, info: ModuleInfo): ModuleDescription {
  const { entries, prefix } = functionEntries(input)
  if (entries.length > LIMITS.functions) {
    fail(prefix === '' ? '(root)' : 'functions', `at most ${LIMITS.functions} functions (got ${entries.length})`)
  }
  // fromEntries, not assignment: an export may be called `__proto__`.
  return {
    functions: Object.fromEntries(entries.map(([fn, raw]) => {
      const field = prefix + fn
      checkName(fn, field, 'function name')
      return [fn, normalizeFunction(fn, raw, exportSignature(info, fn, field), field)]
    }))
  }
}

/** Which shape this is, and its (function name, description) pairs. */
function functionEntries (input: unknown): { entries: Array<[string, unknown]>, prefix: string } {
  if (!isPlainObject(input)) fail('(root)', 'expected an object mapping function names to their descriptions')
  const fns = Object.hasOwn(input, 'functions') ? input.functions : undefined
  // wasmiot's shape may describe an export called `functions`; its description has a string
  // `method` or a list, ours maps names to objects only.
  if (isPlainObject(fns) && Object.values(fns).every(isPlainObject)) {
    const other = Object.keys(input).find(k => k !== 'functions')
    if (other !== undefined) fail(other, 'unknown field (a description is {"functions": {...}})')
    return { entries: Object.entries(fns), prefix: 'functions.' }
  }
  return { entries: Object.entries(input), prefix: '' }
}

function exportSignature (info: ModuleInfo, fn: string, field: string): FuncSignature {
  const exp = info.exports.find(e => e.name === fn)
  if (exp?.kind === 'function') return exp.signature
  const names = info.exports.filter(e => e.kind === 'function').map(e => e.name)
  const known = names.length === 0 ? 'it exports no functions' : `its functions: ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', ...' : ''}`
  fail(field, `"${fn}" is not a function export of the module (${known})`)
}

function checkName (name: string, field: string, what: string): void {
  if (name.length === 0) fail(field, `${what} must not be empty`)
  if (name.length > LIMITS.nameLength) fail(field, `${what} is longer than ${LIMITS.nameLength} characters`)
  if (CONTROL_CHARS.test(name)) fail(field, `${what} ${JSON.stringify(name)} contains control characters`)
}

function normalizeFunction (fn: string, raw: unknown, sig: FuncSignature, field: string): FunctionDescription {
  if (!isPlainObject(raw)) fail(field, `the description of function "${fn}" must be an object`)
  const fields = parseAt(functionFieldsSchema, raw, field)
  const declaredMediaType = fields.output ?? (isPlainObject(raw.result) && typeof raw.result.mediaType === 'string' ? raw.result.mediaType : undefined)
  const mounts = normalizeMounts(raw.mounts, declaredMediaType, `${field}.mounts`)
  const parameters = normalizeParameters(fn, raw, fields.parameters, sig, field)
  const result = normalizeResult(fn, raw, fields.output, mounts, sig, field)
  return { method: normalizeMethod(fields.method, mounts, `${field}.method`), parameters, result, mounts }
}

function normalizeMethod (given: string | undefined, mounts: MountDescription[], field: string): Method {
  const execution = mounts.find(m => m.stage === 'execution')
  if (given === undefined) return execution === undefined ? 'get' : 'post'
  const method = given.toLowerCase()
  if (!(METHODS as readonly string[]).includes(method)) fail(field, `method "${given}" is neither GET nor POST`)
  if (method === 'get' && execution !== undefined) {
    fail(field, `GET cannot carry the execution-stage mount "${execution.name}": its file needs a request body, use POST`)
  }
  return method as Method
}

function normalizeParameters (
  fn: string, raw: Record<string, unknown>, list: Array<{ name: string, type?: string }> | undefined,
  sig: FuncSignature, field: string
): ParameterDescription[] {
  const keyed = Object.keys(raw).filter(k => PARAM_KEY.test(k))
  if (list !== undefined && keyed.length > 0) fail(`${field}.${keyed[0]}`, 'give "parameters" or param0, param1..., not both')
  let given: Array<{ name: string, type?: string, field: string }>
  let listField = `${field}.parameters`
  if (list !== undefined) {
    given = list.map((p, i) => ({ ...p, field: `${field}.parameters.${i}` }))
  } else if (keyed.length > 0) {
    if (keyed.length > LIMITS.parameters) fail(field, `at most ${LIMITS.parameters} parameters`)
    const sorted = keyed.sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)))
    sorted.forEach((k, i) => { if (k !== `param${i}`) fail(`${field}.param${i}`, `param${i} is missing (parameters are param0, param1, ... in order)`) })
    given = sorted.map(k => {
      const type = raw[k]
      if (typeof type !== 'string') fail(`${field}.${k}`, `expected a type word (${TYPE_WORDS})`)
      return { name: k, type, field: `${field}.${k}` }
    })
    listField = field
  } else {
    // Not described: the SPEC's default names, types from the signature.
    given = sig.params.map((_, i) => ({ name: `arg${i}`, field: `${field}.parameters` }))
  }

  if (given.length !== sig.params.length) {
    fail(listField, `function "${fn}" takes ${sig.params.length} parameter(s) (${sig.params.join(', ') || 'none'}) but the description gives ${given.length}`)
  }
  const seen = new Set<string>()
  return given.map((p, i) => {
    checkName(p.name, `${p.field}.name`, 'parameter name')
    if (seen.has(p.name)) fail(`${p.field}.name`, `duplicate parameter name "${p.name}"`)
    seen.add(p.name)
    const actual = sig.params[i]
    if (!isNumberType(actual)) fail(p.field, `parameter "${p.name}" of "${fn}" is ${actual} in the signature, which cannot be passed over HTTP`)
    const type = p.type === undefined ? actual : resolveType(p.type, actual, `${p.field}${list !== undefined ? '.type' : ''}`, `parameter "${p.name}"`)
    return { name: p.name, type }
  })
}

/** A type word checked against the signature's type: the signature is the truth, the word must agree. */
function resolveType (word: string, actual: CoreValType, field: string, what: string): NumberType {
  const w = word.toLowerCase()
  let agrees: boolean
  if (w === 'integer') agrees = actual === 'i32' || actual === 'i64'
  else if (w === 'float') agrees = actual === 'f32' || actual === 'f64'
  else if (isNumberType(w)) agrees = w === actual
  else fail(field, `${what}: unknown type "${word}" (expected ${TYPE_WORDS})`)
  if (!agrees) fail(field, `${what} is declared "${word}" but the export's signature says ${actual}`)
  return actual as NumberType
}

/** `declared`: the function's declared answer (wasmiot's `output`), the output mount's media type when it gives none. */
function normalizeMounts (raw: unknown, declared: string | undefined, field: string): MountDescription[] {
  if (raw === undefined) return []
  let given: Array<{ name: string, stage: string, mediaType?: string, field: string }>
  if (Array.isArray(raw)) {
    given = parseAt(mountListSchema, raw, field).map((m, i) => ({ ...m, field: `${field}.${i}` }))
  } else if (isPlainObject(raw)) {
    given = Object.entries(parseAt(mountMapSchema, raw, field)).map(([name, m]) => ({ name, ...m, field: `${field}.${name}` }))
  } else {
    fail(field, 'expected a list [{name, stage, mediaType?}] or an object {NAME: {stage, mediaType?}}')
  }

  // wasmiot gives an output file's media type as the function's `output`.
  const outputMediaType = declared !== undefined && declared.includes('/') ? declared : undefined
  const seen = new Set<string>()
  const mounts = given.map((m): MountDescription => {
    checkMountName(m.name, `${m.field}.name`)
    if (seen.has(m.name)) fail(`${m.field}.name`, `duplicate mount name "${m.name}"`)
    seen.add(m.name)
    const stage = m.stage.toLowerCase()
    if (!(MOUNT_STAGES as readonly string[]).includes(stage)) {
      fail(`${m.field}.stage`, `mount "${m.name}": stage "${m.stage}" is not one of ${MOUNT_STAGES.join(', ')}`)
    }
    const fallback = stage === 'output' && outputMediaType !== undefined ? outputMediaType : DEFAULT_MEDIA_TYPE
    const mediaType = checkMediaType(m.mediaType ?? fallback, `${m.field}${m.mediaType !== undefined ? '.mediaType' : ''}`)
    return { name: m.name, mediaType, stage: stage as MountStage }
  })
  const outputs = mounts.filter(m => m.stage === 'output')
  if (outputs.length > 1) fail(field, `at most one output-stage mount (the answer is one file), got ${outputs.map(m => `"${m.name}"`).join(', ')}`)
  return mounts
}

/** Mount names become file names in the module's sandbox: relative, and never climbing out. */
function checkMountName (name: string, field: string): void {
  checkName(name, field, 'mount name')
  if (name.startsWith('/') || name.includes('\\') || name.split('/').some(s => s === '..')) {
    fail(field, `mount name "${name}" must be a relative path without ".." or "\\"`)
  }
}

function checkMediaType (given: string, field: string): string {
  const mediaType = given.toLowerCase()
  if (!MEDIA_TYPE.test(mediaType)) fail(field, `"${given}" is not a media type "type/subtype"`)
  return mediaType
}

/**
 * The answer: the output mount's file when there is one; else the declared number type or
 * null; else what the signature returns. A declared type must agree with the signature.
 */
function normalizeResult (
  fn: string, raw: Record<string, unknown>, output: string | undefined, mounts: MountDescription[],
  sig: FuncSignature, field: string
): ResultDescription {
  if (output !== undefined && Object.hasOwn(raw, 'result')) fail(`${field}.output`, 'give "result" or "output", not both')
  const outMount = outputMount({ mounts })

  let declared: ResultDescription | undefined
  let declaredField = `${field}.output`
  if (Object.hasOwn(raw, 'result')) {
    const result = parseAt(resultSchema, raw.result, `${field}.result`)
    declaredField = `${field}.result${result === null ? '' : 'type' in result ? '.type' : '.mediaType'}`
    declared = result === null
      ? null
      : 'type' in result
        ? { type: declaredType(fn, result.type, sig, declaredField) }
        : { mediaType: checkMediaType(result.mediaType, declaredField) }
  } else if (output !== undefined) {
    declared = output.includes('/')
      ? { mediaType: checkMediaType(output, declaredField) }
      : { type: declaredType(fn, output, sig, declaredField) }
  }

  if (declared !== null && declared !== undefined && 'mediaType' in declared) {
    if (outMount === undefined) {
      fail(declaredField, `function "${fn}" answers a file of type ${declared.mediaType} but has no output-stage mount to read it from`)
    }
    if (outMount.mediaType !== declared.mediaType) {
      fail(declaredField, `the answer's media type ${declared.mediaType} contradicts output mount "${outMount.name}" (${outMount.mediaType})`)
    }
  }
  if (outMount !== undefined) return { mediaType: outMount.mediaType }
  if (declared !== undefined) return declared
  if (sig.results.length === 0) return null
  if (sig.results.length > 1) {
    fail(field, `function "${fn}" returns ${sig.results.length} values; only one can be answered (describe "result": null or an output mount)`)
  }
  const type = sig.results[0]
  if (!isNumberType(type)) fail(field, `function "${fn}" returns ${type}, which cannot be answered over HTTP (describe "result": null)`)
  return { type }
}

function declaredType (fn: string, word: string, sig: FuncSignature, field: string): NumberType {
  if (sig.results.length !== 1) {
    fail(field, `function "${fn}" is declared to return "${word}" but its signature returns ${sig.results.length === 0 ? 'nothing' : `${sig.results.length} values`}`)
  }
  return resolveType(word, sig.results[0], field, `the result of "${fn}"`)
}
