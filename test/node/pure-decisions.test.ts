import { expect } from 'chai'
import { formatPeers } from '../../src/node/cli/peers-command.ts'
import { dialDelayMs } from '../../src/node/dial-policy.ts'
import { advertisedHttpUrl, parseHostPort } from '../../src/node/http-url.ts'
import { cpuShare } from '../../src/node/load.ts'
import type { NetworkInterfaceInfo } from 'node:os'

function iface (address: string, family: 'IPv4' | 'IPv6', internal = false): NetworkInterfaceInfo {
  return { address, family, internal, netmask: '', mac: '', cidr: null, ...(family === 'IPv6' ? { scopeid: 0 } : {}) } as NetworkInterfaceInfo
}

describe('node decisions', () => {
  it('dials at once from the lower peer id, after the fallback from the higher', () => {
    expect(dialDelayMs('12D3KooWA', '12D3KooWB', 300)).to.equal(0)
    expect(dialDelayMs('12D3KooWB', '12D3KooWA', 300)).to.equal(300)
  })

  it('reads HOST:PORT, IPv6 in brackets, and refuses anything else', () => {
    expect(parseHostPort('0.0.0.0:8080')).to.deep.equal({ host: '0.0.0.0', port: 8080 })
    expect(parseHostPort('[::1]:0')).to.deep.equal({ host: '::1', port: 0 })
    expect(parseHostPort(':9000')).to.deep.equal({ host: '0.0.0.0', port: 9000 })
    for (const bad of ['8080', 'host', 'h:70000', '::1:80', 'a:b']) expect(() => parseHostPort(bad), bad).to.throw(/not HOST:PORT/)
  })

  it('advertises a wildcard bind with the first external address', () => {
    const ifaces = { lo: [iface('127.0.0.1', 'IPv4', true)], eth0: [iface('fe80::1', 'IPv6'), iface('10.1.2.3', 'IPv4')] }
    expect(advertisedHttpUrl('0.0.0.0', 8080, ifaces)).to.equal('http://10.1.2.3:8080')
    expect(advertisedHttpUrl('127.0.0.1', 81, ifaces)).to.equal('http://127.0.0.1:81')
    expect(advertisedHttpUrl('0.0.0.0', 8080, { lo: ifaces.lo })).to.equal('http://127.0.0.1:8080')
    expect(advertisedHttpUrl('::', 8080, { eth0: [iface('2001:db8::5', 'IPv6')] })).to.equal('http://[2001:db8::5]:8080')
  })

  it('measures CPU as the busy share between two readings', () => {
    expect(cpuShare({ busy: 100, total: 1000 }, { busy: 350, total: 2000 })).to.equal(0.25)
    expect(cpuShare({ busy: 5, total: 10 }, { busy: 5, total: 10 })).to.equal(0)
  })

  it('prints peers as an aligned table', () => {
    expect(formatPeers([])).to.equal('no peers known yet')
    const text = formatPeers([
      { peerId: 'P1', name: 'kitchen', http: 'http://10.0.0.1:8080', skills: [{ name: 'sys' }, { name: 'camera' }], lastSeenMs: 1500 },
      { peerId: 'P2', name: 'g', http: null, skills: [{ name: 'sys' }], lastSeenMs: 0 }
    ])
    expect(text.split('\n')).to.deep.equal([
      'NAME     PEER ID  SKILLS      HTTP                  SEEN',
      'kitchen  P1       sys,camera  http://10.0.0.1:8080  1.5s ago',
      'g        P2       sys         -                     0.0s ago'
    ])
  })
})
