import { EventEmitter } from 'node:events'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { z } from 'zod'
import { WasmeshError, errorFromJSON, isWasmeshError } from '../../errors.ts'
import {
  DEPLOY_PROTOCOL, DEPLOYMENTS_TOPIC, MAX_DEPLOY_MESSAGE_BYTES, MAX_INBOUND_STREAMS, MAX_OUTBOUND_STREAMS
} from './constants.ts'
import { deployAnswerSchema, deployRequestSchema } from './messages.ts'
import { deploymentRecordSchema } from './record.ts'
import type { DeployAccepted, DeployAnswer, DeployRequest } from './messages.ts'
import type { DeploymentRecord } from './record.ts'
import type { GossipSub, Message } from '@libp2p/gossipsub'
import type { ComponentLogger, Connection, Logger, Startable, Stream } from '@libp2p/interface'
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal'

export interface DeployComponents {
  connectionManager: ConnectionManager
  registrar: Registrar
  pubsub: GossipSub
  logger: ComponentLogger
}

/** Answers a request; a throw goes back to the asker as an error answer. */
export type DeployHandler = (req: DeployRequest) => Promise<DeployAccepted>

export interface DeployEvents {
  /** a record gossiped by some node (checked for shape only) */
  record: [DeploymentRecord]
}

/**
 * The wire of placement: requests answered over a fresh stream each (bids, awards, commits
 * are few, and a stream per request keeps them independent), and deployment records spread
 * over gossipsub. What the requests mean is the node's business (src/node/deployments/).
 */
export class DeployService extends EventEmitter<DeployEvents> implements Startable {
  readonly #components: DeployComponents
  readonly #log: Logger
  #handler: DeployHandler = async () => { throw new WasmeshError('unavailable', 'this node takes no deployments yet') }
  #started = false
  /** records of the messages the validator accepted, so delivery does not parse them again */
  readonly #checked = new WeakMap<Message, DeploymentRecord>()
  /** from the clock: a restarted node must not repeat the numbers of its earlier life (peers' seen caches hold them) */
  #published = Date.now()

  constructor (components: DeployComponents) {
    super()
    this.#components = components
    this.#log = components.logger.forComponent('wasmesh:deploy')
  }

  readonly [Symbol.toStringTag] = 'wasmesh:deploy'

  handle (handler: DeployHandler): void {
    this.#handler = handler
  }

