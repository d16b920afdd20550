import { expect } from 'chai'
import { lazyWindowUpdates } from '../../src/protocols/call/lazy-window.ts'
import type { Stream } from '@libp2p/interface'

/** the fields of a @libp2p/yamux stream the wrapper reads, and a count of updates sent */
function yamuxLike (state: number): { state: number, recvWindow: number, recvWindowCapacity: number, sent: number, sendWindowUpdate: () => void } {
  const stream = {
    state,
    recvWindow: 1000,
    recvWindowCapacity: 1000,
    sent: 0,
    sendWindowUpdate () { stream.sent++; stream.recvWindowCapacity = stream.recvWindow }
  }
  return stream
}

describe('lazy yamux window updates', () => {
  it('grants window back only once half of it is used', () => {
    const stream = yamuxLike(3)
    lazyWindowUpdates(stream as unknown as Stream)
    stream.recvWindowCapacity = 900
    stream.sendWindowUpdate()
    stream.recvWindowCapacity = 500
    stream.sendWindowUpdate()
    expect(stream.sent).to.equal(0)
    stream.recvWindowCapacity = 499
    stream.sendWindowUpdate()
    expect(stream.sent).to.equal(1)
    expect(stream.recvWindowCapacity).to.equal(1000)
  })

  it('sends at once while a flag (SYN/ACK) is still to go, or the stream is paused', () => {
    for (const state of [0, 2, 5]) {
      const stream = yamuxLike(state)
      lazyWindowUpdates(stream as unknown as Stream)
      stream.recvWindowCapacity = 990
      stream.sendWindowUpdate()
      expect(stream.sent, `state ${state}`).to.equal(1)
    }
  })

  it('leaves other streams as they are', () => {
    const send = (): boolean => true
    const other = { send, status: 'open' }
    lazyWindowUpdates(other as unknown as Stream)
    expect(other).to.deep.equal({ send, status: 'open' })
  })
})
