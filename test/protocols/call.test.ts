import { createHash, randomBytes } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { plaintext } from '@libp2p/plaintext'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { expect } from 'chai'
import { createLibp2p } from 'libp2p'
import { WasmeshError } from '../../src/errors.ts'
import { CALL_PROTOCOL, CallNotStarted, callService, notStarted } from '../../src/protocols/call/index.ts'
import {
  FrameDecoder, FrameType, FramingError, decodeError, encodeErrorBody, encodeFrame, errorBody, frameHead, joinParts
} from '../../src/protocols/call/framing.ts'
import { rejection } from '../helpers/rejection.ts'
import { waitFor } from '../helpers/wait.ts'
import type { CallContext, CallRequest, CallService, CallServiceInit } from '../../src/protocols/call/index.ts'
import type { Libp2p } from '@libp2p/interface'

type CallNode = Libp2p<{ call: CallService }>

async function startNode (init?: CallServiceInit): Promise<CallNode> {
  return await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [plaintext()],
    streamMuxers: [yamux()],
    connectionMonitor: { enabled: false },
    connectionManager: { inboundConnectionThreshold: 1_000 },
    services: { call: callService(init) }
  })
}

/** Lets `from` dial `to` by peer id alone, as the node does from its peer table. */
async function introduce (from: CallNode, to: CallNode): Promise<void> {
  await from.peerStore.merge(to.peerId, { multiaddrs: to.getMultiaddrs() })
}

function request (over: Partial<CallRequest> = {}): CallRequest {
  return { deployment: 'd1', step: 0, version: 1, args: [], files: [], budgetMs: 10_000, ...over }
}

function callStreams (from: CallNode, to: CallNode): number {
  return from.getConnections(to.peerId).flatMap(c => c.streams)
    .filter(s => s.protocol === CALL_PROTOCOL && s.direction === 'outbound' && s.status === 'open').length
}

