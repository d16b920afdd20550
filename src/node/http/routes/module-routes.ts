import { Readable } from 'node:stream'
import multipart from '@fastify/multipart'
import { WasmeshError } from '../../../errors.ts'
import { parseJson } from '../../../validation.ts'
import { moduleOpenApi } from '../../../wasm/describe/openapi.ts'
import { moduleView } from '../views.ts'
import { closed } from './closed.ts'
import type { DescribeInput, ModuleStore } from '../../modules/module-store.ts'
import type { FastifyInstance } from 'fastify'

export interface ModuleHttpNode {
  readonly modules: ModuleStore
  readonly httpUrl: string | null
}

/** Most file parts a description may carry (one per deployment-stage mount). */
const MAX_FILE_PARTS = 32
/** Most bytes of a JSON field (`functions`) or of the module name. */
const MAX_FIELD_BYTES = 1024 * 1024

interface Params { ref: string }

/** Modules: add, list, show, bytes, describe, OpenAPI, remove (SPEC.md, HTTP API). */
export async function moduleRoutes (app: FastifyInstance, node: ModuleHttpNode): Promise<void> {
  const store = node.modules
  const maxBytes = store.limits.maxModuleBytes
  await app.register(multipart, {
    limits: { fileSize: maxBytes, files: MAX_FILE_PARTS + 1, fields: 8, fieldSize: MAX_FIELD_BYTES, parts: MAX_FILE_PARTS + 9, headerPairs: 100 }
  })
  app.addContentTypeParser(['application/wasm', 'application/octet-stream'], { parseAs: 'buffer', bodyLimit: maxBytes },
    (_req, body, done) => { done(null, body) })

  app.post<{ Querystring: { name?: string } }>('/modules', async (req, reply) => {
    let bytes: Uint8Array | undefined
    let name = req.query.name
    if (req.isMultipart()) {
      for await (const part of req.parts()) {
        const value = part.type === 'file' ? await part.toBuffer() : Buffer.from(String(part.value))
        if (part.fieldname === 'module') bytes = value
        else if (part.fieldname === 'name') name = value.toString('utf8').trim()
        else throw new WasmeshError('bad-request', `multipart: unknown part "${part.fieldname.slice(0, 64)}" (expected "module" and optionally "name")`)
      }
    } else {
      bytes = (req.body as Buffer | null | undefined) ?? new Uint8Array(0)
    }
    if (bytes === undefined) throw new WasmeshError('bad-request', 'module: missing (send the bytes as application/wasm, or a multipart part "module")')
    const record = await store.add(bytes, name === undefined || name === '' ? {} : { name })
    return await reply.code(201).send(moduleView(record))
  })

  app.get('/modules', async () => store.list().map(moduleView))

  app.get<{ Params: Params }>('/modules/:ref', async (req, reply) => moduleView(await store.resolve(req.params.ref, { signal: closed(reply) })))

  app.get<{ Params: Params }>('/modules/:ref/wasm', async (req, reply) => {
    const record = await store.resolve(req.params.ref, { signal: closed(reply) })
    void reply.type('application/wasm').header('content-length', record.size).header('etag', `"${record.cid}"`)
    return await reply.send(Readable.from(store.read(record)))
  })

  app.get<{ Params: Params }>('/modules/:ref/openapi', async (req, reply) => {
    const record = await store.resolve(req.params.ref, { signal: closed(reply) })
    return moduleOpenApi({
      name: record.name ?? record.cid,
      cid: record.cid,
      info: record.info,
      ...(record.description !== null ? { description: record.description } : {}),
      ...(node.httpUrl !== null ? { serverUrl: node.httpUrl } : {})
    })
  })

  app.post<{ Params: Params }>('/modules/:ref/description', async (req) => {
    let functions: unknown
    const files: DescribeInput['files'] = []
    if (req.isMultipart()) {
      for await (const part of req.parts()) {
        if (part.fieldname === 'functions') {
          const text = part.type === 'file' ? (await part.toBuffer()).toString('utf8') : String(part.value)
          functions = parseJson(text, 'functions')
        } else if (part.type === 'file') {
          files.push({ mount: part.fieldname, bytes: await part.toBuffer(), mediaType: part.mimetype })
        } else {
          throw new WasmeshError('bad-request', `multipart: field "${part.fieldname.slice(0, 64)}" is not a file (mount files are file parts named by mount)`)
        }
      }
    } else {
      functions = req.body
    }
    if (functions === undefined) throw new WasmeshError('bad-request', 'functions: missing (a multipart field "functions" with the description JSON)')
    return moduleView(await store.describe(req.params.ref, { functions, files }))
  })

  app.delete<{ Params: Params }>('/modules/:ref', async (req) => moduleView(await store.remove(req.params.ref)))
}
