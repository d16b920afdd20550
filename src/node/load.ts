import { cpus, freemem } from 'node:os'
import type { Load } from '../protocols/announce/index.ts'

interface CpuTimes { busy: number, total: number }

function cpuTimes (): CpuTimes {
  let busy = 0
  let total = 0
  for (const { times } of cpus()) {
    const all = times.user + times.nice + times.sys + times.irq + times.idle
    total += all
    busy += all - times.idle
  }
  return { busy, total }
}

/** Busy share of all cores between two readings, 0..1. Pure. */
export function cpuShare (before: CpuTimes, after: CpuTimes): number {
  const total = after.total - before.total
  if (total <= 0) return 0
  return Math.min(1, Math.max(0, (after.busy - before.busy) / total))
}

/**
 * A sampler of this device's load: CPU busy share since the previous sample, free memory,
 * and the running instances the runtime reports.
 */
export function systemLoad (instances: () => number = () => 0): () => Load {
  let last = cpuTimes()
  return () => {
    const now = cpuTimes()
    const cpu = cpuShare(last, now)
    last = now
    return { cpu, freeMem: freemem(), instances: instances() }
  }
}
