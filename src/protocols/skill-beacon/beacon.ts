import { EventEmitter } from 'node:events'
import multicastDns from 'multicast-dns'
import { BEACON_SERVICE, GOODBYE_TIMEOUT_MS, MAX_RECORDS_PER_PACKET, MDNS_IP, MDNS_PORT, MIN_ANSWER_INTERVAL_MS, RECORD_TTL_S } from './constants.ts'
import { summaryFromTxt, summaryToTxt } from './summary.ts'
import type { SkillSummary } from './summary.ts'
import type { ComponentLogger, Logger, PeerId, Startable } from '@libp2p/interface'
import type { MulticastDNS, QueryPacket, ResponsePacket } from 'multicast-dns'

export interface SkillBeaconInit {
  serviceName?: string
  port?: number
  ip?: string
}

export interface SkillBeaconComponents {
  peerId: PeerId
  logger: ComponentLogger
}

export interface SkillBeaconEvents {
  summary: [SkillSummary]
  /** A peer's beacon said goodbye (records with TTL 0): it is stopping. */
  goodbye: [string]
}

/**
 * A second mDNS service beside @libp2p/mdns (which carries addresses only): each node answers
 * queries for `_wasmesh._udp.local` with a TXT record of its skill names and digest, and sends
 * it unasked when it starts and when its skills change. LAN peers learn a node's skills
 * before its first gossip announcement reaches them.
 */
export class SkillBeacon extends EventEmitter<SkillBeaconEvents> implements Startable {
  readonly #components: SkillBeaconComponents
  readonly #service: string
  readonly #port: number
  readonly #ip: string
  readonly #log: Logger
  #mdns?: MulticastDNS
  #summary?: SkillSummary
  #answerTimer?: NodeJS.Timeout
  #lastAnswerAt = 0

  constructor (components: SkillBeaconComponents, init: SkillBeaconInit = {}) {
    super()
    this.#components = components
    this.#service = init.serviceName ?? BEACON_SERVICE
    this.#port = init.port ?? MDNS_PORT
    this.#ip = init.ip ?? MDNS_IP
    this.#log = components.logger.forComponent('wasmesh:skill-beacon')
  }

  readonly [Symbol.toStringTag] = 'wasmesh:skill-beacon'

  async start (): Promise<void> {
    const mdns = multicastDns({ port: this.#port, ip: this.#ip, reuseAddr: true })
    mdns.on('query', this.#onQuery)
    mdns.on('response', this.#onResponse)
    // A host without a multicast route cannot send: that is a LAN we can't see, not a crash.
    mdns.on('error', (err: Error) => { this.#log.error('mdns error - %e', err) })
    mdns.on('warning', (err: Error) => { this.#log('mdns warning - %e', err) })
    this.#mdns = mdns
    mdns.query({ questions: [{ name: this.#service, type: 'PTR' }] })
    this.#respond()
  }

  async stop (): Promise<void> {
    const mdns = this.#mdns
    if (mdns === undefined) return
    clearTimeout(this.#answerTimer)
    this.#answerTimer = undefined
    // mDNS goodbye (RFC 6762 §10.1): the same records with TTL 0, so peers that know this
    // node only from its summary drop it now rather than when it expires.
    await new Promise<void>(resolve => {
      const guard = setTimeout(resolve, GOODBYE_TIMEOUT_MS)
      this.#respond(0, () => { clearTimeout(guard); resolve() })
    })
    this.#mdns = undefined
    mdns.removeAllListeners('query')
    mdns.removeAllListeners('response')
    await new Promise<void>(resolve => { mdns.destroy(() => { resolve() }) })
  }

  /** Sets what this node says of itself and tells the LAN at once if it changed. */
  publish (summary: SkillSummary): void {
    const changed = this.#summary === undefined || summaryToTxt(this.#summary).join('\n') !== summaryToTxt(summary).join('\n')
    this.#summary = summary
    if (changed) this.#respond()
  }

  #instance (): string {
    return `${this.#components.peerId.toString()}.${this.#service}`
  }

  #respond (ttl = RECORD_TTL_S, sent?: () => void): void {
    if (this.#mdns === undefined || this.#summary === undefined) {
      sent?.()
      return
    }
    const instance = this.#instance()
    this.#mdns.respond({
      answers: [
        { name: this.#service, type: 'PTR', class: 'IN', ttl, data: instance },
        { name: instance, type: 'TXT', class: 'IN', ttl, data: summaryToTxt(this.#summary) }
      ]
    }, () => sent?.())
  }

  /** Answers queries at most every MIN_ANSWER_INTERVAL_MS, however many arrive. */
  readonly #onQuery = (packet: QueryPacket): void => {
    if (!packet.questions.some(q => q.name === this.#service && (q.type === 'PTR' || (q.type as string) === 'ANY'))) return
    if (this.#answerTimer !== undefined) return
    const wait = Math.max(0, this.#lastAnswerAt + MIN_ANSWER_INTERVAL_MS - Date.now())
    this.#answerTimer = setTimeout(() => {
      this.#answerTimer = undefined
      this.#lastAnswerAt = Date.now()
      this.#respond()
    }, wait)
  }

  readonly #onResponse = (packet: ResponsePacket): void => {
    const suffix = `.${this.#service}`
    const records = [...packet.answers, ...(packet.additionals ?? [])].slice(0, MAX_RECORDS_PER_PACKET)
    for (const record of records) {
      if (record.type !== 'TXT' || !record.name.endsWith(suffix) || record.name === this.#instance()) continue
      const data = Array.isArray(record.data) ? record.data : [record.data]
      const summary = summaryFromTxt(data)
      if (summary === undefined || `${summary.peerId}${suffix}` !== record.name) continue
      if (record.ttl === 0) this.emit('goodbye', summary.peerId)
      else this.emit('summary', summary)
    }
  }
}
