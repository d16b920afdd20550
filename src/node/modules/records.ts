import { Key } from 'interface-datastore'
import { CID } from 'multiformats/cid'
import { WasmeshError } from '../../errors.ts'
import { CID_TEXT, MODULE_NAME } from '../../protocols/modules/constants.ts'
import type { ModuleDescription } from '../../wasm/describe/description.ts'
import type { ModuleInfo } from '../../wasm/module-info.ts'

/** What a node knows of one module it holds. The record is written last: no record, no module. */
export interface ModuleRecord {
  cid: string
  name: string | null
  size: number
  addedAt: number
  /** `added` here, or `fetched` from a peer. */
  source: 'added' | 'fetched'
  info: ModuleInfo
  /**
   * The normalized description (see src/wasm/describe/), its deployment-stage mounts carrying
   * their files' CIDs, and where its JSON block is.
   */
  description: ModuleDescription | null
  descriptionCid: string | null
}

export const RECORDS_PREFIX = '/wasmesh/modules/'
export const recordKey = (cid: string): Key => new Key(RECORDS_PREFIX + cid)
export const nameKey = (name: string): Key => new Key(`/wasmesh/names/${name}`)

export function encodeRecord (record: ModuleRecord): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(record))
}

export function decodeRecord (bytes: Uint8Array): ModuleRecord {
  return JSON.parse(new TextDecoder().decode(bytes)) as ModuleRecord
}

/** A CID given by a user, or null when the text is not one (then it may be a name). */
export function parseCid (text: string): CID | null {
  if (!CID_TEXT.test(text)) return null
  try {
    return CID.parse(text)
  } catch {
    return null
  }
}

export function checkModuleName (name: string): string {
  if (!MODULE_NAME.test(name) || parseCid(name) !== null) {
    throw new WasmeshError('bad-request', `name: "${name.slice(0, 80)}" must be 1 to 64 of A-Z a-z 0-9 . _ - and start with a letter or _, and not be a CID`, { field: 'name' })
  }
  return name
}
