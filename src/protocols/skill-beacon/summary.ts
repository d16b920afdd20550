import { peerIdFromString } from '@libp2p/peer-id'
import { SKILL_NAME } from '../../wasm/skills/descriptor.ts'
import { MAX_TXT_STRING } from './constants.ts'

/** What a node tells the LAN of itself over mDNS: enough to know its skills before gossip. */
export interface SkillSummary {
  peerId: string
  name: string
  skills: string[]
  /** `skillsDigest` of the full descriptors. */
  digest: string
  http: string | null
}

/** TXT strings of a summary, `key=value` as DNS-SD does. */
export function summaryToTxt (s: SkillSummary): string[] {
  const txt = [`id=${s.peerId}`, `name=${s.name}`, `skills=${s.skills.join(',')}`, `digest=${s.digest}`]
  if (s.http !== null) txt.push(`http=${s.http}`)
  return txt.filter(t => Buffer.byteLength(t) <= MAX_TXT_STRING)
}

/** Reads a summary back from TXT strings; undefined when anything needed is missing or odd. */
export function summaryFromTxt (txt: ReadonlyArray<string | Uint8Array>): SkillSummary | undefined {
  const fields = new Map<string, string>()
  for (const item of txt) {
    const s = typeof item === 'string' ? item : Buffer.from(item).toString('utf8')
    const eq = s.indexOf('=')
    if (eq > 0) fields.set(s.slice(0, eq), s.slice(eq + 1))
  }
  const peerId = fields.get('id')
  const digest = fields.get('digest')
  const skills = fields.get('skills')?.split(',').filter(x => x !== '')
  if (peerId === undefined || !/^[1-9A-HJ-NP-Za-km-z]{40,128}$/.test(peerId) || !isPeerId(peerId)) return undefined
  if (digest === undefined || !/^[0-9a-f]{16}$/.test(digest)) return undefined
  if (skills === undefined || !skills.every(n => SKILL_NAME.test(n))) return undefined
  return { peerId, name: (fields.get('name') ?? '').slice(0, 64), skills, digest, http: fields.get('http') ?? null }
}

/** Whether the text is a peer id as libp2p writes one (base58btc of a key's multihash). */
function isPeerId (text: string): boolean {
  try {
    return peerIdFromString(text).toString() === text
  } catch {
    return false
  }
}
