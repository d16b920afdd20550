import type { FastifyReply } from 'fastify'

/** Aborts when the client goes away, so work for nobody stops (a fetch, a call). */
export function closed (reply: FastifyReply): AbortSignal {
  const controller = new AbortController()
  reply.raw.once('close', () => { if (!reply.raw.writableFinished) controller.abort() })
  return controller.signal
}
