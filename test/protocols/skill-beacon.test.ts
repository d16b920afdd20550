import { fileURLToPath } from 'node:url'
import { expect } from 'chai'
import { summaryFromTxt, summaryToTxt } from '../../src/protocols/skill-beacon/summary.ts'
import { createLan, destroyLanByPrefix, netnsUnavailableReason } from '../helpers/netns.ts'
import type { SkillSummary } from '../../src/protocols/skill-beacon/summary.ts'

const summary: SkillSummary = {
  peerId: '12D3KooWSYmoM99yFf2XAskqsSL6ZtAmzTSET3KtsY5gzH8ZBHqG',
  name: 'cam-1',
  skills: ['sys', 'camera'],
  digest: '0123456789abcdef',
  http: 'http://10.0.0.1:8080'
}

describe('skill beacon', () => {
  it('round-trips a summary through TXT strings (as strings or bytes)', () => {
    const txt = summaryToTxt(summary)
    expect(summaryFromTxt(txt)).to.deep.equal(summary)
    expect(summaryFromTxt(txt.map(s => Buffer.from(s)))).to.deep.equal(summary)
    expect(summaryFromTxt(summaryToTxt({ ...summary, http: null }))).to.deep.equal({ ...summary, http: null })
  })

  it('ignores TXT records that are not a sound summary', () => {
    const txt = summaryToTxt(summary)
    expect(summaryFromTxt([])).to.equal(undefined)
    expect(summaryFromTxt(txt.filter(t => !t.startsWith('digest=')))).to.equal(undefined)
    expect(summaryFromTxt(txt.map(t => t.startsWith('id=') ? 'id=not a peer id' : t))).to.equal(undefined)
    // base58 of the right length, but no key's multihash: it would reach the peer table and fail whoever parses it
    for (const bogus of ['1'.repeat(44), `12D3KooW${'1'.repeat(44)}`]) {
      expect(summaryFromTxt(txt.map(t => t.startsWith('id=') ? `id=${bogus}` : t)), bogus).to.equal(undefined)
    }
    expect(summaryFromTxt(txt.map(t => t.startsWith('skills=') ? 'skills=Bad Skill!' : t))).to.equal(undefined)
    expect(summaryFromTxt(['garbage', '=', 'id'])).to.equal(undefined)
  })

  describe('over real multicast between two namespace hosts', function () {
    const PREFIX = 'wmt-beacon'
    after(async () => { await destroyLanByPrefix(PREFIX) })

    it('each host hears the other\'s skills, and the goodbye of one that stops', async function () {
      const reason = netnsUnavailableReason()
      if (reason !== null) {
        console.log(`      skipped: ${reason}`)
        this.skip()
      }
      const lan = await createLan({ prefix: PREFIX, hosts: 2 })
      try {
        const probe = fileURLToPath(new URL('../helpers/beacon-probe.ts', import.meta.url))
        const [a, b] = await Promise.all([
          lan.run(0, [process.execPath, probe, 'a', 'sys,camera', '1500'], 10_000),
          lan.run(1, [process.execPath, probe, 'b', 'sys,dht', '2500'], 10_000)
        ])
        const lines = (out: string): any[] => out.trim().split('\n').map(l => JSON.parse(l))
        const heardBy = (out: string, name: string): any => lines(out).find(l => l.name === name)
        const selfOf = (out: string): string => lines(out).find(l => l.self !== undefined).self
        expect(heardBy(a.stdout, 'b'), a.stderr).to.deep.include({ peerId: selfOf(b.stdout), skills: ['sys', 'dht'], digest: '00112233445566ff' })
        expect(heardBy(b.stdout, 'a'), b.stderr).to.deep.include({ peerId: selfOf(a.stdout), skills: ['sys', 'camera'] })
        expect(lines(a.stdout).some(l => l.name === 'a')).to.equal(false) // never hears itself
        expect(lines(b.stdout).some(l => l.goodbye === selfOf(a.stdout)), b.stdout).to.equal(true)
      } finally {
        await lan.destroy()
      }
    })
  })
})
