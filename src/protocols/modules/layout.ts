import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'

/** Bytes per UnixFS leaf: a module up to this size is one raw block whose CID is its sha-256. */
export const CHUNK_BYTES = 1024 * 1024
export const MAX_CHILDREN_PER_NODE = 1024

/**
 * How bytes become a CID: CIDv1, raw leaves, 1 MiB chunks, balanced DAG of 1024 links (Helia's
 * default profile, `unixfs-v1-2025`). Spelled out rather than left to defaults: a `profile`
 * option is ignored by `addBytes`, and a changed default would rename every module.
 */
export function importOptions (): { cidVersion: 1, rawLeaves: true, reduceSingleLeafToSelf: true, chunker: ReturnType<typeof fixedSize>, layout: ReturnType<typeof balanced> } {
  return {
    cidVersion: 1,
    rawLeaves: true,
    reduceSingleLeafToSelf: true,
    chunker: fixedSize({ chunkSize: CHUNK_BYTES }),
    layout: balanced({ maxChildrenPerNode: MAX_CHILDREN_PER_NODE })
  }
}
