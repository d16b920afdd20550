import { randomFillSync } from 'node:crypto'
import { fstatSync } from 'node:fs'
import { E } from './errno.ts'
import type { WasiContext, WasiFunction } from './context.ts'
import { CLOCK, EVENTTYPE, SUBCLOCK_ABSTIME } from './rights.ts'

/** realtime is monotonic time plus the epoch offset taken once: nanoseconds without Date's ms steps */
const EPOCH_OFFSET = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint()

const RESOLUTION: Record<number, bigint> = {
  [CLOCK.REALTIME]: 1_000n,
  [CLOCK.MONOTONIC]: 1n,
  [CLOCK.PROCESS_CPUTIME]: 1_000n,
  [CLOCK.THREAD_CPUTIME]: 1_000n
}

type CpuUsage = () => { user: number, system: number }

/** the clock's time in ns, or undefined for an unknown clock */
function clockNow (id: number): bigint | undefined {
  switch (id) {
    case CLOCK.REALTIME: return EPOCH_OFFSET + process.hrtime.bigint()
    case CLOCK.MONOTONIC: return process.hrtime.bigint()
    case CLOCK.PROCESS_CPUTIME: return cpuNs(process.cpuUsage)
    case CLOCK.THREAD_CPUTIME: {
      const thread = (process as unknown as { threadCpuUsage?: CpuUsage }).threadCpuUsage
      return cpuNs(thread !== undefined ? thread.bind(process) : process.cpuUsage)
    }
    default: return undefined
  }
}

function cpuNs (usage: CpuUsage): bigint {
  const { user, system } = usage()
  return BigInt(user + system) * 1_000n
}

/** subscription: 48 bytes; event: 32 bytes */
const SUBSCRIPTION_SIZE = 48
const EVENT_SIZE = 32

interface Event { userdata: bigint, error: number, type: number, nbytes: bigint }

/** clock_*, random_get, sched_yield and poll_oneoff */
export function clockRandomFunctions (ctx: WasiContext): Record<string, WasiFunction> {
  const { mem, fds } = ctx

  function readyBytes (fd: number, type: number): bigint {
    const entry = fds.get(fd)
    if (type !== EVENTTYPE.FD_READ) return 0n
    if (entry.kind === 'stdin') return BigInt(Math.max(0, ctx.stdin.length - entry.position))
    if (entry.kind === 'file') {
      const size = fstatSync(entry.hostFd).size
      return BigInt(Math.max(0, size - entry.position))
    }
    return 0n
  }

  return {
    clock_res_get (id: number, ptr: number): number {
      const resolution = RESOLUTION[id]
      if (resolution === undefined) return E.INVAL
      mem.setU64(ptr, resolution)
      return E.SUCCESS
    },

    clock_time_get (id: number, _precision: bigint, ptr: number): number {
      const now = clockNow(id)
      if (now === undefined) return E.INVAL
      mem.setU64(ptr, now)
      return E.SUCCESS
    },

    random_get (ptr: number, len: number): number {
      const out = mem.bytes(ptr, len)
      for (let at = 0; at < out.length; at += 65536) randomFillSync(out.subarray(at, at + 65536))
      return E.SUCCESS
    },

    sched_yield (): number {
      return E.SUCCESS
    },

    /**
     * fd subscriptions are ready at once (files and stdin never block here); with none ready,
     * the thread sleeps (options.sleep) until the earliest clock subscription and reports it.
     */
    poll_oneoff (inPtr: number, outPtr: number, nsubscriptions: number, neventsPtr: number): number {
      const n = nsubscriptions >>> 0
      if (n === 0) return E.INVAL
      mem.assertRange(inPtr, n * SUBSCRIPTION_SIZE)
      mem.assertRange(outPtr, n * EVENT_SIZE)
      mem.assertRange(neventsPtr, 4)
      const events: Event[] = []
      const clocks: Array<{ userdata: bigint, wait: bigint }> = []
      for (let i = 0; i < n; i++) {
        const base = (inPtr >>> 0) + i * SUBSCRIPTION_SIZE
        const userdata = mem.u64(base)
        const type = mem.u8(base + 8)
        if (type === EVENTTYPE.CLOCK) {
          const now = clockNow(mem.u32(base + 16))
          if (now === undefined) {
            events.push({ userdata, error: E.INVAL, type, nbytes: 0n })
            continue
          }
          const timeout = mem.u64(base + 24)
          const absolute = (mem.u16(base + 40) & SUBCLOCK_ABSTIME) !== 0
          clocks.push({ userdata, wait: absolute ? timeout - now : timeout })
        } else if (type === EVENTTYPE.FD_READ || type === EVENTTYPE.FD_WRITE) {
          const fd = mem.u32(base + 16)
          if (!fds.has(fd)) events.push({ userdata, error: E.BADF, type, nbytes: 0n })
          else events.push({ userdata, error: E.SUCCESS, type, nbytes: readyBytes(fd, type) })
        } else {
          events.push({ userdata, error: E.INVAL, type, nbytes: 0n })
        }
      }
      if (clocks.length > 0) {
        const earliest = clocks.reduce((min, c) => c.wait < min ? c.wait : min, clocks[0].wait)
        // with an fd already ready, only clocks already due fire
        const due = events.length > 0 ? 0n : earliest
        if (events.length === 0 && earliest > 0n) ctx.sleep(Number(earliest) / 1e6)
        for (const c of clocks) {
          if (c.wait <= due) events.push({ userdata: c.userdata, error: E.SUCCESS, type: EVENTTYPE.CLOCK, nbytes: 0n })
        }
      }
      for (let i = 0; i < events.length; i++) {
        const base = (outPtr >>> 0) + i * EVENT_SIZE
        const event = events[i]
        mem.bytes(base, EVENT_SIZE).fill(0)
        mem.setU64(base, event.userdata)
        mem.setU16(base + 8, event.error)
        mem.setU8(base + 10, event.type)
        mem.setU64(base + 16, event.nbytes)
      }
      mem.setU32(neventsPtr, events.length)
      return E.SUCCESS
    }
  }
}
