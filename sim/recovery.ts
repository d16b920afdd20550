/** A call as the run recorded it: when it started (ms since the load began), and how it ended. */
export interface CallRecord {
  t: number
  ms: number
  /** when the answer (or failure) reached the simulator's main thread, ms from the load's start: `t + ms` plus the hops between threads */
  answeredAt: number
  ok: boolean
  deployment: string
  code?: string
  /** the node the call entered through, and its LAN segment then */
  entry: string
  segment: number
}

export interface Recovery {
  event: number
  type: string
  deployment: string
  /** from the event to the first successful call after the last failure; null: none succeeded */
  ms: number | null
}

/**
 * For each event and each deployment whose calls failed within `limitMs` after it (and
 * before the next event): how long until calls succeeded again. Pure.
 */
export function recoveries (events: Array<{ t: number, type: string }>, calls: CallRecord[], limitMs: number): Recovery[] {
  const out: Recovery[] = []
  const sorted = [...calls].sort((a, b) => a.t - b.t)
  events.forEach((event, i) => {
    const end = Math.min(event.t + limitMs, events[i + 1]?.t ?? Infinity)
    const deployments = new Set(sorted.map(c => c.deployment))
    for (const deployment of deployments) {
      const mine = sorted.filter(c => c.deployment === deployment && c.t >= event.t)
      const failures = mine.filter(c => !c.ok && c.t < end)
      if (failures.length === 0) continue
      const last = failures[failures.length - 1].t
      const next = mine.find(c => c.ok && c.t > last)
      out.push({ event: i, type: event.type, deployment, ms: next === undefined ? null : next.t - event.t })
    }
  })
  return out
}

/**
 * Success rate of the calls started once every earlier event had recovered (an event that did
 * not recover counts as recovered after `limitMs`). 1 when no call qualifies. Pure.
 */
export function successAfterRecovery (events: Array<{ t: number }>, found: Recovery[], calls: CallRecord[], limitMs: number): number {
  const settledAt = events.map((event, i) => {
    const mine = found.filter(r => r.event === i)
    return event.t + Math.max(0, ...mine.map(r => r.ms ?? limitMs))
  })
  const after = calls.filter(c => events.every((e, i) => c.t < e.t || c.t >= settledAt[i]))
  return after.length === 0 ? 1 : after.filter(c => c.ok).length / after.length
}

/** Calls grouped by the second (since the load began) they started in, in time order. Pure. */
export function bySecond (calls: readonly CallRecord[]): Map<number, CallRecord[]> {
  const seconds = new Map<number, CallRecord[]>()
  for (const c of [...calls].sort((a, b) => a.t - b.t)) {
    const s = Math.floor(c.t / 1000)
    const bucket = seconds.get(s)
    if (bucket === undefined) seconds.set(s, [c])
    else bucket.push(c)
  }
  return seconds
}
