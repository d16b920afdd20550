import { lstatSync, readdirSync, type BigIntStats } from 'node:fs'
import type { OpenFd } from './fd-table.ts'
import { hostPath, resolveDir } from './confined-path.ts'
import { FILETYPE, filetypeOf } from './rights.ts'

/** dirent header: d_next u64, d_ino u64, d_namlen u32, d_type u8 (24 bytes, then the name) */
const DIRENT_SIZE = 24

interface Entry {
  name: Buffer
  /** d_ino and d_type, filled the first time the entry is handed out */
  ino?: bigint
  type?: number
}

/**
 * A dir fd's sorted listing, kept between fd_readdir calls: re-listing and sorting on every
 * call made reading a large directory with a small buffer quadratic. Valid while the
 * directory the fd resolves to is the same one (dev, ino) with the same mtime; a cookie of 0
 * (a rewind) always re-lists. An entry made or removed within one tick of the host's
 * timestamp clock may so be missed until the next rewind, which readdir(3) allows.
 */
export interface DirListing {
  dev: bigint
  ino: bigint
  mtimeNs: bigint
  /** the directory's own entries, byte order; `.` and `..` are not cached */
  entries: Entry[]
}

/**
 * Fill `out` with the directory's entries from `cookie` on: `.`, `..`, then the names in byte
 * order (a stable order keeps cookies meaningful between calls). The cookie of an entry is its
 * index; d_next the next one. The last entry is cut off where the buffer ends, so a result
 * equal to the buffer size tells the guest there may be more (the spec's protocol).
 * Returns bufused.
 */
export function readdirInto (dir: OpenFd, out: Uint8Array, cookie: bigint): number {
  // the fd's path walked afresh from the root on every call, cached listing or not: what it
  // named when opened may be a symlink now
  const { root, parts } = resolveDir(dir)
  const path = hostPath(root, parts)
  // stat before listing: a change racing the listing leaves a key that is already stale
  const self = lstatSync(path, { bigint: true })
  const listing = cookie === 0n || dir.listing === undefined || !sameDirectory(dir.listing, self)
    ? list(path, self)
    : dir.listing
  dir.listing = listing
  // `..` of a preopen's root is the root itself: nothing of the host above it is shown
  const parentPath = parts.length === 0 ? path : hostPath(root, parts.slice(0, -1))
  const prefix = Buffer.from(path === '/' ? '/' : `${path}/`)
  const total = BigInt(listing.entries.length) + 2n
  let used = 0
  for (let i = cookie; i < total && used < out.length; i++) {
    let name: Buffer
    let ino = 0n
    let type: number = FILETYPE.UNKNOWN
    if (i < 2n) {
      name = Buffer.from(i === 0n ? '.' : '..')
      const stats = i === 0n ? self : statOrUndefined(parentPath)
      if (stats !== undefined) {
        ino = stats.ino
        type = filetypeOf(stats)
      }
    } else {
      const entry = listing.entries[Number(i - 2n)]
      if (entry.ino === undefined || entry.type === undefined) {
        const stats = statOrUndefined(Buffer.concat([prefix, entry.name]))
        entry.ino = stats?.ino ?? 0n
        entry.type = stats === undefined ? FILETYPE.UNKNOWN : filetypeOf(stats)
      }
      name = entry.name
      ino = entry.ino
      type = entry.type
    }
    const record = Buffer.alloc(DIRENT_SIZE + name.length)
    record.writeBigUInt64LE(i + 1n, 0)
    record.writeBigUInt64LE(ino, 8)
    record.writeUInt32LE(name.length, 16)
    record.writeUInt8(type, 20)
    name.copy(record, DIRENT_SIZE)
    const n = Math.min(record.length, out.length - used)
    out.set(record.subarray(0, n), used)
    used += n
  }
  return used
}

function sameDirectory (listing: DirListing, stats: BigIntStats): boolean {
  return listing.dev === stats.dev && listing.ino === stats.ino && listing.mtimeNs === stats.mtimeNs
}

function list (path: string, self: BigIntStats): DirListing {
  const names = (readdirSync(path, { encoding: 'buffer' }) as Buffer[]).sort(Buffer.compare)
  return { dev: self.dev, ino: self.ino, mtimeNs: self.mtimeNs, entries: names.map(name => ({ name })) }
}

function statOrUndefined (path: string | Buffer): BigIntStats | undefined {
  try {
    return lstatSync(path, { bigint: true })
  } catch {
    // removed since the listing: still reported, as the kernel's getdents would have
    return undefined
  }
}
