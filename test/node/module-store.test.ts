import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect } from 'chai'
import { deploymentFiles } from '../../src/wasm/describe/mounts.ts'
import { MemoryBlockstore } from 'blockstore-core/memory'
import { importer } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { MemoryLan, memoryParts } from '../../sim/memory-lan.ts'
import { WasmeshNode } from '../../src/node/node.ts'
import { diskStores, memoryStores } from '../../src/node/stores.ts'
import { bigModule, wat } from '../helpers/fixtures.ts'
import { startMemoryMesh, stopAll } from '../helpers/memory-mesh.ts'
import { Watched } from '../helpers/peers-poller.ts'
import { waitFor } from '../helpers/wait.ts'
import type { NodeStores } from '../../src/node/stores.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

const DESCRIPTION = {
  functions: {
    add: { method: 'get', parameters: [{ name: 'a', type: 'i32' }, { name: 'b', type: 'i32' }] }
  }
}

async function blockCount (stores: NodeStores): Promise<number> {
  let n = 0
  for await (const _ of stores.blockstore.getAll()) n++ // eslint-disable-line @typescript-eslint/no-unused-vars
  return n
}

/** The CID the UnixFS importer gives with Helia's default profile spelled out, computed apart from the store. */
async function unixfsCid (bytes: Uint8Array): Promise<string> {
  let root: CID | undefined
  for await (const entry of importer([{ content: bytes }], new MemoryBlockstore(), {
    cidVersion: 1, rawLeaves: true, reduceSingleLeafToSelf: true, chunker: fixedSize({ chunkSize: 1024 * 1024 }), layout: balanced({ maxChildrenPerNode: 1024 })
  })) root = entry.cid
  return String(root)
}

async function nodeOn (stores: NodeStores, lan = new MemoryLan()): Promise<WasmeshNode> {
  const node = await WasmeshNode.create({ name: 'store', http: false, heartbeatMs: 300, parts: { ...(await memoryParts(lan)), stores } })
  await node.start()
  return node
}

