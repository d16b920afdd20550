import { expect } from 'chai'
import { aheadOf, biddersFor, pickHost, qualifiedPeers, rankBids, scoreBid, succession } from '../../src/node/deployments/placement.ts'
import { audience, statusOf } from '../../src/node/deployments/coordinator.ts'
import { supersedes } from '../../src/protocols/deploy/index.ts'
import { catalogDescriptor } from '../../src/wasm/skills/catalog.ts'
import { moduleInfo } from '../helpers/module-info.ts'
import { rejectionSync } from '../helpers/rejection.ts'
import type { PlacementPeer } from '../../src/node/deployments/placement.ts'
import type { DeploymentRecord, PlacedStep } from '../../src/protocols/deploy/index.ts'
import type { ModuleInfo } from '../../src/wasm/module-info.ts'
import type { SkillDescriptor } from '../../src/wasm/skills/descriptor.ts'

const skill = (name: string): SkillDescriptor => catalogDescriptor(name) as SkillDescriptor
const idle = { cpu: 0, freeMem: 2 ** 30, instances: 0 }
const peer = (peerId: string, skills: string[], load = idle): PlacementPeer => ({ peerId, name: `node-${peerId}`, skills: ['sys', ...skills].map(skill), load })

/** a core module importing the given skill functions, with their catalogue signatures */
function needing (...imports: Array<[string, string]>): ModuleInfo {
  const info = moduleInfo({ run: [[], []] })
  info.imports = imports.map(([module, name]) => ({ module, name, kind: 'function', signature: catalogDescriptor(module)?.functions[name] ?? { params: [], results: [] } }))
  info.requires = [...new Set(imports.map(([module]) => module))]
  return info
}

const step = (peers: string[], replicas = 1): PlacedStep => ({
  module: 'm', cid: 'bafkreim', descriptionCid: null, function: 'run', description: null, replicas, requires: [], peers
})
const record = (over: Partial<DeploymentRecord>): DeploymentRecord => ({
  id: 'd-1', name: 'd', version: 1, coordinator: 'c', status: 'active', createdAt: 0, config: {}, steps: [step(['a'])], ...over
})

