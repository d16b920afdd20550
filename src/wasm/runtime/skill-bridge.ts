import { receiveMessageOnPort } from 'node:worker_threads'
import type { MessagePort } from 'node:worker_threads'
import { WasmeshError, isWasmeshError } from '../../errors.ts'
import { SKILL } from './channel.ts'
import type { Channel } from './channel.ts'
import type { SkillReadReply, SkillReadRequest } from './messages.ts'
import type { SkillProvider } from '../skills/providers/index.ts'

/**
 * Skill data live on the node's main thread (providers run commands, read files), but a
 * guest's host function must return synchronously on the guest's worker. So the worker
 * posts the read and blocks in Atomics.wait until the node has answered on the port and
 * flipped the SKILL word. The call's own time limit bounds the wait: past it the node
 * terminates the worker, wait and all.
 */
export function workerSkillRead (channel: Channel, port: MessagePort): (skill: string, quantity: string) => Uint8Array | number {
  return (skill, quantity) => {
    Atomics.store(channel.words, SKILL, 0)
    port.postMessage({ skill, quantity } satisfies SkillReadRequest)
    Atomics.wait(channel.words, SKILL, 0)
    const reply = receiveMessageOnPort(port)?.message as SkillReadReply | undefined
    if (reply === undefined) throw new WasmeshError('internal', `${skill}: no answer from the node`)
    if (!reply.ok) throw new WasmeshError(reply.code, reply.message)
    return reply.value
  }
}

/** The node's side: answers a worker's skill reads from the providers, one at a time. */
export function serveSkillReads (channel: Channel, port: MessagePort, providers: ReadonlyMap<string, SkillProvider>, signal: AbortSignal): void {
  port.on('message', (request: SkillReadRequest) => {
    void answer(providers, request, signal).then(reply => {
      if (signal.aborted) return
      port.postMessage(reply)
      Atomics.store(channel.words, SKILL, 1)
      Atomics.notify(channel.words, SKILL)
    })
  })
}

async function answer (providers: ReadonlyMap<string, SkillProvider>, { skill, quantity }: SkillReadRequest, signal: AbortSignal): Promise<SkillReadReply> {
  const provider = providers.get(skill)
  if (provider === undefined) return { ok: false, code: 'unsatisfiable', message: `this node has no provider for skill "${skill}"` }
  try {
    return { ok: true, value: await provider.read(quantity, signal) }
  } catch (err) {
    return isWasmeshError(err)
      ? { ok: false, code: err.code, message: err.message }
      : { ok: false, code: 'internal', message: `${skill}: ${err instanceof Error ? err.message : String(err)}` }
  }
}
