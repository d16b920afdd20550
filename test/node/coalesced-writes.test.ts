import { createHash, randomBytes } from 'node:crypto'
import { createServer, connect } from 'node:net'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { LengthPrefixedDecoder } from '@libp2p/utils'
import { yamux } from '@libp2p/yamux'
import { expect } from 'chai'
import { createLibp2p } from 'libp2p'
import { coalescedWrites, corkPerSend, quietLengths } from '../../src/node/coalesced-writes.ts'
import { callService } from '../../src/protocols/call/index.ts'
import type { CallService } from '../../src/protocols/call/index.ts'
import type { Libp2p, MessageStream, SecuredConnection } from '@libp2p/interface'
import type { Socket } from 'node:net'

type CallNode = Libp2p<{ call: CallService }>

async function startNode (): Promise<CallNode> {
  return await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [coalescedWrites(noise())],
    streamMuxers: [yamux()],
    connectionMonitor: { enabled: false },
    services: { call: callService() }
  })
}

const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

/** noise's own length reader: a RangeError when fewer than 2 bytes are buffered */
function throwingUint16BE (data: Uint8Array | { byteLength: number, get: (i: number) => number }): number {
  if (data.byteLength < 2) throw new RangeError('Could not decode int16BE')
  return data instanceof Uint8Array ? (data[0] << 8) | data[1] : (data.get(0) << 8) | data.get(1)
}

function prefixed (payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(payload.byteLength + 2)
  out[0] = payload.byteLength >> 8
  out[1] = payload.byteLength & 0xff
  out.set(payload, 2)
  return out
}

describe('coalesced writes (noise over TCP)', function () {
  this.timeout(30_000)

  it('carries calls and files larger than the muxer window both ways, intact', async () => {
    const [a, b] = await Promise.all([startNode(), startNode()])
    try {
      b.services.call.handle(async (req) => req.files.length === 0
        ? { kind: 'value', value: Number(req.args[0]) * 2 }
        : { kind: 'file', file: { mount: 'out', mediaType: 'application/octet-stream', bytes: req.files[0].bytes.slice().reverse() } })
      await a.peerStore.merge(b.peerId, { multiaddrs: b.getMultiaddrs() })
      const call = async (args: number[], files: Uint8Array[] = []): ReturnType<CallService['call']> => await a.services.call.call(b.peerId.toString(), {
        deployment: 'd', step: 0, version: 1, args, files: files.map(bytes => ({ mount: 'in', mediaType: 'application/octet-stream', bytes })), budgetMs: 20_000
      })
      // many small calls: the receive window is granted back only now and then
      const answers = await Promise.all(Array.from({ length: 3000 }, async (_, i) => await call([i])))
      expect(answers.map(x => x.kind === 'value' ? x.value : undefined)).to.deep.equal(Array.from({ length: 3000 }, (_, i) => i * 2))
      const bytes = randomBytes(3 * 1024 * 1024 + 17)
      const answer = await call([], [bytes])
      if (answer.kind !== 'file') throw new Error(`answered ${answer.kind}`)
      expect(sha(answer.file.bytes)).to.equal(sha(Uint8Array.from(bytes).reverse()))
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })

  it('reads length prefixes as noise does, split anywhere, without throwing', () => {
    const messages = [randomBytes(300), new Uint8Array(0), randomBytes(1), randomBytes(70_000).subarray(0, 65_535)]
    const bytes = Buffer.concat(messages.map(prefixed))
    for (const cut of [1, 2, 3, 7, 1000, bytes.byteLength]) {
      const ours = new LengthPrefixedDecoder({ lengthDecoder: throwingUint16BE, encodingLength: () => 2, maxDataLength: 65_535 })
      const theirs = new LengthPrefixedDecoder({ lengthDecoder: throwingUint16BE, encodingLength: () => 2, maxDataLength: 65_535 })
      quietLengths({ connection: { decoder: ours } } as unknown as SecuredConnection)
      expect((ours as unknown as { lengthDecoder: unknown }).lengthDecoder).to.not.equal(throwingUint16BE)
      const got: string[] = []
      const want: string[] = []
      for (let offset = 0; offset < bytes.byteLength; offset += cut) {
        const piece = bytes.subarray(offset, offset + cut)
        for (const m of ours.decode(piece)) got.push(sha(m.subarray()))
        for (const m of theirs.decode(piece)) want.push(sha(m.subarray()))
      }
      // noise's decoder drops empty messages; both keep the rest in order
      expect(got).to.deep.equal(want)
      expect(got).to.have.length(3)
    }
  })

  it('leaves connections of another shape as they are', () => {
    const other = { connection: { decoder: { lengthDecoder: throwingUint16BE, encodingLength: () => 4 } } } as unknown as SecuredConnection
    quietLengths(other)
    expect((other.connection as unknown as { decoder: { lengthDecoder: unknown } }).decoder.lengthDecoder).to.equal(throwingUint16BE)
    const send = (): boolean => true
    const plain = { send } as unknown as MessageStream
    expect(corkPerSend(plain).send).to.equal(send)
  })

  it('sends what one send() writes as one corked burst, in order', async () => {
    const received: Buffer[] = []
    const server = createServer(s => { s.on('data', d => received.push(d)) })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as { port: number }).port
    const socket: Socket = connect(port, '127.0.0.1')
    await new Promise(resolve => socket.once('connect', resolve))
    try {
      const corkedDuringSend: number[] = []
      const connection = {
        socket,
        send (data: Uint8Array[]): boolean {
          corkedDuringSend.push(socket.writableCorked)
          for (const part of data) socket.write(part)
          return true
        }
      }
      corkPerSend(connection as unknown as MessageStream)
      ;(connection.send as (data: Uint8Array[]) => boolean)([Buffer.from('ab'), Buffer.from('cd')])
      ;(connection.send as (data: Uint8Array[]) => boolean)([Buffer.from('ef')])
      expect(corkedDuringSend).to.deep.equal([1, 1])
      expect(socket.writableCorked).to.equal(0)
      while (Buffer.concat(received).byteLength < 6) await new Promise(resolve => setTimeout(resolve, 5))
      expect(Buffer.concat(received).toString()).to.equal('abcdef')
    } finally {
      socket.destroy()
      await new Promise(resolve => server.close(resolve))
    }
  })
})
