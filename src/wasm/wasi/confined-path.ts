import { lstatSync, readlinkSync, realpathSync, type Stats } from 'node:fs'
import { E, Errno } from './errno.ts'
import { LIMITS } from './rights.ts'

/**
 * Guest paths resolved beneath a preopen's host root, one component at a time, the way
 * openat2(RESOLVE_BENEATH) does: absolute paths, `..` above the root and symlinks whose
 * target leaves the root are ENOTCAPABLE; symlinks are expanded here (never by the host), so
 * the host path handed to fs is made only of real directories below the root plus a final name.
 *
 * A directory fd is only a name: its components below the root are walked again, from the
 * root and with the same checks, on every use (resolveBeneath, resolveDir). Its saved
 * components were real directories when it was opened, but the guest itself can rename a
 * symlink into their place afterwards; trusting them would let `..` or a link climb out.
 * (Holding a host O_DIRECTORY fd instead would follow the directory across renames, but
 * Node has no openat(): every use would still go through a path, checked against the fd
 * by dev/ino or /proc, and cost a host fd per guest dir fd.) So a dir fd follows its path,
 * not the directory: renamed away, it names whatever is put there, checked as any path.
 *
 * Known limit: Node has no openat(), so the host path is re-walked by the kernel when used.
 * Something renaming a directory into an escaping symlink between this walk and the use (a
 * host process, or another guest sharing the directory) could redirect it. path_open narrows
 * that gap: it checks the parent's real path before creating and where the opened fd really
 * is (openedBeneath) before truncating or handing it out; other calls do not.
 */

export interface Resolved {
  /** the preopen's host root (a real path) */
  root: string
  /** components below root: real directories, then the final name */
  parts: string[]
  /** the path ended in a plain name (not `.`/`..`/the directory itself): what create/remove need */
  named: boolean
}

export function hostPath (root: string, parts: readonly string[]): string {
  return parts.length === 0 ? root : `${root === '/' ? '' : root}/${parts.join('/')}`
}

/**
 * Resolve `guestPath` relative to the directory `base` (a dir fd's components below root).
 * `base` is never trusted: it is walked from the root like the guest's own components.
 * `follow`: whether a symlink in the final component is followed (LOOKUPFLAGS_SYMLINK_FOLLOW);
 * a trailing slash always follows and requires a directory.
 */
export function resolveBeneath (root: string, base: readonly string[], guestPath: string, follow: boolean): Resolved {
  if (guestPath === '') throw new Errno(E.NOENT)
  if (guestPath.startsWith('/')) throw new Errno(E.NOTCAPABLE)
  const trailingSlash = guestPath.endsWith('/')
  assertRootInPlace(root)
  const pending = [...base, ...guestPath.split('/')].filter(c => c !== '')
  const stack: string[] = []
  let named = false
  let hops = 0
  let steps = 0
  while (pending.length > 0) {
    // bounds on the walk: symlink expansions can make a short path cost thousands of lstats,
    // each of them re-walked by the kernel from the root
    if (++steps > LIMITS.resolveSteps || stack.length > LIMITS.depth) throw new Errno(E.NAMETOOLONG)
    const component = pending.shift() as string
    const isLast = pending.length === 0
    if (component === '.') {
      named = false
      continue
    }
    if (component === '..') {
      if (stack.length <= 0) throw new Errno(E.NOTCAPABLE)
      stack.pop()
      named = false
      continue
    }
    const followThis = !isLast || follow || trailingSlash
    if (!followThis) {
      stack.push(component)
      named = true
      continue
    }
    const path = hostPath(root, [...stack, component])
    const stats = lstatOrUndefined(path)
    if (stats === undefined) {
      if (!isLast) throw new Errno(E.NOENT)
      stack.push(component)
      named = true
      continue
    }
    if (stats.isSymbolicLink()) {
      if (++hops > LIMITS.symlinkHops) throw new Errno(E.LOOP)
      const target = readlinkSync(path, 'utf8')
      if (target.startsWith('/')) throw new Errno(E.NOTCAPABLE)
      const expanded = target.split('/').filter(c => c !== '')
      if (expanded.length === 0) throw new Errno(E.NOENT)
      // a link to `dir/` keeps its meaning: the expansion's last component must be a directory
      if (isLast && target.endsWith('/')) expanded.push('.')
      pending.unshift(...expanded)
      continue
    }
    if (!stats.isDirectory() && (!isLast || trailingSlash)) throw new Errno(E.NOTDIR)
    stack.push(component)
    named = true
  }
  return { root, parts: stack, named }
}

/**
 * A dir fd's directory as it resolves now, for the calls that use the directory itself
 * (fd_readdir, fd_filestat_*): ENOENT, ENOTDIR or ENOTCAPABLE if its path no longer leads
 * to a directory beneath the root. Its parts are then all real directories.
 */
export function resolveDir (dir: { root: string, parts: readonly string[] }): Resolved {
  return resolveBeneath(dir.root, dir.parts, '.', true)
}

/**
 * The root must still be the directory it was: a guest holding an enclosing directory (a
 * preopen of the parent in another instance) could otherwise swap it for a symlink leading
 * out. Nested preopens in one instance are refused outright (Wasi's constructor).
 */
function assertRootInPlace (root: string): void {
  const stats = lstatOrUndefined(root)
  if (stats === undefined || !stats.isDirectory()) throw new Errno(E.NOTCAPABLE)
}

/** the host's lstat, or undefined where nothing is */
export function lstatOrUndefined (path: string): Stats | undefined {
  try {
    return lstatSync(path)
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return undefined
    throw err
  }
}

/**
 * Whether a symlink created at depth `linkDirDepth` below the root (0: in the root itself)
 * with this target stays beneath the root: relative, never climbing above it.
 */
export function symlinkTargetStaysBeneath (linkDirDepth: number, target: string): boolean {
  if (target.startsWith('/')) return false
  let depth = linkDirDepth
  for (const component of target.split('/')) {
    if (component === '' || component === '.') continue
    depth += component === '..' ? -1 : 1
    if (depth < 0) return false
  }
  return true
}

/**
 * Whether an fd just opened from a resolved path is really beneath root, by the kernel's
 * account (/proc/self/fd); true where there is no procfs, the walk's check standing alone.
 */
export function openedBeneath (root: string, hostFd: number): boolean {
  let real: string
  try {
    real = realpathSync(`/proc/self/fd/${hostFd}`)
  } catch {
    return true
  }
  return isBeneath(root, real)
}

/** whether a directory path is really beneath root (realpath) */
export function dirBeneath (root: string, path: string): boolean {
  return isBeneath(root, realpathSync(path))
}

function isBeneath (root: string, real: string): boolean {
  return root === '/' || real === root || real.startsWith(`${root}/`)
}
