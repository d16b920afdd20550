import { expect } from 'chai'
import { knowsNewer, nextSync } from '../../src/protocols/announce/announce.ts'
import { MAX_SYNC_MS, SYNC_MS, SYNC_SOON_MS } from '../../src/protocols/announce/constants.ts'
import { parseKnown } from '../../src/protocols/announce/table-sync.ts'

describe('table sync: what two neighbours exchange', () => {
  const mine = new Map([['a', { seq: 5 }], ['b', { seq: 7 }]])

  it('an asker that knows a newer or unknown announcement is asked back (push as well as pull)', () => {
    expect(knowsNewer(new Map([['a', 6]]), mine, 'me')).to.equal(true)
    expect(knowsNewer(new Map([['a', 5], ['c', 1]]), mine, 'me')).to.equal(true)
  })

  it('an asker that knows nothing newer is not, nor for this node\'s own announcement', () => {
    expect(knowsNewer(new Map([['a', 5], ['b', 6]]), mine, 'me')).to.equal(false)
    expect(knowsNewer(new Map(), mine, 'me')).to.equal(false)
    expect(knowsNewer(new Map([['me', 99]]), mine, 'me')).to.equal(false)
  })

  it('asks soon while asks bring news, at the period while the mesh grows, and less and less often once settled', () => {
    const quiet = { taken: false, met: false }
    let idle = SYNC_MS
    const waits: number[] = []
    for (let i = 0; i < 6; i++) {
      const next = nextSync(idle, quiet)
      waits.push(next.delayMs)
      idle = next.idleMs
    }
    expect(waits).to.deep.equal([SYNC_MS, 2 * SYNC_MS, 4 * SYNC_MS, 8 * SYNC_MS, MAX_SYNC_MS, MAX_SYNC_MS])
    expect(nextSync(idle, { taken: true, met: true })).to.deep.equal({ delayMs: SYNC_SOON_MS, idleMs: SYNC_MS })
    expect(nextSync(idle, { taken: false, met: true })).to.deep.equal({ delayMs: SYNC_MS, idleMs: SYNC_MS })
  })

  it('reads a request of [peer id, seq] pairs and refuses anything else', () => {
    expect([...parseKnown('[["a",1],["b",2]]')]).to.deep.equal([['a', 1], ['b', 2]])
    expect(() => parseKnown('{"a":1}')).to.throw('list')
    expect(() => parseKnown('[["a","1"]]')).to.throw('[peer id, seq]')
  })
})
