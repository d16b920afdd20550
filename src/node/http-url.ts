import type { NetworkInterfaceInfo } from 'node:os'

/**
 * The URL peers should use to reach this node's HTTP API. A wildcard bind is advertised with
 * the first external IPv4 address (then IPv6, then loopback). Pure.
 */
export function advertisedHttpUrl (bindHost: string, port: number, interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>): string {
  let host = bindHost
  if (bindHost === '0.0.0.0' || bindHost === '::' || bindHost === '') {
    const all = Object.values(interfaces).flatMap(list => list ?? []).filter(i => !i.internal)
    const v4 = all.find(i => i.family === 'IPv4')
    const v6 = bindHost === '::' ? all.find(i => i.family === 'IPv6' && !i.address.startsWith('fe80')) : undefined
    host = v4?.address ?? v6?.address ?? '127.0.0.1'
  }
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`
}

/** Splits `HOST:PORT` (IPv6 as `[::1]:8080`); throws on anything else. Pure. */
export function parseHostPort (value: string): { host: string, port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value)
  const port = m === null ? NaN : Number(m[3])
  if (m === null || port > 65535) throw new Error(`"${value}" is not HOST:PORT (e.g. 0.0.0.0:8080, 127.0.0.1:0, [::1]:8080)`)
  return { host: m[1] ?? (m[2] === '' ? '0.0.0.0' : m[2]), port }
}