function sha (bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

describe('call framing', function () {
  it('cuts frames out of bytes split anywhere, and refuses garbage', () => {
    const frames = [
      encodeFrame(FrameType.request, 1, new TextEncoder().encode('{"a":1}')),
      encodeFrame(FrameType.cancel, 0xfffffffe),
      encodeFrame(FrameType.chunk, 3, new Uint8Array(1000).fill(9))
    ]
    const all = new Uint8Array(frames.reduce((n, f) => n + f.byteLength, 0))
    frames.reduce((offset, f) => { all.set(f, offset); return offset + f.byteLength }, 0)
    for (const step of [1, 2, 7, 9, 100, all.byteLength]) {
      const decoder = new FrameDecoder()
      const got: Array<{ type: number, id: number, bytes: Uint8Array }> = []
      for (let i = 0; i < all.byteLength; i += step) {
        decoder.push([all.subarray(i, i + step)])
        for (let f = decoder.next(); f !== undefined; f = decoder.next()) got.push({ type: f.type, id: f.id, bytes: joinParts(f.parts, f.length).slice() })
      }
      expect(got.map(f => [f.type, f.id, f.bytes.byteLength])).to.deep.equal([[1, 1, 7], [5, 0xfffffffe, 0], [4, 3, 1000]])
      expect(got[2].bytes.every(v => v === 9)).to.equal(true)
      expect(decoder.buffered).to.equal(0)
    }
    const garbage = new FrameDecoder()
    garbage.push(new TextEncoder().encode('GET / HTTP/1.1'))
    expect(() => garbage.next()).to.throw(FramingError)
    const oversized = new FrameDecoder()
    oversized.push(frameHead(FrameType.chunk, 1, 2 * 1024 * 1024))
    expect(() => oversized.next()).to.throw(FramingError)
  })

  it('carries errors as they were thrown', () => {
    const notFound = decodeError(encodeErrorBody(errorBody(new WasmeshError('not-found', 'gone', { a: 1 }))))
    expect(notFound).to.include({ code: 'not-found', message: 'gone' })
    expect(notFound.details).to.deep.equal({ a: 1 })
    expect(notStarted(decodeError(encodeErrorBody(errorBody(new CallNotStarted('not here')))))).to.equal(true)
    expect(decodeError(encodeErrorBody(errorBody(new TypeError('x is not a function'))))).to.include({ code: 'internal', message: 'x is not a function' })
    expect(decodeError(new TextEncoder().encode('{"code":"nonsense","message":"m"}')).code).to.equal('internal')
    expect(decodeError(new TextEncoder().encode('not json')).code).to.equal('internal')
  })
})

describe('call transport', function () {
  let a: CallNode
  let b: CallNode
  let c: CallNode
  /** what b's handler saw, by deployment name */
  const seen = new Map<string, { req: CallRequest, ctx: CallContext }>()

  before(async () => {
    [a, b, c] = await Promise.all([startNode(), startNode(), startNode({ maxFileBytes: 1024 * 1024 })])
    await introduce(a, b)
    await introduce(c, b)
    await introduce(a, c)
    // b hosts: the deployment name says what to do
    b.services.call.handle(async (req, ctx) => {
      seen.set(req.deployment, { req, ctx })
      switch (req.deployment) {
        case 'double': return { kind: 'value', value: Number(req.args[0]) * 2 }
        case 'echo-file': {
          const bytes = req.files[0].bytes
          const out = new Uint8Array(bytes.byteLength)
          for (let i = 0; i < bytes.byteLength; i++) out[i] = bytes[bytes.byteLength - 1 - i]
          return { kind: 'file', file: { mount: 'out', mediaType: 'application/octet-stream', bytes: out } }
        }
        case 'big-answer': return { kind: 'file', file: { mount: 'out', mediaType: 'text/plain', bytes: new Uint8Array(Number(req.args[0])).fill(7) } }
        case 'files-info': return { kind: 'value', value: req.files.map(f => `${f.mount}:${f.mediaType}:${f.bytes.byteLength}`).join(',') }
        case 'none': return { kind: 'none' }
        case 'not-found': throw new WasmeshError('not-found', 'no such thing here', { thing: 'x', tried: [1, 2] })
        case 'boom': throw new Error('kaboom')
        case 'not-hosted': throw new CallNotStarted('step 3 is not hosted here', { step: 3 })
        case 'wait': return await new Promise((_resolve, reject) => {
          ctx.signal.addEventListener('abort', () => { reject(ctx.signal.reason) })
        })
        default: return { kind: 'value', value: req.deployment }
      }
    })
    c.services.call.handle(async () => ({ kind: 'value', value: 'from c' }))
  })

  after(async () => {
    await Promise.allSettled([a, b, c].map(async n => { await n?.stop() }))
  })

  it('carries a value round trip, telling the host who called', async () => {
    const answer = await a.services.call.call(b.peerId.toString(), request({ deployment: 'double', args: [21] }))
    expect(answer).to.deep.equal({ kind: 'value', value: 42 })
    const { req, ctx } = seen.get('double')!
    expect(ctx.peerId).to.equal(a.peerId.toString())
    expect(req.args).to.deep.equal([21])
    expect(req.budgetMs).to.be.within(9_000, 10_000)
    expect(await a.services.call.call(b.peerId.toString(), request({ deployment: 'none' }))).to.deep.equal({ kind: 'none' })
  })

  it('runs 500 calls at once on one stream, each answer matched to its request', async () => {
    // the first calls to a peer share the one stream they wait for
    const first = await Promise.all(Array.from({ length: 50 }, async (_, i) =>
      await c.services.call.call(b.peerId.toString(), request({ deployment: 'double', args: [i] }))))
    first.forEach((answer, i) => { expect(answer).to.deep.equal({ kind: 'value', value: i * 2 }) })
    expect(callStreams(c, b)).to.equal(1)

    const answers = await Promise.all(Array.from({ length: 500 }, async (_, i) =>
      await a.services.call.call(b.peerId.toString(), request({ deployment: 'double', args: [i] }))))
    answers.forEach((answer, i) => { expect(answer).to.deep.equal({ kind: 'value', value: i * 2 }) })
    expect(callStreams(a, b)).to.equal(1)
  })

  it('streams a 12 MB file each way with the bytes intact', async () => {
    const bytes = new Uint8Array(randomBytes(12 * 1024 * 1024 + 123))
    const answer = await a.services.call.call(b.peerId.toString(), request({
      deployment: 'echo-file',
      files: [{ mount: 'in', mediaType: 'application/octet-stream', bytes }]
    }))
    expect(sha(seen.get('echo-file')!.req.files[0].bytes)).to.equal(sha(bytes))
    if (answer.kind !== 'file') throw new Error('expected a file')
    expect(answer.file.bytes.byteLength).to.equal(bytes.byteLength)
    expect(answer.file.bytes.slice().reverse()).to.deep.equal(bytes)
    expect(callStreams(a, b)).to.equal(1)
  })

  it('carries several files, empty ones too, and interleaves calls with files', async () => {
    const files = [
      { mount: 'x', mediaType: 'a/b', bytes: new Uint8Array(0) },
      { mount: 'y', mediaType: 'c/d', bytes: new Uint8Array(700_000).fill(1) },
      { mount: 'z', mediaType: 'e/f', bytes: new Uint8Array(3) }
    ]
    const [info, ...doubles] = await Promise.all([
      a.services.call.call(b.peerId.toString(), request({ deployment: 'files-info', files })),
      ...Array.from({ length: 4 }, async (_, i) => await a.services.call.call(b.peerId.toString(), request({
        deployment: 'echo-file', files: [{ mount: 'in', mediaType: 'x/y', bytes: new Uint8Array(2_000_000).fill(i) }]
      })))
    ])
    expect(info).to.deep.equal({ kind: 'value', value: 'x:a/b:0,y:c/d:700000,z:e/f:3' })
    doubles.forEach((answer, i) => {
      if (answer.kind !== 'file') throw new Error('expected a file')
      expect(answer.file.bytes.byteLength).to.equal(2_000_000)
      expect(answer.file.bytes.every(v => v === i)).to.equal(true)
    })
  })

  it('passes error codes, messages and details through', async () => {
    const err = await rejection(a.services.call.call(b.peerId.toString(), request({ deployment: 'not-found' })))
    expect(err.code).to.equal('not-found')
    expect(err.message).to.equal('no such thing here')
    expect(err.details).to.deep.equal({ thing: 'x', tried: [1, 2] })
    expect(notStarted(err)).to.equal(false)

    const boom = await rejection(a.services.call.call(b.peerId.toString(), request({ deployment: 'boom' })))
    expect(boom.code).to.equal('internal')
    expect(boom.message).to.equal('kaboom')
    expect(notStarted(boom)).to.equal(false)
  })

  it('passes a CallNotStarted through as one', async () => {
    const err = await rejection(a.services.call.call(b.peerId.toString(), request({ deployment: 'not-hosted' })))
    expect(err).to.be.instanceOf(CallNotStarted)
    expect(err.code).to.equal('unavailable')
    expect(err.details).to.deep.equal({ step: 3 })
    expect(notStarted(err)).to.equal(true)
  })

  it('says an unreachable peer did not start the call', async () => {
    const ghost = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    // a port nobody listens on
    await a.peerStore.merge(ghost, { multiaddrs: [multiaddr('/ip4/127.0.0.1/tcp/1')] })
    const err = await rejection(a.services.call.call(ghost.toString(), request()))
    expect(notStarted(err)).to.equal(true)
    expect(err.message).to.match(/unreachable/)

    // a peer that runs libp2p but not the call protocol
    const bare = await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [plaintext()],
      streamMuxers: [yamux()],
      connectionMonitor: { enabled: false }
    })
    try {
      await a.peerStore.merge(bare.peerId, { multiaddrs: bare.getMultiaddrs() })
      expect(notStarted(await rejection(a.services.call.call(bare.peerId.toString(), request())))).to.equal(true)
    } finally {
      await bare.stop()
    }
  })

  it('times out at the budget and aborts the handler on the host', async () => {
    const err = await rejection(a.services.call.call(b.peerId.toString(), request({ deployment: 'wait', budgetMs: 150 })))
    expect(err.code).to.equal('timeout')
    expect(notStarted(err)).to.equal(false)
    const { ctx } = seen.get('wait')!
    await waitFor(() => ctx.signal.aborted, 2_000, 'the host handler to be aborted')
    // the next call on the stream still works
    expect(await a.services.call.call(b.peerId.toString(), request({ deployment: 'double', args: [1] }))).to.deep.equal({ kind: 'value', value: 2 })
  })

  it('cancels on the caller signal and aborts the handler on the host', async () => {
    seen.delete('wait')
    const controller = new AbortController()
    const pending = a.services.call.call(b.peerId.toString(), request({ deployment: 'wait' }), { signal: controller.signal })
    await waitFor(() => seen.has('wait'), 2_000, 'the call to reach the host')
    controller.abort()
    const err = await rejection(pending)
    expect(err.code).to.equal('unavailable')
    await waitFor(() => seen.get('wait')!.ctx.signal.aborted, 2_000, 'the host handler to be aborted')
  })

  it('refuses files over maxFileBytes as too-large, and the stream goes on', async () => {
    // c takes at most 1 MiB: a request to it over that fails...
    const big = new Uint8Array(3 * 1024 * 1024)
    const err = await rejection(a.services.call.call(c.peerId.toString(), request({ files: [{ mount: 'in', mediaType: 'x/y', bytes: big }] })))
    expect(err.code).to.equal('too-large')
    expect(await a.services.call.call(c.peerId.toString(), request())).to.deep.equal({ kind: 'value', value: 'from c' })
    expect(callStreams(a, c)).to.equal(1)

    // a header over maxHeaderBytes (64 KiB) fails alone too
    const longArgs = await rejection(a.services.call.call(c.peerId.toString(), request({ args: ['x'.repeat(100_000)] })))
    expect(longArgs.code).to.equal('too-large')
    expect(await a.services.call.call(c.peerId.toString(), request())).to.deep.equal({ kind: 'value', value: 'from c' })
    expect(callStreams(a, c)).to.equal(1)

    // ...and so does an answer to it over that
    const answerErr = await rejection(c.services.call.call(b.peerId.toString(), request({ deployment: 'big-answer', args: [2 * 1024 * 1024] })))
    expect(answerErr.code).to.equal('too-large')
    expect(await c.services.call.call(b.peerId.toString(), request({ deployment: 'big-answer', args: [1000] })))
      .to.deep.include({ kind: 'file' })
    expect(callStreams(c, b)).to.equal(1)
  })

  it('survives garbage on a raw stream of the protocol', async () => {
    const garbage = [
      new TextEncoder().encode('hello, this is not a frame at all'),
      frameHead(FrameType.request, 1, 0xffffffff), // oversized
      encodeFrame(FrameType.answer, 5, new Uint8Array(3)) // a frame only hosts send
    ]
    for (const bytes of garbage) {
      const stream = await a.dialProtocol(b.peerId, CALL_PROTOCOL)
      stream.send(bytes)
      await waitFor(() => stream.status !== 'open', 2_000, 'the host to drop the stream')
    }

    // a malformed call fails alone: the stream stays
    const stream = await a.dialProtocol(b.peerId, CALL_PROTOCOL)
    const replies: Uint8Array[] = []
    stream.addEventListener('message', evt => { replies.push(evt.data.subarray()) })
    stream.send(encodeFrame(FrameType.request, 7, new TextEncoder().encode('{not json')))
    stream.send(encodeFrame(FrameType.chunk, 99, new Uint8Array(10))) // an unknown call: ignored
    stream.send(encodeFrame(FrameType.cancel, 98)) // likewise
    await waitFor(() => replies.length > 0, 2_000, 'an error frame')
    expect(replies[0][0]).to.equal(FrameType.error)
    expect(new TextDecoder().decode(replies[0].subarray(9))).to.match(/bad-request/)
    expect(stream.status).to.equal('open')
    stream.abort(new Error('done'))

    expect(await a.services.call.call(b.peerId.toString(), request({ deployment: 'double', args: [5] }))).to.deep.equal({ kind: 'value', value: 10 })
  })

  it('rejects, not hangs, when the host stops mid-call; stop rejects pending calls', async () => {
    const host = await startNode()
    host.services.call.handle(async (_req, ctx) => await new Promise((_resolve, reject) => {
      ctx.signal.addEventListener('abort', () => { reject(ctx.signal.reason) })
    }))
    await introduce(a, host)
    const pending = rejection(a.services.call.call(host.peerId.toString(), request({ budgetMs: 20_000 })))
    await waitFor(() => callStreams(a, host) === 1, 2_000, 'the stream to open')
    await new Promise(resolve => setTimeout(resolve, 50))
    await host.stop()
    const err = await pending
    expect(err.code).to.equal('unavailable')
    expect(notStarted(err)).to.equal(false)

    // the caller stopping rejects its own pending calls
    const caller = await startNode()
    await introduce(caller, b)
    const waiting = rejection(caller.services.call.call(b.peerId.toString(), request({ deployment: 'wait', budgetMs: 20_000 })))
    await waitFor(() => callStreams(caller, b) === 1, 2_000, 'the stream to open')
    await caller.stop()
    expect((await waiting).code).to.equal('unavailable')
  })

  it('reopens the stream after it closes', async () => {
    await a.services.call.call(b.peerId.toString(), request())
    await a.hangUp(b.peerId)
    expect(await a.services.call.call(b.peerId.toString(), request({ deployment: 'double', args: [4] }))).to.deep.equal({ kind: 'value', value: 8 })
    expect(callStreams(a, b)).to.equal(1)
  })
})
