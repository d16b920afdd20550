/**
 * The OpenAPI document of a module's call endpoints, `GET /modules/{cid|name}/openapi`.
 *
 * OpenAPI 3.0.3, not 3.1: 3.1's Schema Objects are full JSON Schema and validators (ours
 * included) only check they are objects, while 3.0's are a fixed vocabulary that gets checked
 * field by field. wasmiot serves 3.0 too, so its tooling reads ours.
 */
import { ERROR_CODES } from '../../errors.ts'
import { isNumberType } from './description.ts'
import type { FunctionDescription, ModuleDescription, NumberType } from './description.ts'
import type { FuncSignature, ModuleInfo } from '../module-info.ts'

export const OPENAPI_VERSION = '3.0.3'

export type Schema = Record<string, unknown>

export type OpenApiParameter = {
  name: string
  in: 'query' | 'path'
  required: boolean
  description?: string
  schema: Schema
}

export type OpenApiMediaType = { schema: Schema, encoding?: Record<string, { contentType: string }> }

export type OpenApiOperation = {
  operationId: string
  summary: string
  description?: string
  parameters: OpenApiParameter[]
  requestBody?: { required: boolean, content: Record<string, OpenApiMediaType> }
  responses: Record<string, { description: string, content: Record<string, OpenApiMediaType> } | { $ref: string }>
}

export type OpenApiPathItem = { parameters: Array<{ $ref: string }>, get?: OpenApiOperation, post?: OpenApiOperation }

export type OpenApiDocument = {
  openapi: typeof OPENAPI_VERSION
  info: { title: string, version: string, description: string }
  servers?: Array<{ url: string }>
  paths: Record<string, OpenApiPathItem>
  components: {
    schemas: Record<string, Schema>
    parameters: Record<string, OpenApiParameter>
    responses: Record<string, { description: string, content: Record<string, OpenApiMediaType> }>
  }
}

export interface ModuleOpenApiArgs {
  /** the module's name, or its CID when it has none: the `{module}` of the call path */
  name: string
  cid: string
  info: ModuleInfo
  description?: ModuleDescription
  /** the node's HTTP URL, e.g. `http://192.168.1.20:8080` */
  serverUrl?: string
}

/** Error answers every call may give, SPEC's statuses for them. */
const ERROR_RESPONSES = {
  400: ['BadRequest', 'malformed arguments or a missing execution-stage file (bad-request)'],
  404: ['NotFound', 'unknown deployment, module, step or function (not-found)'],
  500: ['Trap', 'the guest trapped or exhausted its memory limit (trap)'],
  504: ['Timeout', 'the call ran past its time limit (timeout)']
} as const

export function moduleOpenApi (args: ModuleOpenApiArgs): OpenApiDocument {
  const functions = args.description?.functions ?? defaultFunctions(args.info)
  const operationIds = new Set<string>()
  const paths: Record<string, OpenApiPathItem> = {}
  for (const [fn, d] of Object.entries(functions)) {
    // Names are literal path segments: encoded, so a `/` or `{` in them cannot change the template.
    const path = `/{deployment}/modules/${encodeURIComponent(args.name)}/${encodeURIComponent(fn)}`
    const item: OpenApiPathItem = { parameters: [{ $ref: '#/components/parameters/deployment' }] }
    item[d.method] = operation(fn, d, operationIds)
    paths[path] = item
  }
  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: args.name,
      version: args.cid === '' ? '1' : args.cid,
      description: `Calls to the exported functions of WebAssembly module ${args.cid}, through any wasmesh node.` +
        (args.description === undefined ? ' The module has no description: every function is a GET with arguments arg0, arg1...' : '')
    },
    ...(args.serverUrl === undefined ? {} : { servers: [{ url: args.serverUrl }] }),
    paths,
    components: {
      schemas: { Error: errorSchema() },
      parameters: {
        deployment: { name: 'deployment', in: 'path', required: true, description: 'the deployment id', schema: { type: 'string' } }
      },
      responses: errorResponses()
    }
  }
}

export interface DeploymentOpenApiArgs {
  id: string
  name: string
  steps: ReadonlyArray<{ module: string, function: string, description: FunctionDescription | null }>
  serverUrl?: string
}

/**
 * The OpenAPI document of a deployment, `GET /deployments/{id}/openapi`: a call may enter at
 * any step (with that step's arguments and files) and answers with the last step's result.
 */
export function deploymentOpenApi (args: DeploymentOpenApiArgs): OpenApiDocument {
  const last = args.steps[args.steps.length - 1].description
  const operationIds = new Set<string>()
  const paths: Record<string, OpenApiPathItem> = {}
  for (const step of args.steps) {
    if (step.description === null) continue
    const path = `/${encodeURIComponent(args.id)}/modules/${encodeURIComponent(step.module)}/${encodeURIComponent(step.function)}`
    const op = operation(step.function, step.description, operationIds)
    if (last !== null) op.responses[200] = success(last)
    paths[path] = { parameters: [], [step.description.method]: op }
  }
  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: args.name,
      version: args.id,
      description: `Deployment ${args.id} (${args.steps.map(s => `${s.module}.${s.function}`).join(' -> ')}), callable through any wasmesh node; each call runs the steps from the one it names to the last.`
    },
    ...(args.serverUrl === undefined ? {} : { servers: [{ url: args.serverUrl }] }),
    paths,
    components: {
      schemas: { Error: errorSchema() },
      parameters: {},
      responses: errorResponses()
    }
  }
}

