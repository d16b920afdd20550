import { lstatSync, readdirSync } from 'node:fs'
import type { OpenFd } from './fd-table.ts'
import { hostPath, resolveDir } from './confined-path.ts'
import { FILETYPE, filetypeOf } from './rights.ts'

/** dirent header: d_next u64, d_ino u64, d_namlen u32, d_type u8 (24 bytes, then the name) */
const DIRENT_SIZE = 24

/**
 * Fill `out` with the directory's entries from `cookie` on: `.`, `..`, then the names in byte
 * order (a stable order keeps cookies meaningful between calls). The cookie of an entry is its
 * index; d_next the next one. The last entry is cut off where the buffer ends, so a result
 * equal to the buffer size tells the guest there may be more (the spec's protocol).
 * Returns bufused.
 */
export function readdirInto (dir: OpenFd, out: Uint8Array, cookie: bigint): number {
  // the fd's path walked afresh from the root: what it named when opened may be a symlink now
  const { root, parts } = resolveDir(dir)
  const path = hostPath(root, parts)
  const names = (readdirSync(path, { encoding: 'buffer' }) as Buffer[]).sort(Buffer.compare)
  // `..` of a preopen's root is the root itself: nothing of the host above it is shown
  const parent = parts.length === 0 ? path : hostPath(root, parts.slice(0, -1))
  const prefix = Buffer.from(path === '/' ? '/' : `${path}/`)
  const entries: Array<{ name: Buffer, path: string | Buffer }> = [
    { name: Buffer.from('.'), path },
    { name: Buffer.from('..'), path: parent },
    ...names.map(name => ({ name, path: Buffer.concat([prefix, name]) }))
  ]
  let used = 0
  for (let i = cookie; i < BigInt(entries.length) && used < out.length; i++) {
    const entry = entries[Number(i)]
    const record = Buffer.alloc(DIRENT_SIZE + entry.name.length)
    let ino = 0n
    let type: number = FILETYPE.UNKNOWN
    try {
      const stats = lstatSync(entry.path, { bigint: true })
      ino = stats.ino
      type = filetypeOf(stats)
    } catch {
      // removed since the listing: still reported, as the kernel's getdents would have
    }
    record.writeBigUInt64LE(i + 1n, 0)
    record.writeBigUInt64LE(ino, 8)
    record.writeUInt32LE(entry.name.length, 16)
    record.writeUInt8(type, 20)
    entry.name.copy(record, DIRENT_SIZE)
    const n = Math.min(record.length, out.length - used)
    out.set(record.subarray(0, n), used)
    used += n
  }
  return used
}
