import { createHash } from 'node:crypto'
import { RecordEnvelope } from '@libp2p/peer-record'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { z } from 'zod'
import { skillDescriptorSchema } from '../../wasm/skills/descriptor.ts'
import { NODE_NAME } from './node-name.ts'
import { CID_TEXT, MAX_ANNOUNCED_MODULES, MODULE_NAME } from '../modules/constants.ts'
import { ANNOUNCE_DOMAIN, ANNOUNCE_PAYLOAD_TYPE, MAX_ANNOUNCED_ADDRS, MAX_ANNOUNCEMENT_BYTES, MAX_HEARTBEAT_MS, MIN_HEARTBEAT_MS } from './constants.ts'
import type { PrivateKey, Record as Libp2pRecord } from '@libp2p/interface'

/**
 * What a node says of itself. Unknown fields are stripped (not refused) so that a newer
 * node's announcements still reach older ones.
 */
export const announcementSchema = z.object({
  v: z.literal(1),
  peerId: z.string().min(1).max(128),
  name: z.string().regex(NODE_NAME, 'printable, at most 64 characters'),
  /** Strictly increasing per node, across restarts: the newest announcement wins. */
  seq: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  /** `leaving` is a node's goodbye: peers drop it at once instead of waiting for it to go silent. */
  state: z.enum(['up', 'leaving']),
  heartbeatMs: z.number().int().min(MIN_HEARTBEAT_MS).max(MAX_HEARTBEAT_MS),
  http: z.string().max(256).regex(/^https?:\/\/[^\s/]+\/?$/, 'an http(s) URL of a host').nullable(),
  addrs: z.array(z.string().max(256).regex(/^\/\S+$/, 'a multiaddr')).max(MAX_ANNOUNCED_ADDRS),
  skills: z.array(skillDescriptorSchema).max(64),
  load: z.object({
    cpu: z.number().min(0).max(1),
    freeMem: z.number().nonnegative(),
    instances: z.number().int().nonnegative()
  }),
  /** Modules the node holds (newest first, capped): fetches go to them. Absent from older nodes. */
  modules: z.array(z.object({
    cid: z.string().regex(CID_TEXT, 'a CID'),
    name: z.string().regex(MODULE_NAME, 'a module name').optional(),
    description: z.string().regex(CID_TEXT, 'a CID').optional()
  })).max(MAX_ANNOUNCED_MODULES).default([])
})

export type Announcement = z.infer<typeof announcementSchema>
export type Load = Announcement['load']

export type RejectReason = 'oversized' | 'malformed' | 'bad-signature' | 'forged'
export type OpenResult = { ok: true, announcement: Announcement } | { ok: false, reason: RejectReason, detail: string }

class AnnouncementRecord implements Libp2pRecord {
  readonly domain = ANNOUNCE_DOMAIN
  readonly codec = ANNOUNCE_PAYLOAD_TYPE
  readonly #bytes: Uint8Array

  constructor (bytes: Uint8Array) {
    this.#bytes = bytes
  }

  marshal (): Uint8Array {
    return this.#bytes
  }

  equals (other: Libp2pRecord): boolean {
    return other instanceof AnnouncementRecord && Buffer.compare(other.#bytes, this.#bytes) === 0
  }
}

/** Signs an announcement with the node's key, giving the bytes to publish. */
export async function sealAnnouncement (announcement: Announcement, privateKey: PrivateKey): Promise<Uint8Array> {
  const payload = new TextEncoder().encode(JSON.stringify(announcement))
  const envelope = await RecordEnvelope.seal(new AnnouncementRecord(payload), privateKey)
  return envelope.marshal()
}

/**
 * Who an announcement says it is from and its sequence number, read without checking anything:
 * enough to skip one already known at that sequence or newer before paying for the signature.
 */
export function peekAnnouncement (bytes: Uint8Array): { peerId: string, seq: number } | undefined {
  try {
    const payload = RecordEnvelope.createFromProtobuf(bytes).payload
    const json = JSON.parse(new TextDecoder().decode(payload)) as { peerId?: unknown, seq?: unknown }
    return typeof json.peerId === 'string' && typeof json.seq === 'number' ? { peerId: json.peerId, seq: json.seq } : undefined
  } catch {
    return undefined
  }
}

/** Announcements opened lately, by a hash of their bytes (see openAnnouncement); oldest first. */
const opened = new Map<string, Announcement>()
const MAX_OPENED = 4096

/**
 * Checks and decodes received bytes: size, envelope, signature, schema, and that the signer is
 * the peer the announcement speaks for. The same bytes open to the same announcement, so the
 * result is remembered for a while: gossipsub already drops copies a node has seen, but every
 * node of a process (the simulator runs hundreds in one) would otherwise check each signature
 * again, which is most of a big mesh's CPU. What it returns is frozen: callers share it.
 */
export async function openAnnouncement (bytes: Uint8Array): Promise<OpenResult> {
  if (bytes.byteLength > MAX_ANNOUNCEMENT_BYTES) {
    return { ok: false, reason: 'oversized', detail: `${bytes.byteLength} bytes > ${MAX_ANNOUNCEMENT_BYTES}` }
  }
  const key = createHash('sha256').update(bytes).digest('base64')
  const known = opened.get(key)
  if (known !== undefined) return { ok: true, announcement: known }
  const result = await checkAnnouncement(bytes)
  if (result.ok) {
    deepFreeze(result.announcement)
    opened.set(key, result.announcement)
    if (opened.size > MAX_OPENED) opened.delete(opened.keys().next().value as string)
  }
  return result
}

async function checkAnnouncement (bytes: Uint8Array): Promise<OpenResult> {
  if (bytes.byteLength > MAX_ANNOUNCEMENT_BYTES) {
    return { ok: false, reason: 'oversized', detail: `${bytes.byteLength} bytes > ${MAX_ANNOUNCEMENT_BYTES}` }
  }
  let envelope: RecordEnvelope
  try {
    envelope = RecordEnvelope.createFromProtobuf(bytes)
  } catch (err) {
    return { ok: false, reason: 'malformed', detail: `not an envelope: ${(err as Error).message}` }
  }
  if (Buffer.compare(Buffer.from(envelope.payloadType), Buffer.from(ANNOUNCE_PAYLOAD_TYPE)) !== 0) {
    return { ok: false, reason: 'malformed', detail: 'wrong payload type' }
  }
  let signedOk = false
  try {
    signedOk = await envelope.validate(ANNOUNCE_DOMAIN)
  } catch {}
  if (!signedOk) return { ok: false, reason: 'bad-signature', detail: 'signature does not verify' }

  let json: unknown
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(envelope.payload))
  } catch (err) {
    return { ok: false, reason: 'malformed', detail: `payload is not JSON: ${(err as Error).message}` }
  }
  const parsed = announcementSchema.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    return { ok: false, reason: 'malformed', detail: `${issue.path.join('.')}: ${issue.message}` }
  }
  const signer = peerIdFromPublicKey(envelope.publicKey).toString()
  if (signer !== parsed.data.peerId) {
    return { ok: false, reason: 'forged', detail: `signed by ${signer} but speaks for ${parsed.data.peerId}` }
  }
  return { ok: true, announcement: parsed.data }
}

/** The next sequence number: above the last one and above the clock, so a restarted node outranks its old self. */
export function nextSeq (last: number, nowMs: number): number {
  return Math.max(last + 1, nowMs)
}

function deepFreeze<T> (value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const v of Object.values(value)) deepFreeze(v)
  }
  return value
}