/**
 * Without a description every exported function that numbers can call is a GET with
 * arguments arg0, arg1... and its signature's result. Others (v128, references, several
 * results) cannot be called over HTTP and are left out.
 */
export function defaultFunctions (info: ModuleInfo): Record<string, FunctionDescription> {
  const entries: Array<[string, FunctionDescription]> = []
  for (const e of info.exports) {
    if (e.kind !== 'function' || !callable(e.signature)) continue
    entries.push([e.name, {
      method: 'get',
      parameters: e.signature.params.map((type, i) => ({ name: `arg${i}`, type: type as NumberType })),
      result: e.signature.results.length === 0 ? null : { type: e.signature.results[0] as NumberType },
      mounts: []
    }])
  }
  return Object.fromEntries(entries)
}

function callable (sig: FuncSignature): boolean {
  return sig.params.every(isNumberType) && sig.results.length <= 1 && sig.results.every(isNumberType)
}

function operation (fn: string, d: FunctionDescription, taken: Set<string>): OpenApiOperation {
  const execution = d.mounts.filter(m => m.stage === 'execution')
  const deployment = d.mounts.filter(m => m.stage === 'deployment')
  // With files the body is multipart and the arguments can only be in the query; without,
  // a POST may carry them as {"args": [...]} instead.
  const queryRequired = d.method === 'get' || execution.length > 0
  const op: OpenApiOperation = {
    operationId: operationId(fn, taken),
    summary: `Call ${fn}`,
    parameters: d.parameters.map(p => ({
      name: p.name,
      in: 'query',
      required: queryRequired,
      description: `${p.type}${p.type === 'i64' ? ' (may be given as a decimal string)' : ''}`,
      schema: numberSchema(p.type)
    })),
    responses: {
      200: success(d),
      ...Object.fromEntries(Object.entries(ERROR_RESPONSES).map(([status, [name]]) => [status, { $ref: `#/components/responses/${name}` }]))
    }
  }
  if (deployment.length > 0) {
    op.description = `Reads the files given when the module was described: ${deployment.map(m => m.name).join(', ')}.`
  }
  if (execution.length > 0) {
    op.requestBody = {
      required: true,
      content: {
        'multipart/form-data': {
          schema: {
            type: 'object',
            properties: Object.fromEntries(execution.map(m => [m.name, { type: 'string', format: 'binary' }])),
            required: execution.map(m => m.name)
          },
          encoding: Object.fromEntries(execution.map(m => [m.name, { contentType: m.mediaType }]))
        }
      }
    }
  } else if (d.method === 'post' && d.parameters.length > 0) {
    op.requestBody = {
      required: false,
      content: {
        'application/json': {
          schema: {
            type: 'object',
            properties: {
              args: {
                type: 'array',
                description: `the arguments in order: ${d.parameters.map(p => `${p.name} (${p.type})`).join(', ')}`,
                minItems: d.parameters.length,
                maxItems: d.parameters.length,
                items: { oneOf: [{ type: 'number' }, { type: 'string', pattern: '^-?[0-9]+$' }] }
              }
            },
            required: ['args']
          }
        }
      }
    }
  }
  return op
}

function success (d: FunctionDescription): { description: string, content: Record<string, OpenApiMediaType> } {
  const result = d.result
  if (result !== null && 'mediaType' in result) {
    return { description: 'the file the function wrote', content: { [result.mediaType]: { schema: { type: 'string', format: 'binary' } } } }
  }
  const value = result === null
    ? { description: 'always null: the function answers nothing', nullable: true, enum: [null] }
    : numberSchema(result.type)
  return {
    description: result === null ? 'the call completed' : `the function's ${result.type} result`,
    content: {
      'application/json': {
        schema: { type: 'object', properties: { result: value }, required: ['result'] }
      }
    }
  }
}

/** 64-bit integers also as decimal strings: JSON numbers lose precision past 2^53. */
export function numberSchema (type: NumberType): Schema {
  switch (type) {
    case 'i32': return { type: 'integer', format: 'int32' }
    case 'i64': return { oneOf: [{ type: 'integer', format: 'int64' }, { type: 'string', pattern: '^-?[0-9]+$' }] }
    case 'f32': return { type: 'number', format: 'float' }
    case 'f64': return { type: 'number', format: 'double' }
  }
}

/** An identifier code generators accept, unique within the document. */
function operationId (fn: string, taken: Set<string>): string {
  let base = fn.replace(/[^A-Za-z0-9_]/g, '_')
  if (!/^[A-Za-z_]/.test(base)) base = `fn_${base}`
  let id = base
  for (let n = 2; taken.has(id); n++) id = `${base}_${n}`
  taken.add(id)
  return id
}

function errorResponses (): OpenApiDocument['components']['responses'] {
  return Object.fromEntries(Object.values(ERROR_RESPONSES).map(([name, description]) => [name, {
    description,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } }
  }]))
}

function errorSchema (): Schema {
  return {
    type: 'object',
    properties: {
      error: {
        type: 'object',
        properties: {
          code: { type: 'string', enum: [...ERROR_CODES] },
          message: { type: 'string' }
        },
        required: ['code', 'message']
      }
    },
    required: ['error']
  }
}
