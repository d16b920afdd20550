import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { WasmeshError } from '../errors.ts'
import type { PrivateKey } from '@libp2p/interface'

export const PEER_KEY_FILE = 'peer.key'

/**
 * The node's identity: read from the data dir, or made and saved there on first start, so the
 * peer id survives restarts. Written to a temporary file and linked into place, so a crash never
 * leaves half a key and two processes starting at once end up with the same one.
 */
export async function loadOrCreatePeerKey (dataDir: string): Promise<PrivateKey> {
  const file = join(dataDir, PEER_KEY_FILE)
  let bytes: Buffer | undefined
  try {
    bytes = await readFile(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  if (bytes !== undefined) {
    try {
      return privateKeyFromProtobuf(bytes)
    } catch (err) {
      throw new WasmeshError('bad-request', `${file} is not a libp2p private key (${(err as Error).message}); move it away to make a new identity`)
    }
  }
  const key = await generateKeyPair('Ed25519')
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  const tmp = `${file}.${process.pid}.${randomUUID()}.tmp`
  await writeFile(tmp, privateKeyToProtobuf(key), { mode: 0o600 })
  try {
    // link, unlike rename, never replaces: if another process made a key meanwhile, use that one.
    await link(tmp, file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    return await loadOrCreatePeerKey(dataDir)
  } finally {
    await unlink(tmp).catch(() => {})
  }
  return key
}
