import { setTimeout as later } from 'node:timers/promises'
import { expect } from 'chai'
import { collectBids } from '../../src/node/deployments/bid-round.ts'

const never = new Promise<string>(() => {})

describe('a bid round', () => {
  it('takes every answer when all come in', async () => {
    expect(await collectBids([later(5, 'a'), later(1, 'b'), Promise.resolve(undefined)], 1_000, 1)).to.have.members(['a', 'b'])
  })

  it('closes a grace period after the first bid, without the stragglers', async () => {
    expect(await collectBids([later(1, 'a'), never, later(5, 'b')], 50, 1)).to.deep.equal(['a', 'b'])
  })

  it('waits for as many bids as are wanted before the grace period starts', async () => {
    expect(await collectBids([later(1, 'a'), later(100, 'b'), later(110, 'c'), never], 50, 2)).to.deep.equal(['a', 'b', 'c'])
  })

  it('waits for a slow bidder while nobody else has bid', async () => {
    const asks = [Promise.reject(new Error('refused')), Promise.resolve(undefined), later(100, 'slow')]
    expect(await collectBids(asks, 10, 1)).to.deep.equal(['slow'])
  })

  it('ends at once with no bidders, and with nothing when nobody bids', async () => {
    expect(await collectBids([], 10, 1)).to.deep.equal([])
    expect(await collectBids([Promise.resolve(undefined), Promise.reject(new Error('x'))], 10, 1)).to.deep.equal([])
  })
})
