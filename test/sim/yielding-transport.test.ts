import { memory } from '@libp2p/memory'
import { plaintext } from '@libp2p/plaintext'
import { yamux } from '@libp2p/yamux'
import { expect } from 'chai'
import { createLibp2p } from 'libp2p'
import { yielding } from '../../sim/yielding-transport.ts'
import type { Libp2p, Stream } from '@libp2p/interface'

const ECHO = '/test/echo/1.0.0'
let n = 0

async function pair (transport: () => ReturnType<typeof memory>): Promise<[Libp2p, Libp2p]> {
  const start = async (): Promise<Libp2p> => await createLibp2p({
    addresses: { listen: [`/memory/yielding-test-${process.pid}-${n++}`] },
    transports: [transport()],
    connectionEncrypters: [plaintext()],
    streamMuxers: [yamux()],
    connectionMonitor: { enabled: false }
  })
  const [a, b] = await Promise.all([start(), start()])
  await b.handle(ECHO, (stream: Stream) => {
    stream.addEventListener('message', (evt) => { stream.send(evt.data) })
    stream.addEventListener('remoteCloseWrite', () => { void stream.close() })
  })
  return [a, b]
}

/** Bounces one byte `rounds` times; resolves with how many rounds had passed when a timer set at the start fired. */
async function bounce (a: Libp2p, b: Libp2p, rounds: number): Promise<{ timerAt: number, received: number[] }> {
  const stream = await a.dialProtocol(b.getMultiaddrs()[0], ECHO)
  const received: number[] = []
  let timerAt = -1
  setTimeout(() => { timerAt = received.length }, 0)
  await new Promise<void>((resolve) => {
    stream.addEventListener('message', (evt) => {
      for (const byte of evt.data.subarray()) received.push(byte)
      if (received.length < rounds) stream.send(Uint8Array.of(received.length % 256))
      else resolve()
    })
    stream.send(Uint8Array.of(0))
  })
  await stream.close()
  if (timerAt === -1) await new Promise(resolve => setTimeout(resolve, 0))
  return { timerAt, received }
}

describe('simulator: the yielding memory transport', function () {
  this.timeout(30_000)
  let nodes: Libp2p[] = []
  afterEach(async () => { await Promise.all(nodes.map(async x => { await x.stop() })) })

  it('delivers every chunk in order, and timers run while two nodes keep each other busy', async () => {
    nodes = await pair(() => yielding(memory()))
    const { timerAt, received } = await bounce(nodes[0], nodes[1], 2000)
    expect(received).to.deep.equal(Array.from({ length: 2000 }, (_, i) => i % 256))
    expect(timerAt, 'round trips before a 0 ms timer ran').to.be.within(0, 20)
  })

  it('(the plain memory transport lets the same exchange run to its end before any timer)', async () => {
    nodes = await pair(() => memory())
    const { timerAt } = await bounce(nodes[0], nodes[1], 2000)
    expect(timerAt).to.equal(2000)
  })
})
