import type { PlannedNode } from './plan.ts'
import type { HistogramData } from './report/histogram.ts'

/** What a simulation thread is told when it starts. */
export interface WorkerInit {
  worker: number
  /** where this thread's nodes get their step folders (the run removes it) */
  dir: string
  heartbeatMs: number
  latencyMs: number
}

/** A peer as the simulated LAN tells of it: the addresses that reach it from the told node's thread. */
export interface ToldPeer {
  id: string
  addrs: string[]
}

/** One node's entry in the expected view: every node should know these peers with these skills. */
export interface ExpectedPeer {
  peerId: string
  digest: string
}

export interface CallOrder {
  deployment: string
  module: string
  function: string
  args: Array<number | string>
  timeoutMs: number
}

/** Requests from the run to a thread; each is answered by a `Reply` with the same id. */
export type WorkerRequest =
  | { op: 'create', nodes: PlannedNode[] }
  | { op: 'expect', peers: ExpectedPeer[] }
  | { op: 'sample' }
  | { op: 'stop', index: number, goodbye: boolean }
  | { op: 'skills', index: number, skills: string[] }
  | { op: 'segments', segmentOf: Array<[string, number]> | null }
  | { op: 'add-module', index: number, name: string, bytes: Uint8Array }
  | { op: 'deploy', index: number, manifest: unknown }
  | { op: 'call', index: number, call: CallOrder }
  | { op: 'announcements' }

/** Fire-and-forget messages from the run to a thread. */
export type WorkerNotice =
  | { op: 'tell', to: number, peer: ToldPeer }

export interface StartedNode {
  index: number
  peerId: string
  /** reaches it from its own thread */
  local: string[]
  /** reaches it from other threads */
  remote: string[]
}

export interface Sample {
  /** live nodes of this thread */
  live: number
  /** of those, how many know every expected peer of their segment with the right skills */
  complete: number
  /** summed over those nodes: the share of expected peers each knows (0..1) */
  known: number
  gossipMessages: number
  bytesOut: number
  /** this thread's event loop busy time since it started, ms */
  busyMs: number
}

export interface DeployResult {
  ms: number
  id: string
  /** peer ids hosting each step */
  peers: string[][]
}

export interface CallResult {
  ok: boolean
  ms: number
  code?: string
  message?: string
}

export type Reply =
  | { id: number, ok: true, value: unknown }
  | { id: number, ok: false, code: string, message: string }

export type { HistogramData }
