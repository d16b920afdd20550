/**
 * What a simulation run found: the JSON report's shape, and what the summary table and the
 * chart report are drawn from. Times are milliseconds unless a name says otherwise; `t` on a
 * timeline is milliseconds since the phase began (discovery: since the first node started;
 * load: since the call load began).
 */
export interface SimReport {
  scenario: {
    name: string
    seed: number
    nodes: number
    workers: number
    fanout: number
    heartbeatMs: number
    /** per-link latency added by the in-process transport (0: none) */
    latencyMs: number
    skills: Array<{ name: string, nodes: number }>
  }
  /** ISO time the run started */
  startedAt: string
  /** the whole run, wall clock */
  wallMs: number
  /** wall clock of each phase, in the order they ran (starting nodes, discovery, deploying, calls, finishing) */
  phases: Array<{ name: string, ms: number }>
  discovery: {
    /** until every live node's table held every other live node with the right skills; null: never within the limit */
    convergedMs: number | null
    /** sampled fraction (0..1) of live nodes whose table is complete, and the mean share of their peers nodes know */
    timeline: Array<{ t: number, converged: number, known: number }>
  }
  /** delay from publishing an announcement to a peer receiving it, over every receipt */
  announcements: LatencySummary
  deploys: Array<{
    name: string
    ms: number
    ok: boolean
    error?: string
    /** node names hosting each step, in step order */
    placement: string[][]
  }>
  calls: LatencySummary & {
    total: number
    ok: number
    failed: number
    /** ok / total; 1 when there were no calls */
    successRate: number
    /** success rate of the calls started after every event's recovery (or after the last event + the recovery limit) */
    successRateAfterRecovery: number
    /** failures by error code */
    errors: Record<string, number>
    /** one point per second of load */
    timeline: Array<{ t: number, ok: number, failed: number, p50Ms: number | null }>
  }
  /** the scenario's timed events as they happened (t: ms since the load began) */
  events: Array<{ t: number, type: string, nodes: string[], detail: string }>
  /**
   * Per event that left calls failing: from the event to the first call after which calls of
   * that deployment succeed; null: never recovered within the run.
   */
  recovery: Array<{ event: number, type: string, deployment: string, ms: number | null }>
  /** averages over the nodes (per node per second where named so) */
  perNode: {
    gossipMessagesPerS: number
    bytesInPerS: number
    cpuMsPerS: number
    rssMb: number
  }
}

export interface LatencySummary {
  count: number
  p50Ms: number | null
  p99Ms: number | null
  maxMs: number | null
  /** counts per bucket: `leMs` is the bucket's upper bound (inclusive); the last bucket's is Infinity, written as null in JSON */
  histogram: Array<{ leMs: number | null, count: number }>
}
