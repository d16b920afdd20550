import Fastify from 'fastify'
import { WasmeshError, isWasmeshError } from '../../errors.ts'
import { STATUS_OF } from './error-status.ts'
import { deploymentRoutes } from './routes/deployment-routes.ts'
import { moduleRoutes } from './routes/module-routes.ts'
import { nodeRoutes } from './routes/node-routes.ts'
import type { Deployments } from '../deployments/deployments.ts'
import type { ModuleStore } from '../modules/module-store.ts'
import type { NodeMetrics } from '../metrics.ts'
import type { PeerTable } from '../peer-table.ts'
import type { SkillDescriptor } from '../../wasm/skills/descriptor.ts'
import type { FastifyError, FastifyInstance, HTTPMethods } from 'fastify'

/** What the HTTP API needs of a node. */
export interface HttpNode {
  readonly peerId: string
  readonly name: string
  readonly uptimeMs: number
  readonly skills: SkillDescriptor[]
  readonly peers: PeerTable
  readonly metrics: NodeMetrics
  readonly modules: ModuleStore
  readonly deployments: Deployments
  readonly httpUrl: string | null
}

export interface HttpApi {
  readonly port: number
  close: () => Promise<void>
}

const METHODS: HTTPMethods[] = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS']
/** Bodies above this are refused with 413 before they are read whole. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024

/** Builds the app without listening (tests use `inject`). */
export function buildHttpApp (node: HttpNode, bodyLimit = DEFAULT_BODY_LIMIT): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit, connectionTimeout: 30_000, requestTimeout: 60_000, return503OnClosing: true })
  nodeRoutes(app, node)
  void app.register(async (scope) => { await moduleRoutes(scope, node) })
  void app.register(async (scope) => { await deploymentRoutes(scope, node) })

  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0]
    const allowed = METHODS.filter(method => app.hasRoute({ url: path, method }))
    const error = allowed.length > 0
      ? new WasmeshError('method-not-allowed', `${req.method} is not allowed on ${path} (allowed: ${allowed.join(', ')})`)
      : new WasmeshError('not-found', `no route ${req.method} ${path}`)
    if (allowed.length > 0) void reply.header('allow', allowed.join(', '))
    void reply.code(STATUS_OF[error.code]).send(error.toJSON())
  })

  app.setErrorHandler((err: FastifyError, _req, reply) => {
    const error = toWasmeshError(err)
    void reply.code(STATUS_OF[error.code]).send(error.toJSON())
  })
  return app
}

/** Maps anything thrown in a handler to a SPEC error; the framework's own 4xx keep their meaning. */
function toWasmeshError (err: FastifyError): WasmeshError {
  if (isWasmeshError(err)) return err
  if (err.statusCode === 413) return new WasmeshError('too-large', err.message)
  if (err.statusCode === 404) return new WasmeshError('not-found', err.message)
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) return new WasmeshError('bad-request', err.message)
  return new WasmeshError('internal', err.message)
}

export async function startHttpApi (node: HttpNode, where: { host: string, port: number }): Promise<HttpApi> {
  const app = buildHttpApp(node)
  try {
    await app.listen({ host: where.host, port: where.port })
  } catch (err) {
    await app.close()
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EADDRINUSE') throw new WasmeshError('unavailable', `HTTP address ${where.host}:${where.port} is in use (use --http ${where.host}:0 to pick a free port)`)
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new WasmeshError('bad-request', `HTTP address ${where.host}:${where.port} is not an address of this host`)
    throw err
  }
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : where.port
  return { port, close: async () => { await app.close() } }
}
