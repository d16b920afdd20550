import type { Metrics, MultiaddrConnection } from '@libp2p/interface'

/**
 * libp2p's metrics hook cut down to one figure: bytes a node sends over its connections (every
 * byte one simulated node sends, another receives). Every other metric is a no-op, so
 * gossipsub's and libp2p's own metrics cost (almost) nothing in a mesh of hundreds.
 */
export class ByteMeter {
  bytesOut = 0

  metrics (): () => Metrics {
    return () => meterMetrics(this)
  }
}

const stopTimer = (): void => {}
/** One object answering every metric kind's methods (counter, gauge, histogram, summary, their groups). */
const NO_METRIC = {
  update (): void {},
  increment (): void {},
  decrement (): void {},
  reset (): void {},
  observe (): void {},
  timer: () => stopTimer
}

function meterMetrics (meter: ByteMeter): Metrics {
  const register = (): any => NO_METRIC
  return {
    trackMultiaddrConnection (maConn: MultiaddrConnection): void {
      // The transport's last step, where bytes go to the wire (libp2p 3's AbstractMultiaddrConnection).
      // Wrapping `send` instead broke TCP connections under load.
      const conn = maConn as unknown as { sendData?: (data: unknown) => { sentBytes: number } }
      const sendData = conn.sendData?.bind(maConn)
      if (sendData === undefined) return
      conn.sendData = (data) => {
        const result = sendData(data)
        meter.bytesOut += result.sentBytes
        return result
      }
    },
    trackProtocolStream (): void {},
    registerMetric: register,
    registerMetricGroup: register,
    registerCounter: register,
    registerCounterGroup: register,
    registerHistogram: register,
    registerHistogramGroup: register,
    registerSummary: register,
    registerSummaryGroup: register,
    createTrace: () => undefined,
    traceFunction: (_name: string, fn: any) => fn
  } as unknown as Metrics
}
