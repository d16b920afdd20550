import {
  closeSync, constants, fstatSync, ftruncateSync, linkSync, lstatSync, mkdirSync, openSync, readlinkSync,
  renameSync, rmdirSync, symlinkSync, unlinkSync
} from 'node:fs'
import { E, Errno } from './errno.ts'
import type { OpenFd } from './fd-table.ts'
import type { WasiContext, WasiFunction } from './context.ts'
import {
  dirBeneath, hostPath, lstatOrUndefined, openedBeneath, resolveBeneath, symlinkTargetStaysBeneath, type Resolved
} from './confined-path.ts'
import { DIR_RIGHTS, FDFLAGS, FILE_RIGHTS, FILETYPE, LOOKUP_SYMLINK_FOLLOW, OFLAGS, R, filetypeOf } from './rights.ts'
import { FILESTAT_SIZE, setPathTimes, writeFilestat } from './filestat.ts'

interface At extends Resolved {
  dir: OpenFd
  host: string
  /** the guest's path ended in `/`: it can only name a directory */
  trailingSlash: boolean
}

const WRITE_RIGHTS = R.FD_WRITE | R.FD_DATASYNC | R.FD_ALLOCATE | R.FD_FILESTAT_SET_SIZE
const READ_RIGHTS = R.FD_READ | R.FD_READDIR

