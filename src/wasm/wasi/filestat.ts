import { fstatSync, lstatSync, futimesSync, lutimesSync, type BigIntStats } from 'node:fs'
import { E, Errno } from './errno.ts'
import type { GuestMemory } from './memory-view.ts'
import type { OpenFd } from './fd-table.ts'
import { FILETYPE, FSTFLAGS, filetypeOf } from './rights.ts'
import { hostPath, resolveDir } from './confined-path.ts'

/** filestat: dev, ino, filetype, nlink, size, atim, mtim, ctim (64 bytes) */
export const FILESTAT_SIZE = 64

export function writeFilestat (mem: GuestMemory, ptr: number, stats: BigIntStats | undefined, filetype?: number): void {
  const out = mem.bytes(ptr, FILESTAT_SIZE)
  out.fill(0)
  if (stats === undefined) {
    mem.setU8(ptr + 16, filetype ?? FILETYPE.UNKNOWN)
    return
  }
  mem.setU64(ptr, stats.dev)
  mem.setU64(ptr + 8, stats.ino)
  mem.setU8(ptr + 16, filetype ?? filetypeOf(stats))
  mem.setU64(ptr + 24, stats.nlink)
  mem.setU64(ptr + 32, stats.size)
  mem.setU64(ptr + 40, stats.atimeNs)
  mem.setU64(ptr + 48, stats.mtimeNs)
  mem.setU64(ptr + 56, stats.ctimeNs)
}

/** the host stat of an fd's file or directory; undefined for stdio */
export function statOfFd (entry: OpenFd): BigIntStats | undefined {
  if (entry.hostFd >= 0) return fstatSync(entry.hostFd, { bigint: true })
  if (entry.kind === 'dir') return lstatSync(dirPath(entry), { bigint: true })
  return undefined
}

/**
 * The (atime, mtime) in seconds to set for fst_flags, keeping the current value of a time not
 * named. EINVAL when a time is both given and NOW, or for unknown flags.
 */
function timesToSet (current: BigIntStats, atim: bigint, mtim: bigint, fstFlags: number): [number, number] {
  if ((fstFlags & ~0xf) !== 0) throw new Errno(E.INVAL)
  if ((fstFlags & FSTFLAGS.ATIM) !== 0 && (fstFlags & FSTFLAGS.ATIM_NOW) !== 0) throw new Errno(E.INVAL)
  if ((fstFlags & FSTFLAGS.MTIM) !== 0 && (fstFlags & FSTFLAGS.MTIM_NOW) !== 0) throw new Errno(E.INVAL)
  const now = Date.now() / 1000
  const pick = (given: bigint, currentNs: bigint, set: number, setNow: number): number =>
    (fstFlags & setNow) !== 0 ? now : (fstFlags & set) !== 0 ? seconds(BigInt.asUintN(64, given)) : seconds(currentNs)
  return [pick(atim, current.atimeNs, FSTFLAGS.ATIM, FSTFLAGS.ATIM_NOW), pick(mtim, current.mtimeNs, FSTFLAGS.MTIM, FSTFLAGS.MTIM_NOW)]
}

function seconds (ns: bigint): number {
  return Number(ns / 1_000_000_000n) + Number(ns % 1_000_000_000n) / 1e9
}

/** set times on an fd (its file or directory); EBADF for stdio */
export function setFdTimes (entry: OpenFd, atim: bigint, mtim: bigint, fstFlags: number): void {
  if (entry.hostFd >= 0) {
    const [a, m] = timesToSet(fstatSync(entry.hostFd, { bigint: true }), atim, mtim, fstFlags)
    futimesSync(entry.hostFd, a, m)
  } else if (entry.kind === 'dir') {
    // its path walked once, afresh, and lutimes, so nothing swapped in since is followed
    setPathTimes(dirPath(entry), atim, mtim, fstFlags)
  } else {
    throw new Errno(E.BADF)
  }
}

/** a dir fd's host path, resolved afresh beneath its root (a saved path is never trusted) */
function dirPath (entry: OpenFd): string {
  const { root, parts } = resolveDir(entry)
  return hostPath(root, parts)
}

/** set times on a resolved path without following a final symlink (resolution already did, if asked) */
export function setPathTimes (path: string, atim: bigint, mtim: bigint, fstFlags: number): void {
  const [a, m] = timesToSet(lstatSync(path, { bigint: true }), atim, mtim, fstFlags)
  lutimesSync(path, a, m)
}