describe('module store: content addresses', function () {
  let node: WasmeshNode
  before(async () => { node = await nodeOn(memoryStores()) })
  after(async () => { await node.stop() })

  it('names a module of up to 1 MiB by the sha-256 of its bytes (one raw block)', async () => {
    const bytes = await wat('add')
    const record = await node.modules.add(bytes, { name: 'add' })
    const expected = CID.createV1(raw.code, await sha256.digest(bytes)).toString()
    expect(record.cid).to.equal(expected)
    expect(record.cid.startsWith('bafkrei')).to.equal(true)
    expect(record.size).to.equal(bytes.byteLength)
    expect(record.info.exports.map(e => e.name)).to.include('add')
  })

  it('names a larger module as the UnixFS importer does with 1 MiB chunks and raw leaves', async () => {
    for (const size of [1024 * 1024 + 1, 3 * 1024 * 1024 + 12345]) {
      const bytes = bigModule(size)
      const record = await node.modules.add(bytes)
      expect(record.cid).to.equal(await unixfsCid(bytes))
      expect(record.cid.startsWith('bafybei')).to.equal(true)
      expect(Buffer.compare(await node.modules.bytes(record), bytes)).to.equal(0)
    }
  })

  it('adds the same bytes once; a name moves to the module last given it', async () => {
    const a = await wat('add')
    const c = await wat('counter')
    const first = await node.modules.add(a, { name: 'tool' })
    const again = await node.modules.add(a, { name: 'tool' })
    expect(again.cid).to.equal(first.cid)
    const moved = await node.modules.add(c, { name: 'tool' })
    expect(node.modules.local('tool')?.cid).to.equal(moved.cid)
    expect(node.modules.local(first.cid)?.name).to.equal(null)
  })

  it('refuses bad bytes and bad names and stores nothing', async () => {
    const before = node.modules.list().length
    const good = await wat('add')
    const cases: Array<[Uint8Array, string]> = [
      [new Uint8Array(0), 'invalid-module'],
      [good.slice(0, good.length - 3), 'invalid-module'],
      [Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919) & 0xff), 'invalid-module'],
      [await wat('big-memory'), 'invalid-module']
    ]
    for (const [bytes, code] of cases) {
      const err = await node.modules.add(bytes).then(() => undefined, (e: { code: string }) => e)
      expect(err?.code, `${bytes.byteLength} bytes`).to.equal(code)
    }
    const badName = await node.modules.add(good, { name: 'bafy-looks/like a path' }).then(() => undefined, (e: { code: string }) => e)
    expect(badName?.code).to.equal('bad-request')
    expect(node.modules.list().length).to.equal(before)
  })

  it('attaches a description with its deployment-stage file, stored by CID', async () => {
    const record = await node.modules.add(await wat('add'), { name: 'adder' })
    const described = await node.modules.describe('adder', {
      functions: {
        add: { method: 'get', parameters: [{ name: 'a', type: 'i32' }, { name: 'b', type: 'i32' }], mounts: [{ name: 'model.bin', stage: 'deployment' }] }
      },
      files: [{ mount: 'model.bin', bytes: new TextEncoder().encode('weights'), mediaType: 'application/octet-stream' }]
    })
    expect(described.cid).to.equal(record.cid)
    expect(described.descriptionCid).to.match(/^bagaaiera/)
    const mount = described.description?.functions.add.mounts[0]
    expect(mount?.cid).to.equal(CID.createV1(raw.code, await sha256.digest(new TextEncoder().encode('weights'))).toString())
    expect(new TextDecoder().decode(await node.modules.fileBytes(deploymentFiles(described.description)[0]))).to.equal('weights')
  })

  it('rejects a description naming a deployment-stage mount without its file, changing nothing', async () => {
    await node.modules.add(await wat('camera-app'), { name: 'cam' })
    const err = await node.modules.describe('cam', {
      functions: { take_image: { method: 'get', parameters: [], mounts: [{ name: 'model.bin', stage: 'deployment' }] } },
      files: []
    }).then(() => undefined, (e: { code: string, message: string }) => e)
    expect(err?.code).to.equal('bad-request')
    expect(err?.message).to.contain('model.bin')
    expect(node.modules.local('cam')?.description).to.equal(null)
  })

  it('removes a module and collects its blocks, keeping blocks other modules use', async () => {
    const stores = memoryStores()
    const solo = await nodeOn(stores)
    try {
      const keep = await solo.modules.add(await wat('add'))
      const big = await solo.modules.add(bigModule(2 * 1024 * 1024 + 100))
      const withBoth = await blockCount(stores)
      await solo.modules.remove(big.cid)
      expect(solo.modules.local(big.cid)).to.equal(undefined)
      expect(await blockCount(stores)).to.be.below(withBoth)
      expect(Buffer.compare(await solo.modules.bytes(keep), await wat('add'))).to.equal(0)
      const err = await solo.modules.remove(big.cid).then(() => undefined, (e: { code: string }) => e)
      expect(err?.code).to.equal('not-found')
    } finally {
      await solo.stop()
    }
  })
})

describe('module store: on disk', function () {
  let dir: string
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'wasmesh-store-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  it('keeps modules, names, descriptions and files across a restart', async () => {
    const big = bigModule(2 * 1024 * 1024 + 7)
    let node = await nodeOn(diskStores(dir))
    const a = await node.modules.add(await wat('add'), { name: 'add' })
    const b = await node.modules.add(big, { name: 'big' })
    await node.modules.describe('add', { functions: DESCRIPTION.functions, files: [] })
    const before = node.modules.list()
    await node.stop()

    node = await nodeOn(diskStores(dir))
    try {
      expect(node.modules.list()).to.deep.equal(before)
      expect(node.modules.local('add')?.cid).to.equal(a.cid)
      expect(Buffer.compare(await node.modules.bytes(node.modules.local('big') ?? b), big)).to.equal(0)
      expect(node.modules.local('add')?.description?.functions.add.parameters.map(p => p.name)).to.deep.equal(['a', 'b'])
    } finally {
      await node.stop()
    }
  })
})

