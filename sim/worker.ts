/**
 * One simulation thread: runs its share of the mesh's nodes (the real WasmeshNode) and does
 * what the run asks of them. Nodes of one thread reach each other over the memory transport;
 * nodes of other threads over TCP on loopback.
 */
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { parentPort, workerData } from 'node:worker_threads'
import { memory } from '@libp2p/memory'
import { peerIdFromString } from '@libp2p/peer-id'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { isWasmeshError } from '../src/errors.ts'
import { WasmeshNode } from '../src/node/node.ts'
import { memoryStores } from '../src/node/stores.ts'
import { ByteMeter } from './byte-meter.ts'
import { simulatedParts } from './memory-lan.ts'
import { simulatedSkills } from './plan.ts'
import { LatencyHistogram } from './report/histogram.ts'
import { Segments } from './segments.ts'
import { ToldDiscovery } from './told-discovery.ts'
import { yielding } from './yielding-transport.ts'
import type { PlannedNode } from './plan.ts'
import type { CallOrder, CallResult, DeployResult, ExpectedPeer, Reply, Sample, StartedNode, WorkerInit, WorkerNotice, WorkerRequest } from './worker-protocol.ts'

if (parentPort === null) throw new Error('sim/worker.ts runs as a worker thread')
const port = parentPort
const init = workerData as WorkerInit

interface SimNode {
  node: WasmeshNode
  discovery: ToldDiscovery
  meter: ByteMeter
  gossip: number
  /** what `known` last counted, until the node's table or the expected peers change */
  counted?: { known: number, of: number }
}

const nodes = new Map<number, SimNode>()
const segments = new Segments()
let expected: ExpectedPeer[] = []
let announcements = new LatencyHistogram()
/** counters of nodes already stopped, so totals do not drop when nodes leave */
let stoppedGossip = 0
let stoppedBytes = 0

const DIAL_FALLBACK_MS = 300
async function create (p: PlannedNode): Promise<StartedNode> {
  const meter = new ByteMeter()
  const discovery = new ToldDiscovery()
  let self = ''
  const parts = await simulatedParts({
    transports: [yielding(memory(init.latencyMs > 0 ? { latency: init.latencyMs } : {})), tcp()],
    listen: [`/memory/wasmesh-sim-${process.pid}-${init.worker}-${p.index}`, '/ip4/127.0.0.1/tcp/0'],
    peerDiscovery: [() => discovery],
    stores: { ...memoryStores(), stepsDir: join(init.dir, p.name) },
    connectionGater: segments.gater(() => self),
    metrics: meter.metrics()
  })
  // Both ends of a link hear of each other at once; on a loaded thread a dial can take longer than
  // the default fallback, and then each end dials and the pair gets two connections.
  const node = await WasmeshNode.create({ name: p.name, http: false, heartbeatMs: init.heartbeatMs, dialFallbackMs: DIAL_FALLBACK_MS, skills: simulatedSkills(p.skills), parts })
  self = node.peerId
  const sim: SimNode = { node, discovery, meter, gossip: 0 }
  const recount = (): void => { sim.counted = undefined }
  node.peers.on('join', recount).on('change', recount).on('leave', recount)
  node.libp2p.services.announce.on('announcement', (ann) => { announcements.add(Date.now() - ann.seq) })
  node.libp2p.services.pubsub.addEventListener('message', () => { sim.gossip++ })
  await node.start()
  nodes.set(p.index, sim)
  const addrs = node.addrs
  return { index: p.index, peerId: node.peerId, local: addrs.filter(a => a.startsWith('/memory/')), remote: addrs.filter(a => a.includes('/tcp/')) }
}

/** How many expected peers of its segment (itself aside) `n`'s table holds with the expected skills, and of how many. */
function known (n: SimNode): { known: number, of: number } {
  n.counted ??= count(n)
  return n.counted
}

function count (n: SimNode): { known: number, of: number } {
  const self = n.node.peerId
  let k = 0
  let of = 0
  for (const e of expected) {
    if (e.peerId === self || !segments.linked(self, e.peerId)) continue
    of++
    if (n.node.peers.get(e.peerId)?.digest === e.digest) k++
  }
  return { known: k, of }
}

function sample (): Sample {
  let complete = 0
  let share = 0
  let gossip = stoppedGossip
  let bytes = stoppedBytes
  for (const n of nodes.values()) {
    const k = known(n)
    if (k.known === k.of) complete++
    share += k.of === 0 ? 1 : k.known / k.of
    gossip += n.gossip
    bytes += n.meter.bytesOut
  }
  return { live: nodes.size, complete, known: share, gossipMessages: gossip, bytesOut: bytes, busyMs: performance.eventLoopUtilization().active }
}

function simNode (index: number): SimNode {
  const n = nodes.get(index)
  if (n === undefined) throw new Error(`node ${index} is not running on thread ${init.worker}`)
  return n
}

async function stop (index: number, goodbye: boolean): Promise<void> {
  const n = simNode(index)
  nodes.delete(index)
  stoppedGossip += n.gossip
  stoppedBytes += n.meter.bytesOut
  await n.node.stop({ goodbye })
}

async function deploy (index: number, manifest: unknown): Promise<DeployResult> {
  const started = performance.now()
  const record = await simNode(index).node.deployments.deploy(manifest)
  return { ms: performance.now() - started, id: record.id, peers: record.steps.map(s => s.peers) }
}

async function call (index: number, order: CallOrder): Promise<CallResult> {
  const started = performance.now()
  try {
    await simNode(index).node.deployments.call({ ...order, files: [] })
    return { ok: true, ms: performance.now() - started }
  } catch (err) {
    return { ok: false, ms: performance.now() - started, code: isWasmeshError(err) ? err.code : 'internal', message: (err as Error).message }
  }
}

function setSegments (segmentOf: Array<[string, number]> | null): void {
  segments.set(segmentOf === null ? null : new Map(segmentOf))
  for (const n of nodes.values()) {
    segments.cut(n.node.libp2p)
    n.counted = undefined
  }
}

async function handle (req: WorkerRequest): Promise<unknown> {
  switch (req.op) {
    case 'create':
      return await Promise.all(req.nodes.map(create))
    case 'expect':
      expected = req.peers
      for (const n of nodes.values()) n.counted = undefined
      return null
    case 'sample':
      return sample()
    case 'stop':
      await stop(req.index, req.goodbye)
      return null
    case 'skills':
      await simNode(req.index).node.setSkills(simulatedSkills(req.skills))
      return null
    case 'segments':
      setSegments(req.segmentOf)
      return null
    case 'add-module':
      return (await simNode(req.index).node.modules.add(req.bytes, { name: req.name })).cid
    case 'deploy':
      return await deploy(req.index, req.manifest)
    case 'call':
      return await call(req.index, req.call)
    case 'announcements': {
      const taken = announcements.toJSON()
      announcements = new LatencyHistogram()
      return taken
    }
  }
}

port.on('message', (msg: (WorkerRequest & { id: number }) | WorkerNotice) => {
  if (msg.op === 'tell') {
    nodes.get(msg.to)?.discovery.tell({ id: peerIdFromString(msg.peer.id), multiaddrs: msg.peer.addrs.map(a => multiaddr(a)) })
    return
  }
  const { id } = msg
  handle(msg).then(
    (value) => { port.postMessage({ id, ok: true, value } satisfies Reply) },
    (err: Error) => { port.postMessage({ id, ok: false, code: isWasmeshError(err) ? err.code : 'internal', message: err.message } satisfies Reply) }
  )
})
