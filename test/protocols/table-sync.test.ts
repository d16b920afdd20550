import { expect } from 'chai'
import { knowsNewer } from '../../src/protocols/announce/announce.ts'
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

  it('reads a request of [peer id, seq] pairs and refuses anything else', () => {
    expect([...parseKnown('[["a",1],["b",2]]')]).to.deep.equal([['a', 1], ['b', 2]])
    expect(() => parseKnown('{"a":1}')).to.throw('list')
    expect(() => parseKnown('[["a","1"]]')).to.throw('[peer id, seq]')
  })
})
