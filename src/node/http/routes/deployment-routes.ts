import multipart from '@fastify/multipart'
import { WasmeshError } from '../../../errors.ts'
import { parseJson } from '../../../validation.ts'
import { deploymentOpenApi } from '../../../wasm/describe/openapi.ts'
import { callArgs } from '../../deployments/call-args.ts'
import { deploymentView } from '../views.ts'
import { TIMEOUT_HEADER } from '../call-headers.ts'
import { closed } from './closed.ts'
import type { CallFile } from '../../../protocols/call/messages.ts'
import type { Deployments } from '../../deployments/deployments.ts'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

export interface DeploymentHttpNode {
  readonly deployments: Deployments
  readonly httpUrl: string | null
}

/** Most execution-stage files one call may carry. */
const MAX_FILE_PARTS = 32

interface CallParams { deployment: string, module: string, function: string }

/** Deployments (deploy, list, status, remove, OpenAPI) and calls through this node (SPEC.md, HTTP API). */
export async function deploymentRoutes (app: FastifyInstance, node: DeploymentHttpNode): Promise<void> {
  const { deployments } = node
  const view = (r: Parameters<typeof deploymentView>[0]): Record<string, unknown> => deploymentView(r, (p) => deployments.nameOf(p))
  await app.register(multipart, {
    limits: { fileSize: deployments.options.maxCallFileBytes, files: MAX_FILE_PARTS, fields: 4, fieldSize: 64 * 1024, parts: MAX_FILE_PARTS + 4, headerPairs: 100 }
  })

  app.post('/deployments', async (req, reply) => {
    if (req.body === undefined || req.body === null) throw new WasmeshError('bad-request', 'manifest: missing (send the manifest as a JSON body)', { field: 'manifest' })
    return await reply.code(201).send(view(await deployments.deploy(req.body)))
  })
  app.get('/deployments', async () => deployments.list().map(view))
  app.get<{ Params: { id: string } }>('/deployments/:id', async (req) => view(deployments.get(req.params.id)))
  app.delete<{ Params: { id: string } }>('/deployments/:id', async (req) => view(await deployments.undeploy(req.params.id)))
  app.get<{ Params: { id: string } }>('/deployments/:id/openapi', async (req) => {
    const record = deployments.get(req.params.id)
    return deploymentOpenApi({ id: record.id, name: record.name, steps: record.steps, ...(node.httpUrl !== null ? { serverUrl: node.httpUrl } : {}) })
  })

  const call = async (req: FastifyRequest<{ Params: CallParams, Querystring: Record<string, unknown> }>, reply: FastifyReply): Promise<unknown> => {
    const { deployment, module, function: fn } = req.params
    const record = deployments.get(deployment)
    const step = record.steps.find(s => (s.module === module || s.cid === module) && s.function === fn)
    const files: CallFile[] = []
    let jsonArgs: unknown
    if (req.isMultipart()) {
      let total = 0
      for await (const part of req.parts()) {
        if (part.type === 'file') {
          const bytes = await part.toBuffer()
          total += bytes.byteLength
          if (total > deployments.options.maxCallFileBytes) {
            throw new WasmeshError('too-large', `the call's files are over the limit of ${deployments.options.maxCallFileBytes} bytes together`)
          }
          files.push({ mount: part.fieldname, mediaType: part.mimetype, bytes })
        } else if (part.fieldname === 'args') {
          jsonArgs = parseJson(String(part.value), 'args')
        } else {
          throw new WasmeshError('bad-request', `multipart: field "${part.fieldname.slice(0, 64)}" is not a file (files are parts named by mount; arguments go in a field "args" or the query)`)
        }
      }
    } else if (req.body !== undefined && req.body !== null) {
      const body = req.body as { args?: unknown }
      if (typeof body !== 'object' || Array.isArray(body)) throw new WasmeshError('bad-request', 'body: expected {"args": [...]}', { field: 'body' })
      jsonArgs = body.args
    }
    const answer = await deployments.call({
      deployment: record.id,
      module,
      function: fn,
      args: callArgs(req.query, jsonArgs, step?.description ?? null),
      files,
      timeoutMs: timeoutOf(req.headers[TIMEOUT_HEADER], deployments.options.callTimeoutMs),
      signal: closed(reply)
    })
    switch (answer.kind) {
      case 'value': return { result: answer.value }
      case 'none': return { result: null }
      case 'file': return await reply.type(answer.file.mediaType).send(Buffer.from(answer.file.bytes.buffer, answer.file.bytes.byteOffset, answer.file.bytes.byteLength))
    }
  }
  app.get('/:deployment/modules/:module/:function', call)
  app.post('/:deployment/modules/:module/:function', call)
}

function timeoutOf (header: string | string[] | undefined, fallback: number): number {
  if (header === undefined) return fallback
  const ms = Number(header)
  if (typeof header !== 'string' || !Number.isInteger(ms) || ms < 1 || ms > 3_600_000) {
    throw new WasmeshError('bad-request', `${TIMEOUT_HEADER}: expected whole milliseconds, 1 to 3600000`, { field: TIMEOUT_HEADER })
  }
  return ms
}