describe('placement decisions (pure)', () => {
  it('qualifies the peers whose skills link the module, and names the skills nobody offers', () => {
    const peers = [peer('a', ['camera']), peer('b', ['dht']), peer('c', [])]
    expect(qualifiedPeers(needing(['camera', 'takeImageStaticSize']), peers).map(p => p.peerId)).to.deep.equal(['a'])
    expect(qualifiedPeers(needing(), peers).map(p => p.peerId)).to.deep.equal(['a', 'b', 'c'])
    const err = rejectionSync(() => qualifiedPeers(needing(['camera', 'takeImageStaticSize'], ['lidar', 'scan']), peers))
    expect(err.code).to.equal('unsatisfiable')
    expect(err.details).to.deep.include({ missing: ['lidar'] })
    // each skill offered somewhere, but no single peer offers both
    const split = rejectionSync(() => qualifiedPeers(needing(['camera', 'takeImageStaticSize'], ['dht', 'getTemperature']), peers))
    expect(split.code).to.equal('unsatisfiable')
    expect(split.message).to.include('dht')
  })

  it('honours a pinned peer by id or name, and refuses an unknown or unqualified one', () => {
    const peers = [peer('a', ['camera']), peer('b', ['camera'])]
    const info = needing(['camera', 'takeImageStaticSize'])
    expect(qualifiedPeers(info, peers, 'b').map(p => p.peerId)).to.deep.equal(['b'])
    expect(qualifiedPeers(info, peers, 'node-a').map(p => p.peerId)).to.deep.equal(['a'])
    expect(rejectionSync(() => qualifiedPeers(info, peers, 'zz')).code).to.equal('unsatisfiable')
    expect(rejectionSync(() => qualifiedPeers(needing(['dht', 'getTemperature']), peers, 'a')).details).to.deep.include({ missing: ['dht'] })
  })

  it('asks the best announced peers first, at most max, ties by peer id', () => {
    const busy = { cpu: 0.9, freeMem: 2 ** 28, instances: 20 }
    const peers = [peer('d', [], busy), peer('c', []), peer('b', []), peer('a', [], busy)]
    expect(biddersFor(peers, 2).map(p => p.peerId)).to.deep.equal(['b', 'c'])
    expect(biddersFor(peers, 10).map(p => p.peerId)).to.deep.equal(['b', 'c', 'a', 'd'])
  })

  it('scores bids on memory, load, cached module and co-location', () => {
    const base = { freeMem: 2 ** 30, cpu: 0.1, instances: 1, cached: false }
    expect(scoreBid({ ...base, cached: true }, false)).to.be.greaterThan(scoreBid(base, false))
    expect(scoreBid(base, true)).to.be.greaterThan(scoreBid({ ...base, cached: true }, false))
    expect(scoreBid({ ...base, cpu: 0.9 }, false)).to.be.lessThan(scoreBid(base, false))
    expect(scoreBid({ ...base, freeMem: 2 ** 40 }, false)).to.equal(scoreBid({ ...base, freeMem: 4 * 2 ** 30 }, false)) // capped
    const ranked = rankBids([
      { peerId: 'x', bid: base },
      { peerId: 'y', bid: { ...base, cached: true } },
      { peerId: 'w', bid: base }
    ], new Set(['x']))
    expect(ranked).to.deep.equal(['x', 'y', 'w'])
  })

  it('picks the lowest live participant as successor, else the lowest live node known', () => {
    const r = record({ coordinator: 'c', steps: [step(['q', 'b']), step(['c', 'z'])] })
    const successor = (alive: (p: string) => boolean, everyone: string[]): string | undefined => succession(r, alive, () => everyone)[0]
    expect(successor(() => true, ['a'])).to.equal('b')
    expect(successor(p => p !== 'b', ['a'])).to.equal('q')
    expect(successor(p => p === 'a' || p === 'k', ['k', 'a'])).to.equal('a')
    expect(successor(() => false, ['a'])).to.equal(undefined)
  })

  it('orders the succession: live participants, then the other live nodes, each by peer id', () => {
    const r = record({ coordinator: 'c', steps: [step(['q', 'b']), step(['c', 'z'])] })
    expect(succession(r, p => p !== 'z', () => ['m', 'a', 'q', 'c'])).to.deep.equal(['b', 'q', 'a', 'm'])
    // its head only: the participants fill it, and the whole mesh is not asked for
    expect(succession(r, p => p !== 'z', () => { throw new Error('not needed') }, 2)).to.deep.equal(['b', 'q'])
    expect(succession(r, p => p !== 'z', () => ['m', 'a', 'q', 'c'], 3)).to.deep.equal(['b', 'q', 'a'])
  })

  it('has a node check only the few ahead of it in the succession', () => {
    const order = ['a', 'b', 'c', 'd', 'e']
    expect(aheadOf(order, 'a', 3)).to.deep.equal([]) // it is the successor
    expect(aheadOf(order, 'c', 3)).to.deep.equal(['a', 'b'])
    expect(aheadOf(order, 'd', 3)).to.deep.equal(['a', 'b', 'c'])
    expect(aheadOf(order, 'e', 3)).to.deep.equal([]) // four ahead: those nearer see to it
    expect(aheadOf(order, 'x', 3)).to.deep.equal([]) // not in it
  })

  it('routes a call to this node if it hosts the step, else in turn over usable hosts, avoiding a failed one', () => {
    expect(pickHost(['a', 'me'], 'me', () => true, 7)).to.equal('me')
    expect(pickHost(['a', 'b'], 'me', () => true, 0)).to.equal('a')
    expect(pickHost(['a', 'b'], 'me', () => true, 1)).to.equal('b')
    expect(pickHost(['a', 'b'], 'me', p => p !== 'a', 0)).to.equal('b')
    expect(pickHost(['a', 'b'], 'me', () => true, 0, 'a')).to.equal('b')
    expect(pickHost(['a', 'me'], 'me', () => true, 0, 'me')).to.equal('a')
    expect(pickHost(['a'], 'me', () => true, 0, 'a')).to.equal(undefined)
  })

  it('orders records: higher version, then removal, then the lower coordinator', () => {
    expect(supersedes(record({ version: 2 }), record({ version: 1 }))).to.equal(true)
    expect(supersedes(record({ version: 1 }), record({ version: 2 }))).to.equal(false)
    expect(supersedes(record({ status: 'removed' }), record({}))).to.equal(true)
    expect(supersedes(record({}), record({ status: 'removed' }))).to.equal(false)
    expect(supersedes(record({ coordinator: 'a' }), record({ coordinator: 'b' }))).to.equal(true)
    expect(supersedes(record({ coordinator: 'b' }), record({ coordinator: 'a' }))).to.equal(false)
    expect(supersedes(record({}), record({}))).to.equal(false)
    expect(supersedes(record({}), undefined)).to.equal(true)
  })

  it('calls a deployment degraded while a step lacks replicas, and tells old and new participants of a change', () => {
    expect(statusOf([step(['a']), step(['b', 'c'], 2)])).to.equal('active')
    expect(statusOf([step(['a']), step(['b'], 2)])).to.equal('degraded')
    expect(statusOf([step([])])).to.equal('degraded')
    const before = record({ coordinator: 'c', steps: [step(['a', 'b'])] })
    const after = record({ coordinator: 'd', version: 2, steps: [step(['a', 'e'])] })
    expect(audience(after, before).sort()).to.deep.equal(['a', 'b', 'c', 'e'])
  })
})