describe('module store: fetch from peers', function () {
  this.timeout(60_000)
  let nodes: WasmeshNode[] = []
  before(async () => {
    ({ nodes } = await startMemoryMesh(3, { heartbeatMs: 300 }))
    await waitFor(() => nodes.every(n => n.peers.size === 2), 10_000, 'three nodes to meet')
  })
  after(async () => { await stopAll(nodes) })

  it('fetches a module by CID from the node that holds it; identical bytes, same record', async () => {
    const bytes = bigModule(3 * 1024 * 1024 + 99)
    const added = await nodes[0].modules.add(bytes, { name: 'big3' })
    await waitFor(() => nodes[1].peers.get(nodes[0].peerId)?.modules.some(m => m.cid === added.cid) === true, 5_000, 'holding announced')
    const fetched = await nodes[1].modules.resolve(added.cid)
    expect(fetched.source).to.equal('fetched')
    expect(fetched.info).to.deep.equal(added.info)
    expect(fetched.name).to.equal('big3')
    expect(Buffer.compare(await nodes[1].modules.bytes(fetched), bytes)).to.equal(0)
  })

  it('resolves a name only a peer knows, with its description and deployment file', async () => {
    await nodes[0].modules.add(await wat('add'), { name: 'remote-add' })
    await nodes[0].modules.describe('remote-add', {
      functions: { add: { method: 'get', parameters: [{ name: 'a', type: 'i32' }, { name: 'b', type: 'i32' }], mounts: [{ name: 'cfg', stage: 'deployment' }] } },
      files: [{ mount: 'cfg', bytes: new TextEncoder().encode('{"k":1}'), mediaType: 'application/json' }]
    })
    await waitFor(() => nodes[2].peers.get(nodes[0].peerId)?.modules.some(m => m.name === 'remote-add' && m.description !== undefined) === true, 5_000, 'description announced')
    const fetched = await nodes[2].modules.resolve('remote-add')
    expect(fetched.description?.functions.add.mounts[0].mediaType).to.equal('application/json')
    expect(new TextDecoder().decode(await nodes[2].modules.fileBytes(deploymentFiles(fetched.description)[0]))).to.equal('{"k":1}')
  })

  it('a CID nobody has fails with not-found after its timeout', async () => {
    const nobody = CID.createV1(raw.code, await sha256.digest(new TextEncoder().encode('nobody has this')))
    const started = Date.now()
    const err = await nodes[1].modules.fetch(nobody, { timeoutMs: 400 }).then(() => undefined, (e: { code: string, message: string }) => e)
    expect(err?.code).to.equal('not-found')
    expect(err?.message).to.contain('400 ms')
    expect(Date.now() - started).to.be.at.least(390)
    expect(nodes[1].modules.local(nobody.toString())).to.equal(undefined)
  })

  it('refuses a tampered block: the fetch fails and nothing is stored', async () => {
    const lan = new MemoryLan()
    const holderStores = memoryStores()
    const holder = await nodeOn(holderStores, lan)
    const fetcherStores = memoryStores()
    const fetcher = await nodeOn(fetcherStores, lan)
    try {
      await waitFor(() => fetcher.peers.size === 1 && holder.peers.size === 1, 10_000, 'two nodes to meet')
      const bytes = await wat('counter')
      const record = await holder.modules.add(bytes, { name: 'counter' })
      // The holder's disk now serves other bytes under the module's CID.
      const tampered = Uint8Array.from(bytes)
      tampered[tampered.length - 1] ^= 0xff
      await holderStores.blockstore.put(CID.parse(record.cid), tampered)
      await waitFor(() => fetcher.peers.get(holder.peerId)?.modules.length === 1, 5_000, 'holding announced')
      const blocksBefore = await blockCount(fetcherStores)
      const err = await fetcher.modules.fetch(CID.parse(record.cid), { timeoutMs: 1_500 }).then(() => undefined, (e: { code: string }) => e)
      expect(err?.code).to.equal('not-found')
      expect(fetcher.modules.local(record.cid)).to.equal(undefined)
      expect(await blockCount(fetcherStores)).to.equal(blocksBefore)
    } finally {
      await stopAll([holder, fetcher])
    }
  })
})

describe('module store: kill -9 while adding', function () {
  this.timeout(60_000)
  let dir: string
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'wasmesh-kill-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  it('shows after a restart every module reported stored, each complete, and nothing half-written', async () => {
    const writer = new Watched(spawn(process.execPath, [join(ROOT, 'test/helpers/store-writer.ts'), dir], { cwd: ROOT }))
    expect(await writer.until(() => (writer.stdout.match(/^added /gm) ?? []).length >= 5, 30_000), writer.stderr).to.equal(true)
    writer.kill('SIGKILL')
    await writer.exited
    const reported = [...writer.stdout.matchAll(/^added (\S+)$/gm)].map(m => m[1])

    const node = await nodeOn(diskStores(dir))
    try {
      const held = node.modules.list()
      for (const cid of reported) expect(node.modules.local(cid), cid).to.not.equal(undefined)
      // At most the one add in flight may have landed beyond what was reported, and only whole.
      expect(held.length).to.be.within(reported.length, reported.length + 1)
      for (const record of held) {
        expect(await unixfsCid(await node.modules.bytes(record)), record.cid).to.equal(record.cid)
      }
    } finally {
      await node.stop()
    }
  })
})
