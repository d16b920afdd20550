import { closeSync } from 'node:fs'
import { E, Errno } from './errno.ts'
import { LIMITS } from './rights.ts'
import type { DirListing } from './readdir.ts'

/**
 * The guest's fd numbers and what each stands for. Stdio entries are the options' buffers and
 * callbacks (no host fd 0/1/2 ever reaches the guest); files hold a host fd this table owns;
 * directories hold only their path below a preopen root (resolution is ours, not the kernel's).
 */

export type FdKind = 'stdin' | 'stdout' | 'stderr' | 'file' | 'dir'

export interface OpenFd {
  kind: FdKind
  filetype: number
  /** fdflags: APPEND is emulated here, the host fd is never opened O_APPEND */
  flags: number
  rightsBase: bigint
  rightsInheriting: bigint
  /** host root of the preopen this fd lives under ('' for stdio) */
  root: string
  /** components below root */
  parts: string[]
  /** host fd for files, else -1 */
  hostFd: number
  /** read/write offset: into the file, or into options.stdin */
  position: number
  /** guest name, for preopens (fd_prestat_*) */
  preopen?: string
  /** dirs: the listing fd_readdir last made, reused while the directory is unchanged */
  listing?: DirListing
}

export class FdTable {
  private readonly entries = new Map<number, OpenFd>()

  /** the open fd, with all of `rights`; EBADF if not open, `missing` if a right is lacking */
  get (fd: number, rights = 0n, missing = E.NOTCAPABLE): OpenFd {
    const entry = this.entries.get(fd)
    if (entry === undefined) throw new Errno(E.BADF)
    if ((entry.rightsBase & rights) !== rights) throw new Errno(missing)
    return entry
  }

  has (fd: number): boolean {
    return this.entries.has(fd)
  }

  /** EMFILE if no entry can be added: checked before an open has side effects on the host */
  assertRoom (): void {
    if (this.entries.size >= LIMITS.openFds) throw new Errno(E.MFILE)
  }

  /** puts the entry at the lowest free number; EMFILE past LIMITS.openFds */
  add (entry: OpenFd): number {
    this.assertRoom()
    let fd = 0
    while (this.entries.has(fd)) fd++
    this.entries.set(fd, entry)
    return fd
  }

  set (fd: number, entry: OpenFd): void {
    this.entries.set(fd, entry)
  }

  close (fd: number): void {
    const entry = this.get(fd)
    this.entries.delete(fd)
    release(entry)
  }

  renumber (from: number, to: number): void {
    const entry = this.get(from)
    const replaced = this.get(to)
    if (from === to) return
    this.entries.set(to, entry)
    this.entries.delete(from)
    release(replaced)
  }

  closeAll (): void {
    for (const entry of this.entries.values()) release(entry)
    this.entries.clear()
  }
}

function release (entry: OpenFd): void {
  if (entry.hostFd < 0) return
  const fd = entry.hostFd
  entry.hostFd = -1
  try {
    closeSync(fd)
  } catch {
    // already gone: nothing left to release
  }
}
