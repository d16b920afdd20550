import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { expect } from 'chai'
import { lockDataDir } from '../../src/node/data-dir-lock.ts'
import { loadOrCreatePeerKey } from '../../src/node/peer-key.ts'

describe('data dir', () => {
  let dir: string
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'wasmesh-data-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  it('keeps the peer key, so the peer id survives restarts', async () => {
    const first = peerIdFromPrivateKey(await loadOrCreatePeerKey(dir)).toString()
    const again = peerIdFromPrivateKey(await loadOrCreatePeerKey(dir)).toString()
    expect(again).to.equal(first)
  })

  it('gives processes creating the key at once the same key', async () => {
    const ids = await Promise.all(Array.from({ length: 8 }, async () => peerIdFromPrivateKey(await loadOrCreatePeerKey(dir)).toString()))
    expect(new Set(ids).size).to.equal(1)
  })

  it('refuses a key file that is not a key, and leaves it alone', async () => {
    await writeFile(join(dir, 'peer.key'), 'garbage')
    let error: unknown
    try { await loadOrCreatePeerKey(dir) } catch (err) { error = err }
    expect((error as { code?: string }).code).to.equal('bad-request')
    expect(await readFile(join(dir, 'peer.key'), 'utf8')).to.equal('garbage')
  })

  it('is taken by one process at a time; a lock of a dead process is taken over', async () => {
    const other = spawn('sleep', ['30'])
    try {
      await writeFile(join(dir, 'lock'), `${other.pid}\n`)
      let error: unknown
      try { await lockDataDir(dir) } catch (err) { error = err }
      expect((error as { code?: string }).code).to.equal('unavailable')
      expect((error as Error).message).to.contain(`in use by process ${other.pid}`)
    } finally {
      other.kill('SIGKILL')
    }
    await new Promise(resolve => other.on('close', resolve))
    const release = await lockDataDir(dir)
    expect(await readFile(join(dir, 'lock'), 'utf8')).to.equal(`${process.pid}\n`)
    release()
    const fresh = await lockDataDir(dir)
    fresh()
  })
})
