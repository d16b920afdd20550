import { readFile } from 'node:fs/promises'
import { generateKey, preSharedKey } from '@libp2p/pnet'
import { WasmeshError } from '../errors.ts'
import type { Libp2pOptions } from 'libp2p'

const PSK_V1 = /^\/key\/swarm\/psk\/1\.0\.0\/\r?\n\/base16\/\r?\n[0-9a-fA-F]{64}\s*$/

/**
 * A private mesh: only nodes holding the same key (the IPFS swarm.key format) can connect.
 * A malformed key is a clear error at start rather than a connection that never forms.
 */
export async function meshKeyProtector (file: string): Promise<NonNullable<Libp2pOptions['connectionProtector']>> {
  let bytes: Buffer
  try {
    bytes = await readFile(file)
  } catch (err) {
    throw new WasmeshError('bad-request', `--mesh-key ${file}: ${(err as Error).message}`)
  }
  if (!PSK_V1.test(bytes.toString('utf8'))) {
    throw new WasmeshError('bad-request', `--mesh-key ${file}: not a swarm key ("/key/swarm/psk/1.0.0/", "/base16/", then 64 hex digits); make one with "wasmesh mesh-key FILE"`)
  }
  return preSharedKey({ psk: new Uint8Array(bytes) })
}

/** The text of a new random mesh key. */
export function newMeshKey (): string {
  const key = new Uint8Array(95)
  generateKey(key)
  return Buffer.from(key).toString('utf8') + '\n'
}
