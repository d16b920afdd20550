import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { RecordEnvelope } from '@libp2p/peer-record'
import { expect } from 'chai'
import { nextSeq, openAnnouncement, sealAnnouncement } from '../../src/protocols/announce/announcement.ts'
import { ANNOUNCE_DOMAIN, ANNOUNCE_PAYLOAD_TYPE, MAX_ANNOUNCEMENT_BYTES } from '../../src/protocols/announce/constants.ts'
import { SKILL_CATALOG } from '../../src/wasm/skills/catalog.ts'
import type { Announcement } from '../../src/protocols/announce/announcement.ts'
import type { PrivateKey } from '@libp2p/interface'

function announcementOf (key: PrivateKey, over: Partial<Announcement> = {}): Announcement {
  return {
    v: 1,
    peerId: peerIdFromPrivateKey(key).toString(),
    name: 'cam-1',
    seq: 1_700_000_000_000,
    state: 'up',
    heartbeatMs: 2000,
    http: 'http://10.0.0.1:8080',
    addrs: ['/ip4/10.0.0.1/tcp/4001'],
    skills: [SKILL_CATALOG.sys, SKILL_CATALOG.camera],
    load: { cpu: 0.25, freeMem: 1e9, instances: 2 },
    modules: [],
    ...over
  }
}

/** An envelope of our type around arbitrary payload bytes, properly signed by `key`. */
async function sealRaw (payload: Uint8Array, key: PrivateKey): Promise<Uint8Array> {
  const record = { domain: ANNOUNCE_DOMAIN, codec: ANNOUNCE_PAYLOAD_TYPE, marshal: () => payload, equals: () => false }
  return (await RecordEnvelope.seal(record, key)).marshal()
}

describe('announcement encoding', () => {
  let key: PrivateKey
  before(async () => { key = await generateKeyPair('Ed25519') })

  it('opens the same bytes twice to the same frozen announcement, and still refuses altered bytes', async () => {
    const bytes = await sealAnnouncement(announcementOf(key), key)
    const first = await openAnnouncement(bytes)
    if (!first.ok) throw new Error(first.detail)
    expect(() => first.announcement.skills.pop()).to.throw(TypeError)
    expect(() => { first.announcement.name = 'changed' }).to.throw(TypeError)
    const second = await openAnnouncement(bytes)
    if (!second.ok) throw new Error(second.detail)
    expect(second.announcement).to.deep.equal(announcementOf(key))
    expect(second.announcement, 'the very object opened before').to.equal(first.announcement)
    const altered = Uint8Array.from(bytes)
    altered[altered.length - 1] ^= 1
    expect((await openAnnouncement(altered)).ok).to.equal(false)
  })

  it('round-trips a signed announcement', async () => {
    const ann = announcementOf(key)
    const opened = await openAnnouncement(await sealAnnouncement(ann, key))
    expect(opened).to.deep.equal({ ok: true, announcement: ann })
  })

  it('strips unknown fields so newer peers stay readable', async () => {
    const ann = { ...announcementOf(key), future: 'field' }
    const opened = await openAnnouncement(await sealRaw(new TextEncoder().encode(JSON.stringify(ann)), key))
    expect(opened.ok).to.equal(true)
    if (opened.ok) expect(opened.announcement).to.not.have.property('future')
  })

  it('drops oversized bytes before reading them', async () => {
    const opened = await openAnnouncement(new Uint8Array(MAX_ANNOUNCEMENT_BYTES + 1))
    expect(opened).to.include({ ok: false, reason: 'oversized' })
  })

  it('drops bytes that are not an envelope', async () => {
    const opened = await openAnnouncement(new Uint8Array([0xff, 0x01, 0x02, 0x03, 0x04]))
    expect(opened).to.include({ ok: false, reason: 'malformed' })
  })

  it('drops a tampered announcement (signature no longer verifies)', async () => {
    const ann = announcementOf(key)
    const bytes = await sealAnnouncement(ann, key)
    const text = Buffer.from(bytes).toString('latin1')
    const at = text.indexOf('cam-1')
    expect(at).to.be.greaterThan(0)
    bytes[at] = 'd'.charCodeAt(0)
    expect(await openAnnouncement(bytes)).to.include({ ok: false, reason: 'bad-signature' })
  })

  it('drops an announcement signed by one peer that speaks for another', async () => {
    const other = await generateKeyPair('Ed25519')
    const forged = announcementOf(other)
    const opened = await openAnnouncement(await sealAnnouncement(forged, key))
    expect(opened).to.include({ ok: false, reason: 'forged' })
  })

  it('drops names with control characters, non-http URLs and odd addresses', async () => {
    for (const bad of [{ name: 'evil\u001b[2J' }, { name: '' }, { name: 'x'.repeat(65) }, { http: 'file:///etc/passwd' }, { addrs: ['not-a-multiaddr'] }, { heartbeatMs: 3_600_000 }]) {
      const opened = await openAnnouncement(await sealAnnouncement(announcementOf(key, bad), key))
      expect(opened, JSON.stringify(bad)).to.include({ ok: false, reason: 'malformed' })
    }
    expect(await openAnnouncement(await sealAnnouncement(announcementOf(key, { name: 'Küche 2 📷' }), key))).to.include({ ok: true })
  })

  it('drops signed payloads that are not JSON or break the schema, naming the field', async () => {
    expect(await openAnnouncement(await sealRaw(new TextEncoder().encode('{nope'), key))).to.include({ ok: false, reason: 'malformed' })
    const badSkill = { ...announcementOf(key), skills: [{ name: 'camera', version: '1', functions: { f: { params: ['i128'], results: [] } } }] }
    const opened = await openAnnouncement(await sealRaw(new TextEncoder().encode(JSON.stringify(badSkill)), key))
    expect(opened).to.include({ ok: false, reason: 'malformed' })
    if (!opened.ok) expect(opened.detail).to.match(/^skills\.0\.functions\.f\.params\.0/)
    const badLoad = { ...announcementOf(key), load: { cpu: 7, freeMem: 1, instances: 0 } }
    expect(await openAnnouncement(await sealRaw(new TextEncoder().encode(JSON.stringify(badLoad)), key))).to.include({ ok: false, reason: 'malformed' })
  })

  it('drops an envelope of another payload type', async () => {
    const record = { domain: ANNOUNCE_DOMAIN, codec: new TextEncoder().encode('/other/1'), marshal: () => new TextEncoder().encode(JSON.stringify(announcementOf(key))), equals: () => false }
    const bytes = (await RecordEnvelope.seal(record, key)).marshal()
    expect(await openAnnouncement(bytes)).to.include({ ok: false, reason: 'malformed' })
  })

  it('numbers announcements above the last one and the clock', () => {
    expect(nextSeq(0, 1000)).to.equal(1000)
    expect(nextSeq(1000, 1000)).to.equal(1001)
    expect(nextSeq(5000, 1000)).to.equal(5001)
  })
})