  async start (): Promise<void> {
    await this.#components.registrar.handle(DEPLOY_PROTOCOL, this.#onStream, {
      maxInboundStreams: MAX_INBOUND_STREAMS,
      maxOutboundStreams: MAX_OUTBOUND_STREAMS
    })
  }

  afterStart (): void {
    const { pubsub } = this.#components
    pubsub.topicValidators.set(DEPLOYMENTS_TOPIC, this.#validate)
    pubsub.addEventListener('message', this.#onMessage)
    pubsub.subscribe(DEPLOYMENTS_TOPIC)
    this.#started = true
  }

  async stop (): Promise<void> {
    this.#started = false
    const { pubsub, registrar } = this.#components
    pubsub.removeEventListener('message', this.#onMessage)
    pubsub.topicValidators.delete(DEPLOYMENTS_TOPIC)
    await registrar.unhandle(DEPLOY_PROTOCOL)
  }

  /**
   * Sends a request and reads the answer; an error answer is thrown as the WasmeshError it names.
   * Opening the stream (a first dial included) has `openTimeoutMs`; the answer's `timeoutMs`
   * starts once it is open, so a peer not yet connected is not judged slow for the dial.
   */
  async ask (peerId: string, req: DeployRequest, timeoutMs: number, openTimeoutMs: number): Promise<DeployAccepted> {
    let signal = AbortSignal.timeout(openTimeoutMs)
    let stream: Stream | undefined
    try {
      stream = await this.#components.connectionManager.openStream(peerIdFromString(peerId), DEPLOY_PROTOCOL, { signal })
      signal = AbortSignal.timeout(timeoutMs)
      const lp = lpStream(stream, { maxDataLength: MAX_DEPLOY_MESSAGE_BYTES })
      await lp.write(encode(req), { signal })
      const answer = deployAnswerSchema.parse(decode((await lp.read({ signal })).subarray()))
      await stream.close({ signal }).catch(() => {})
      if (!answer.ok) throw errorFromJSON(answer.error, `peer ${peerId} refused "${req.type}"`)
      return answer
    } catch (err) {
      stream?.abort(err as Error)
      if (isWasmeshError(err)) throw err
      if (signal.aborted) {
        throw new WasmeshError('timeout', stream === undefined
          ? `peer ${peerId} could not be reached within ${openTimeoutMs} ms`
          : `peer ${peerId} did not answer "${req.type}" within ${timeoutMs} ms`)
      }
      throw new WasmeshError('unavailable', `peer ${peerId} could not take "${req.type}": ${(err as Error).message}`)
    }
  }

  /**
   * Spreads a record to every node. Each publication is numbered: gossipsub drops a message
   * identical to one it saw, and a lease renewal repeats the record unchanged.
   */
  async publish (record: DeploymentRecord): Promise<void> {
    if (!this.#started) return
    await this.#components.pubsub.publish(DEPLOYMENTS_TOPIC, encode({ record, n: ++this.#published })).catch((err: Error) => {
      this.#log('publish of %s failed: %s', record.id, err.message)
    })
  }

  readonly #onStream = async (stream: Stream, connection: Connection): Promise<void> => {
    const signal = AbortSignal.timeout(60_000)
    try {
      const lp = lpStream(stream, { maxDataLength: MAX_DEPLOY_MESSAGE_BYTES })
      const parsed = deployRequestSchema.safeParse(decode((await lp.read({ signal })).subarray()))
      let answer: DeployAnswer
      if (!parsed.success) {
        answer = { ok: false, error: { code: 'bad-request', message: `deploy request: ${parsed.error.issues[0]?.message ?? 'malformed'}` } }
      } else {
        // The stream is idle while the handler works (a prepare fetches and starts a guest).
        answer = await this.#handler(parsed.data).catch(errorAnswer)
      }
      await lp.write(encode(answer), { signal })
      await stream.close({ signal })
    } catch (err) {
      this.#log('deploy stream from %p failed: %s', connection.remotePeer, (err as Error).message)
      stream.abort(err as Error)
    }
  }

  readonly #validate = async (_from: unknown, msg: Message): Promise<TopicValidatorResult> => {
    if (msg.data.byteLength > MAX_DEPLOY_MESSAGE_BYTES) return TopicValidatorResult.Reject
    const parsed = publicationSchema.safeParse(safeDecode(msg.data))
    if (!parsed.success) return TopicValidatorResult.Reject
    this.#checked.set(msg, parsed.data.record)
    return TopicValidatorResult.Accept
  }

  readonly #onMessage = (evt: CustomEvent<Message>): void => {
    if (evt.detail.topic !== DEPLOYMENTS_TOPIC) return
    const record = this.#checked.get(evt.detail)
    if (record !== undefined) this.emit('record', record)
  }
}

/** A record as gossiped: numbered by its publisher, so repeats are new messages. */
const publicationSchema = z.object({ record: deploymentRecordSchema, n: z.number().int().nonnegative() }).strict()

function errorAnswer (err: unknown): DeployAnswer {
  const e = isWasmeshError(err) ? err : new WasmeshError('internal', (err as Error).message)
  return { ok: false, error: e.toJSON().error }
}

function encode (value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value))
}

function decode (bytes: Uint8Array): unknown {
  return JSON.parse(new TextDecoder().decode(bytes))
}

function safeDecode (bytes: Uint8Array): unknown {
  try {
    return decode(bytes)
  } catch {
    return undefined
  }
}
