import { peerView } from '../views.ts'
import type { HttpNode } from '../server.ts'
import type { FastifyInstance } from 'fastify'

/** The node's own state: health, peers, skills, metrics. */
export function nodeRoutes (app: FastifyInstance, node: HttpNode): void {
  app.get('/health', async () => ({ ok: true, peerId: node.peerId, name: node.name, uptimeMs: node.uptimeMs }))

  app.get('/peers', async () => {
    const now = Date.now()
    return node.peers.list()
      .sort((a, b) => a.name.localeCompare(b.name) || a.peerId.localeCompare(b.peerId))
      .map(e => peerView(e, now))
  })

  app.get('/skills', async () => node.skills)

  app.get('/metrics', async (_req, reply) => {
    reply.type(node.metrics.registry.contentType)
    return await node.metrics.registry.metrics()
  })
}
