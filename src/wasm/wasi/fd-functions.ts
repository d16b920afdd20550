import { fdatasyncSync, fstatSync, fsyncSync, ftruncateSync, readSync, writeSync } from 'node:fs'
import { E, Errno } from './errno.ts'
import type { OpenFd } from './fd-table.ts'
import type { WasiContext, WasiFunction } from './context.ts'
import { offsetOf } from './context.ts'
import { FDFLAGS, R, WHENCE } from './rights.ts'
import { FILESTAT_SIZE, setFdTimes, statOfFd, writeFilestat } from './filestat.ts'
import { readdirInto } from './readdir.ts'

/** the fdflags Node cannot change on an open host fd */
const SYNC_FLAGS = FDFLAGS.DSYNC | FDFLAGS.RSYNC | FDFLAGS.SYNC

type Transfer = (entry: OpenFd, iovs: Uint8Array[], position: number | undefined) => number

/** fd_*: reads and writes go to stdio buffers/callbacks or to host fds at a position kept here */
export function fdFunctions (ctx: WasiContext): Record<string, WasiFunction> {
  const { mem, fds } = ctx

  function file (fd: number, rights: bigint, missing?: number): OpenFd {
    const entry = fds.get(fd, rights, missing)
    if (entry.kind !== 'file') throw new Errno(entry.kind === 'dir' ? E.ISDIR : E.SPIPE)
    return entry
  }

  function readAt (entry: OpenFd, iovs: Uint8Array[], position: number | undefined): number {
    let total = 0
    if (entry.kind === 'stdin') {
      for (const iov of iovs) {
        const chunk = ctx.stdin.subarray(entry.position, entry.position + iov.length)
        iov.set(chunk)
        entry.position += chunk.length
        total += chunk.length
        if (chunk.length < iov.length) break
      }
      return total
    }
    if (entry.kind !== 'file') throw new Errno(E.BADF)
    let at = position ?? entry.position
    for (const iov of iovs) {
      if (iov.length === 0) continue
      const n = readSync(entry.hostFd, iov, 0, iov.length, at)
      at += n
      total += n
      if (n < iov.length) break
    }
    if (position === undefined) entry.position = at
    return total
  }

  function writeAt (entry: OpenFd, iovs: Uint8Array[], position: number | undefined): number {
    if (entry.kind === 'stdout' || entry.kind === 'stderr') {
      // one sink call per iovec, each a view of guest memory (the sink copies what it keeps):
      // joining them would let 1024 iovecs over the same bytes make the host allocate 1024x
      const sink = entry.kind === 'stdout' ? ctx.stdout : ctx.stderr
      let total = 0
      for (const iov of iovs) {
        if (iov.length === 0) continue
        sink(iov)
        total += iov.length
      }
      return total
    }
    if (entry.kind !== 'file') throw new Errno(E.BADF)
    const append = position === undefined && (entry.flags & FDFLAGS.APPEND) !== 0
    let at = position ?? (append ? Number(fstatSync(entry.hostFd).size) : entry.position)
    let total = 0
    for (const iov of iovs) {
      let done = 0
      while (done < iov.length) {
        const n = writeSync(entry.hostFd, iov, done, iov.length - done, at)
        done += n
        at += n
      }
      total += done
    }
    if (position === undefined) entry.position = at
    return total
  }

  /** fd_read/write/pread/pwrite: the count's address checked first, then the iovecs; the count written back */
  function transfer (move: Transfer, entry: OpenFd, iovsPtr: number, iovsLen: number, position: number | undefined, countPtr: number): number {
    mem.assertRange(countPtr, 4)
    mem.setU32(countPtr, move(entry, mem.iovecs(iovsPtr, iovsLen), position))
    return E.SUCCESS
  }

  return {
    fd_advise (fd: number, offset: bigint, len: bigint, advice: number): number {
      fds.get(fd, R.FD_ADVISE)
      if (offset < 0n || len < 0n || advice < 0 || advice > 5) return E.INVAL
      return E.SUCCESS
    },

    fd_allocate (fd: number, offset: bigint, len: bigint): number {
      const entry = file(fd, R.FD_ALLOCATE)
      const start = offsetOf(offset)
      const length = offsetOf(len)
      if (start === undefined || length === undefined || start + length > Number.MAX_SAFE_INTEGER) return E.INVAL
      if (start + length > fstatSync(entry.hostFd).size) ftruncateSync(entry.hostFd, start + length)
      return E.SUCCESS
    },

    fd_close (fd: number): number {
      fds.close(fd)
      return E.SUCCESS
    },

    fd_datasync (fd: number): number {
      fdatasyncSync(file(fd, R.FD_DATASYNC).hostFd)
      return E.SUCCESS
    },

    fd_sync (fd: number): number {
      const entry = fds.get(fd, R.FD_SYNC)
      if (entry.kind === 'file') fsyncSync(entry.hostFd)
      return E.SUCCESS
    },

    fd_fdstat_get (fd: number, ptr: number): number {
      const entry = fds.get(fd)
      mem.bytes(ptr, 24).fill(0)
      mem.setU8(ptr, entry.filetype)
      mem.setU16(ptr + 2, entry.flags)
      mem.setU64(ptr + 8, entry.rightsBase)
      mem.setU64(ptr + 16, entry.rightsInheriting)
      return E.SUCCESS
    },

    fd_fdstat_set_flags (fd: number, flags: number): number {
      const entry = fds.get(fd, R.FD_FDSTAT_SET_FLAGS)
      if ((flags & ~0x1f) !== 0) return E.INVAL
      if ((flags & SYNC_FLAGS) !== (entry.flags & SYNC_FLAGS)) return E.NOTSUP
      entry.flags = flags
      return E.SUCCESS
    },

    fd_fdstat_set_rights (fd: number, base: bigint, inheriting: bigint): number {
      const entry = fds.get(fd)
      const b = BigInt.asUintN(64, base)
      const i = BigInt.asUintN(64, inheriting)
      if ((b & ~entry.rightsBase) !== 0n || (i & ~entry.rightsInheriting) !== 0n) return E.NOTCAPABLE
      entry.rightsBase = b
      entry.rightsInheriting = i
      return E.SUCCESS
    },

    fd_filestat_get (fd: number, ptr: number): number {
      const entry = fds.get(fd, R.FD_FILESTAT_GET)
      mem.assertRange(ptr, FILESTAT_SIZE)
      writeFilestat(mem, ptr, statOfFd(entry), entry.filetype)
      return E.SUCCESS
    },

    fd_filestat_set_size (fd: number, size: bigint): number {
      const entry = file(fd, R.FD_FILESTAT_SET_SIZE)
      const n = offsetOf(size)
      if (n === undefined) return E.INVAL
      ftruncateSync(entry.hostFd, n)
      return E.SUCCESS
    },

    fd_filestat_set_times (fd: number, atim: bigint, mtim: bigint, fstFlags: number): number {
      setFdTimes(fds.get(fd, R.FD_FILESTAT_SET_TIMES), atim, mtim, fstFlags)
      return E.SUCCESS
    },

    fd_pread (fd: number, iovsPtr: number, iovsLen: number, offset: bigint, nreadPtr: number): number {
      const entry = file(fd, R.FD_READ, E.BADF)
      const at = offsetOf(offset)
      if (at === undefined) return E.INVAL
      return transfer(readAt, entry, iovsPtr, iovsLen, at, nreadPtr)
    },

    fd_pwrite (fd: number, iovsPtr: number, iovsLen: number, offset: bigint, nwrittenPtr: number): number {
      const entry = file(fd, R.FD_WRITE, E.BADF)
      const at = offsetOf(offset)
      if (at === undefined) return E.INVAL
      return transfer(writeAt, entry, iovsPtr, iovsLen, at, nwrittenPtr)
    },

    fd_read (fd: number, iovsPtr: number, iovsLen: number, nreadPtr: number): number {
      return transfer(readAt, fds.get(fd, R.FD_READ, E.BADF), iovsPtr, iovsLen, undefined, nreadPtr)
    },

    fd_write (fd: number, iovsPtr: number, iovsLen: number, nwrittenPtr: number): number {
      return transfer(writeAt, fds.get(fd, R.FD_WRITE, E.BADF), iovsPtr, iovsLen, undefined, nwrittenPtr)
    },

    fd_prestat_get (fd: number, ptr: number): number {
      const entry = fds.get(fd)
      if (entry.preopen === undefined) return E.BADF
      mem.bytes(ptr, 8).fill(0)
      mem.setU32(ptr + 4, Buffer.byteLength(entry.preopen))
      return E.SUCCESS
    },

    fd_prestat_dir_name (fd: number, ptr: number, len: number): number {
      const entry = fds.get(fd)
      if (entry.preopen === undefined) return E.BADF
      const name = Buffer.from(entry.preopen)
      if ((len >>> 0) < name.length) return E.NAMETOOLONG
      mem.write(ptr, name)
      return E.SUCCESS
    },

    fd_readdir (fd: number, buf: number, bufLen: number, cookie: bigint, bufusedPtr: number): number {
      const entry = fds.get(fd)
      if (entry.kind !== 'dir') return E.NOTDIR
      fds.get(fd, R.FD_READDIR)
      mem.assertRange(bufusedPtr, 4)
      const out = mem.bytes(buf, bufLen)
      mem.setU32(bufusedPtr, readdirInto(entry, out, BigInt.asUintN(64, cookie)))
      return E.SUCCESS
    },

    fd_renumber (from: number, to: number): number {
      fds.renumber(from, to)
      return E.SUCCESS
    },

    fd_seek (fd: number, offset: bigint, whence: number, newOffsetPtr: number): number {
      const entry = fds.get(fd)
      if (entry.kind !== 'file') return entry.kind === 'dir' ? E.BADF : E.SPIPE
      const rights = offset === 0n && whence === WHENCE.CUR ? R.FD_TELL : R.FD_SEEK
      fds.get(fd, rights)
      mem.assertRange(newOffsetPtr, 8)
      let base: number
      if (whence === WHENCE.SET) base = 0
      else if (whence === WHENCE.CUR) base = entry.position
      else if (whence === WHENCE.END) base = Number(fstatSync(entry.hostFd).size)
      else return E.INVAL
      const next = BigInt(base) + offset
      const position = offsetOf(next)
      if (position === undefined) return E.INVAL
      entry.position = position
      mem.setU64(newOffsetPtr, next)
      return E.SUCCESS
    },

    fd_tell (fd: number, ptr: number): number {
      const entry = fds.get(fd)
      if (entry.kind !== 'file') return entry.kind === 'dir' ? E.BADF : E.SPIPE
      fds.get(fd, R.FD_TELL)
      mem.setU64(ptr, entry.position)
      return E.SUCCESS
    }
  }
}
