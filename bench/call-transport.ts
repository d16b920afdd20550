/**
 * Call transport benchmark: two processes on loopback TCP (yamux; noise by default, `--plaintext`
 * for none; the encrypter wrapped in coalescedWrites as a node's is, so a message leaves in one
 * socket write). This process calls; a forked child (the same file, `--host`) answers with an echo.
 *
 *   node_modules/.bin/node bench/call-transport.ts [--plaintext] [--calls N]
 *
 * Prints p50/p99 latency of a 100-byte call at concurrency 1, against a 100-byte ping-pong on a
 * plain TCP socket between the same two processes (what the transport adds is the difference);
 * calls/s at concurrency 64; and the round trip of a 10 MB file, sent and echoed back (and of
 * 1 and 50 MB, to show time in proportion to size).
 */
import { fork } from 'node:child_process'
import { randomFillSync } from 'node:crypto'
import { connect, createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { noise } from '@libp2p/noise'
import { plaintext } from '@libp2p/plaintext'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { coalescedWrites } from '../src/node/coalesced-writes.ts'
import { callService } from '../src/protocols/call/index.ts'
import { ascending, median, percentile } from './stats.ts'
import type { CallRequest, CallService } from '../src/protocols/call/index.ts'
import type { Libp2p } from '@libp2p/interface'
import type { AddressInfo, Socket } from 'node:net'

const { values: opts } = parseArgs({
  options: {
    host: { type: 'boolean', default: false },
    plaintext: { type: 'boolean', default: false },
    calls: { type: 'string', default: '5000' }
  }
})

async function startNode (): Promise<Libp2p<{ call: CallService }>> {
  return await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [coalescedWrites(opts.plaintext ? plaintext() : noise())],
    streamMuxers: [yamux()],
    connectionMonitor: { enabled: false },
    services: { call: callService() }
  })
}

if (opts.host) {
  const node = await startNode()
  node.services.call.handle(async req => req.files.length > 0
    ? { kind: 'file', file: req.files[0] }
    : { kind: 'value', value: req.args[0] })
  // The baseline: echo whatever comes on a plain socket.
  const raw = createServer(socket => { socket.setNoDelay(true); socket.pipe(socket) })
  await new Promise<void>(resolve => raw.listen(0, '127.0.0.1', resolve))
  process.send?.({ addr: node.getMultiaddrs()[0].toString(), peerId: node.peerId.toString(), port: (raw.address() as AddressInfo).port })
  process.on('disconnect', () => { void Promise.resolve(node.stop()).then(() => process.exit(0)) })
} else {
  await main()
}

async function main (): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), ['--host', ...(opts.plaintext ? ['--plaintext'] : [])], {
    execPath: process.execPath, stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  })
  const { addr, peerId: host, port } = await new Promise<{ addr: string, peerId: string, port: number }>(resolve => child.once('message', resolve as any))
  const node = await startNode()
  await node.dial(multiaddr(addr))
  const calls = Number(opts.calls)
  const payload = 'x'.repeat(100)
  const req = (over: Partial<CallRequest> = {}): CallRequest =>
    ({ deployment: 'bench', step: 0, version: 1, args: [payload], files: [], budgetMs: 30_000, ...over })
  const call = node.services.call

  const rawRtts = await rawPingPong(port, calls)

  for (let i = 0; i < 2_000; i++) await call.call(host, req()) // warm up (JIT, stream open)
  const rtts: number[] = []
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now()
    await call.call(host, req())
    rtts.push(performance.now() - t0)
  }

  const total = calls * 10
  let next = 0
  const t0 = performance.now()
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (next++ < total) await call.call(host, req())
  }))
  const perSecond = total / ((performance.now() - t0) / 1000)

  // 10 MB is the figure asked for; 1 and 50 MB show whether time grows in proportion (no cliff).
  const fileMs = new Map<number, number[]>()
  for (const size of [1e6, 10e6, 50e6]) {
    const file = randomFillSync(new Uint8Array(size))
    const times: number[] = []
    for (let i = 0; i < (size > 10e6 ? 3 : 6); i++) {
      const t1 = performance.now()
      const answer = await call.call(host, req({ files: [{ mount: 'in', mediaType: 'application/octet-stream', bytes: file }] }))
      if (answer.kind !== 'file' || answer.file.bytes.byteLength !== file.byteLength) throw new Error('bad echo')
      if (i > 0) times.push(performance.now() - t1) // the first one warms up
    }
    fileMs.set(size, times)
  }

  const enc = opts.plaintext ? 'plaintext' : 'noise'
  console.log(`call transport, two processes, TCP loopback, ${enc} + yamux, Node ${process.version}`)
  const raw = ascending(rawRtts)
  const sorted = ascending(rtts)
  console.log(`  raw TCP ping-pong 100 B      p50 ${ms(percentile(raw, 50))}  p99 ${ms(percentile(raw, 99))}  (${calls} round trips)`)
  console.log(`  call 100 B, concurrency 1    p50 ${ms(percentile(sorted, 50))}  p99 ${ms(percentile(sorted, 99))}  (${calls} calls)`)
  console.log(`  call 100 B, concurrency 64   ${perSecond.toFixed(0)} calls/s  (${total} calls)`)
  for (const [size, times] of fileMs) {
    const label = `${size / 1e6} MB file round trip`.padEnd(29)
    console.log(`  ${label}median ${ms(median(times))}  min ${ms(Math.min(...times))}  (${times.length} runs, sent and echoed back)`)
  }

  await node.stop()
  child.disconnect()
}

async function rawPingPong (port: number, n: number): Promise<number[]> {
  const socket: Socket = connect(port, '127.0.0.1')
  socket.setNoDelay(true)
  await new Promise(resolve => socket.once('connect', resolve))
  const msg = Buffer.alloc(100, 1)
  const rtts: number[] = []
  let got = 0
  let t0 = 0
  let done: () => void = () => {}
  socket.on('data', (data: Buffer) => {
    got += data.byteLength
    if (got >= msg.byteLength) { got = 0; done() }
  })
  for (let i = 0; i < 2_000 + n; i++) {
    t0 = performance.now()
    await new Promise<void>(resolve => { done = resolve; socket.write(msg) })
    if (i >= 2_000) rtts.push(performance.now() - t0)
  }
  socket.destroy()
  return rtts
}

function ms (v: number): string {
  return `${v.toFixed(3)} ms`
}
