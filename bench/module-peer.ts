/**
 * One side of the module fetch benchmark (bench/modules.ts runs two): a node on loopback TCP
 * with its store on disk, plus a plain TCP socket for the baseline copy of the same bytes.
 * Driven by IPC messages from the parent.
 */
import { createServer, connect } from 'node:net'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'
import { CID } from 'multiformats/cid'
import { coalescedWrites } from '../src/node/coalesced-writes.ts'
import { WasmeshNode } from '../src/node/node.ts'
import { diskStores } from '../src/node/stores.ts'
import type { AddressInfo } from 'node:net'

const dataDir = process.argv[2]
const node = await WasmeshNode.create({
  name: process.argv[3],
  http: false,
  parts: {
    privateKey: await generateKeyPair('Ed25519'),
    transports: [tcp()],
    listen: ['/ip4/127.0.0.1/tcp/0'],
    skillBeacon: false,
    connectionEncrypters: [coalescedWrites(noise())], // as a node's (src/node/parts.ts)
    load: () => ({ cpu: 0, freeMem: 0, instances: 0 }),
    connectionMonitor: false,
    processMetrics: false,
    stores: diskStores(dataDir)
  }
})
await node.start()

let serving: Uint8Array = new Uint8Array(0)
const raw = createServer(socket => { socket.end(serving) })
await new Promise<void>(resolve => raw.listen(0, '127.0.0.1', resolve))

type Msg =
  | { op: 'add', bytes: Uint8Array }
  | { op: 'serve', bytes: Uint8Array }
  | { op: 'dial', addr: string }
  | { op: 'fetch', cid: string, size: number }
  | { op: 'copy', port: number, size: number }
  | { op: 'stop' }

process.on('message', (msg: Msg) => {
  void (async () => {
    const t0 = performance.now()
    switch (msg.op) {
      case 'add': {
        const record = await node.modules.add(new Uint8Array(msg.bytes))
        return { cid: record.cid, ms: performance.now() - t0 }
      }
      case 'serve':
        serving = new Uint8Array(msg.bytes)
        return {}
      case 'dial':
        await node.libp2p.dial(multiaddr(msg.addr))
        return {}
      case 'fetch': {
        const record = await node.modules.fetch(CID.parse(msg.cid))
        if (record.size !== msg.size) throw new Error('wrong size')
        return { ms: performance.now() - t0 }
      }
      case 'copy': {
        let got = 0
        await new Promise<void>((resolve, reject) => {
          const socket = connect(msg.port, '127.0.0.1')
          socket.on('data', (chunk: Buffer) => { got += chunk.length })
          socket.on('end', resolve)
          socket.on('error', reject)
        })
        if (got !== msg.size) throw new Error(`copied ${got} of ${msg.size}`)
        return { ms: performance.now() - t0 }
      }
      case 'stop':
        raw.close()
        await node.stop()
        process.exit(0)
    }
  })().then(reply => process.send?.({ ok: true, ...reply }), (err: Error) => process.send?.({ ok: false, error: err.message }))
})

process.send?.({ ok: true, addr: node.addrs[0], port: (raw.address() as AddressInfo).port })