/** path_*: every path is resolved beneath the directory fd's preopen root (confined-path.ts) */
export function pathFunctions (ctx: WasiContext): Record<string, WasiFunction> {
  const { mem, fds } = ctx

  function at (fd: number, rights: bigint, pathPtr: number, pathLen: number, follow: boolean): At {
    const dir = fds.get(fd)
    if (dir.kind !== 'dir') throw new Errno(E.NOTDIR)
    fds.get(fd, rights)
    const path = mem.path(pathPtr, pathLen)
    const resolved = resolveBeneath(dir.root, dir.parts, path, follow)
    return { ...resolved, dir, host: hostPath(resolved.root, resolved.parts), trailingSlash: path.endsWith('/') }
  }

  function openDir (parent: OpenFd, target: At, base: bigint, inheriting: bigint, fdflags: number): OpenFd {
    return {
      kind: 'dir',
      filetype: FILETYPE.DIRECTORY,
      flags: fdflags & FDFLAGS.NONBLOCK,
      rightsBase: base & parent.rightsInheriting & DIR_RIGHTS,
      rightsInheriting: inheriting & parent.rightsInheriting,
      root: target.root,
      parts: target.parts,
      hostFd: -1,
      position: 0
    }
  }

  return {
    path_open (fd: number, dirflags: number, pathPtr: number, pathLen: number, oflags: number,
      rightsBase: bigint, rightsInheriting: bigint, fdflags: number, fdPtr: number): number {
      const base = BigInt.asUintN(64, rightsBase)
      const inheriting = BigInt.asUintN(64, rightsInheriting)
      if ((oflags & ~0xf) !== 0 || (fdflags & ~0x1f) !== 0) return E.INVAL
      const create = (oflags & OFLAGS.CREAT) !== 0
      const exclusive = create && (oflags & OFLAGS.EXCL) !== 0
      const truncate = (oflags & OFLAGS.TRUNC) !== 0
      const needed = R.PATH_OPEN | (create ? R.PATH_CREATE_FILE : 0n) | (truncate ? R.PATH_FILESTAT_SET_SIZE : 0n)
      const follow = (dirflags & LOOKUP_SYMLINK_FOLLOW) !== 0 && !exclusive
      const target = at(fd, needed, pathPtr, pathLen, follow)
      const parent = target.dir
      if ((base & ~parent.rightsInheriting) !== 0n || (inheriting & ~parent.rightsInheriting) !== 0n) return E.NOTCAPABLE
      mem.assertRange(fdPtr, 4)

      const stats = lstatOrUndefined(target.host)
      if (stats !== undefined) {
        if (exclusive) return E.EXIST
        if (stats.isSymbolicLink()) return E.LOOP
        if (stats.isDirectory()) {
          if (create || truncate || (base & R.FD_WRITE) !== 0n) return E.ISDIR
          if (!dirBeneath(target.root, target.host)) return E.NOTCAPABLE
          mem.setU32(fdPtr, fds.add(openDir(parent, target, base, inheriting, fdflags)))
          return E.SUCCESS
        }
        if ((oflags & OFLAGS.DIRECTORY) !== 0) return E.NOTDIR
      } else {
        if (!create) return E.NOENT
        if ((oflags & OFLAGS.DIRECTORY) !== 0 || !target.named) return E.INVAL
        // `new/` names a directory that O_CREAT cannot make: EISDIR, as Linux and wasmtime say
        if (target.trailingSlash) return E.ISDIR
      }

      // no side effect before the checks: the parent's real path is checked before O_CREAT may
      // make a file there, and O_TRUNC is left out, the file emptied once openedBeneath agrees
      if (!dirBeneath(target.root, hostPath(target.root, target.parts.slice(0, -1)))) return E.NOTCAPABLE
      // nor when the fd could not be kept: a refused open must not have created or emptied a file
      fds.assertRoom()
      const writable = (base & WRITE_RIGHTS) !== 0n || truncate
      const access = writable ? ((base & READ_RIGHTS) !== 0n ? constants.O_RDWR : constants.O_WRONLY) : constants.O_RDONLY
      // NOFOLLOW: the final component was resolved here; NONBLOCK: a FIFO must not block open()
      let flags = access | constants.O_NOFOLLOW | constants.O_NONBLOCK
      if (create) flags |= constants.O_CREAT
      if (exclusive) flags |= constants.O_EXCL
      if ((fdflags & FDFLAGS.DSYNC) !== 0) flags |= constants.O_DSYNC
      if ((fdflags & (FDFLAGS.SYNC | FDFLAGS.RSYNC)) !== 0) flags |= constants.O_SYNC
      let hostFd = openSync(target.host, flags, 0o666)
      let entry: OpenFd
      try {
        if (!openedBeneath(target.root, hostFd)) throw new Errno(E.NOTCAPABLE)
        const opened = fstatSync(hostFd)
        if (opened.isDirectory()) {
          // became a directory between lstat and open: treat it as one
          closeSync(hostFd)
          hostFd = -1
          entry = openDir(parent, target, base, inheriting, fdflags)
        } else {
          // as O_TRUNC would: regular files only (the kernel ignores it for FIFOs and devices)
          if (truncate && opened.isFile()) ftruncateSync(hostFd, 0)
          entry = {
            kind: 'file',
            filetype: filetypeOf(opened),
            flags: fdflags,
            rightsBase: base & parent.rightsInheriting & FILE_RIGHTS,
            rightsInheriting: inheriting & parent.rightsInheriting,
            root: target.root,
            parts: target.parts,
            hostFd,
            position: 0
          }
        }
        mem.setU32(fdPtr, fds.add(entry))
      } catch (err) {
        if (hostFd >= 0) closeSync(hostFd)
        throw err
      }
      return E.SUCCESS
    },

    path_create_directory (fd: number, pathPtr: number, pathLen: number): number {
      const target = at(fd, R.PATH_CREATE_DIRECTORY, pathPtr, pathLen, false)
      if (!target.named) return E.EXIST
      mkdirSync(target.host)
      return E.SUCCESS
    },

    path_filestat_get (fd: number, flags: number, pathPtr: number, pathLen: number, buf: number): number {
      const target = at(fd, R.PATH_FILESTAT_GET, pathPtr, pathLen, (flags & LOOKUP_SYMLINK_FOLLOW) !== 0)
      mem.assertRange(buf, FILESTAT_SIZE)
      writeFilestat(mem, buf, lstatSync(target.host, { bigint: true }))
      return E.SUCCESS
    },

    path_filestat_set_times (fd: number, flags: number, pathPtr: number, pathLen: number,
      atim: bigint, mtim: bigint, fstFlags: number): number {
      const target = at(fd, R.PATH_FILESTAT_SET_TIMES, pathPtr, pathLen, (flags & LOOKUP_SYMLINK_FOLLOW) !== 0)
      setPathTimes(target.host, atim, mtim, fstFlags)
      return E.SUCCESS
    },

    path_link (oldFd: number, oldFlags: number, oldPtr: number, oldLen: number,
      newFd: number, newPtr: number, newLen: number): number {
      const source = at(oldFd, R.PATH_LINK_SOURCE, oldPtr, oldLen, (oldFlags & LOOKUP_SYMLINK_FOLLOW) !== 0)
      const target = at(newFd, R.PATH_LINK_TARGET, newPtr, newLen, false)
      if (!target.named) return E.EXIST
      if (!source.named) return E.PERM
      linkSync(source.host, target.host)
      return E.SUCCESS
    },

    path_readlink (fd: number, pathPtr: number, pathLen: number, buf: number, bufLen: number, bufusedPtr: number): number {
      const target = at(fd, R.PATH_READLINK, pathPtr, pathLen, false)
      mem.assertRange(bufusedPtr, 4)
      const out = mem.bytes(buf, bufLen)
      const link = readlinkSync(target.host, { encoding: 'buffer' })
      const n = Math.min(link.length, out.length)
      out.set(link.subarray(0, n))
      mem.setU32(bufusedPtr, n)
      return E.SUCCESS
    },

    path_remove_directory (fd: number, pathPtr: number, pathLen: number): number {
      const target = at(fd, R.PATH_REMOVE_DIRECTORY, pathPtr, pathLen, false)
      if (!target.named) return E.INVAL
      rmdirSync(target.host)
      return E.SUCCESS
    },

    path_rename (fd: number, oldPtr: number, oldLen: number, newFd: number, newPtr: number, newLen: number): number {
      const source = at(fd, R.PATH_RENAME_SOURCE, oldPtr, oldLen, false)
      const target = at(newFd, R.PATH_RENAME_TARGET, newPtr, newLen, false)
      if (!source.named || !target.named) return E.INVAL
      renameSync(source.host, target.host)
      return E.SUCCESS
    },

    path_symlink (oldPtr: number, oldLen: number, fd: number, newPtr: number, newLen: number): number {
      const linkTarget = mem.path(oldPtr, oldLen)
      const link = at(fd, R.PATH_SYMLINK, newPtr, newLen, false)
      if (!link.named) return E.EXIST
      if (linkTarget === '') return E.NOENT
      if (!symlinkTargetStaysBeneath(link.parts.length - 1, linkTarget)) return E.NOTCAPABLE
      symlinkSync(linkTarget, link.host)
      return E.SUCCESS
    },

    path_unlink_file (fd: number, pathPtr: number, pathLen: number): number {
      const target = at(fd, R.PATH_UNLINK_FILE, pathPtr, pathLen, false)
      if (!target.named) return E.ISDIR
      unlinkSync(target.host)
      return E.SUCCESS
    }
  }
}
