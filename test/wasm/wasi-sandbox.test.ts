import { expect } from 'chai'
import fs, { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { syncBuiltinESMExports } from 'node:module'
import { openedBeneath } from '../../src/wasm/wasi/confined-path.ts'
import { wasiInterfaces } from '../../src/wasm/component/wasi-imports.ts'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ERRNO, RIGHT, RW, WasiHarness } from '../helpers/wasi-harness.ts'
import { Wasi } from '../../src/wasm/wasi/index.ts'
import { WasmeshError } from '../../src/errors.ts'

const O = { CREAT: 1, DIRECTORY: 2, TRUNC: 8 }

/**
 * Runs `body` with the fs function `name` wrapped so that `swap` runs once, just before (or
 * just after) the first call on `path`: a deterministic stand-in for a host process renaming
 * things while the guest's call is in flight. Named imports of node:fs see the wrapper
 * through syncBuiltinESMExports.
 */
function withSwap (name: 'lstatSync' | 'openSync', path: string, when: 'before' | 'after', swap: () => void, body: () => void): void {
  const fns = fs as unknown as Record<string, (...args: unknown[]) => unknown>
  const original = fns[name]
  let done = false
  fns[name] = (...args: unknown[]): unknown => {
    const hit = !done && args[0] === path
    if (hit && when === 'before') { done = true; swap() }
    try {
      return original(...args)
    } finally {
      if (hit && when === 'after') { done = true; swap() }
    }
  }
  syncBuiltinESMExports()
  try {
    body()
  } finally {
    fns[name] = original
    syncBuiltinESMExports()
  }
  expect(done, `the swap on ${name}(${path}) ran`).to.equal(true)
}

/**
 * The guest must reach nothing of the host outside its preopens. The preopen is `box`; next
 * to it is `secret`, which every escape below would reach if it worked.
 */
describe('wasi preview 1: the sandbox holds', () => {
  let outer: string
  let box: string
  let h: WasiHarness

  beforeEach(() => {
    outer = mkdtempSync(join(tmpdir(), 'wasmesh-wasi-sandbox-'))
    box = join(outer, 'box')
    mkdirSync(join(box, 'sub', 'deeper'), { recursive: true })
    writeFileSync(join(outer, 'secret'), 'SECRET')
    writeFileSync(join(box, 'f'), 'inside')
    h = new WasiHarness({}, box)
  })
  afterEach(() => {
    h.wasi.close()
    rmSync(outer, { recursive: true, force: true })
  })

  it('refuses preopens nested one in another (the inner root could be swapped through the outer); the same dir twice is fine', () => {
    expect(() => new Wasi({ preopens: [{ guest: '/', host: outer }, { guest: '/box', host: box }] })).to.throw(WasmeshError, 'one is inside the other')
    expect(() => new Wasi({ preopens: [{ guest: '/a', host: box }, { guest: '/b', host: box }] }).close()).not.to.throw()
  })

  it('denies everything once a preopen\'s root is no longer the directory it was', () => {
    renameSync(box, `${box}-moved`)
    symlinkSync(outer, box)
    const [p, l] = h.put('secret')
    expect(h.call('path_filestat_get', 3, 0, p, l, 60_000)).to.equal(ERRNO.NOTCAPABLE)
    expect(h.open('secret').errno).to.equal(ERRNO.NOTCAPABLE)
    rmSync(box)
    renameSync(`${box}-moved`, box)
    expect(h.open('f').errno).to.equal(0)
  })

  it('bounds a path walk: directories deeper than 256, or expansions past 4096 steps, are ENAMETOOLONG', () => {
    mkdirSync(join(box, ...Array(300).fill('d')), { recursive: true })
    const stat = (path: string, follow = 0): number => {
      const [p, l] = h.put(path)
      return h.call('path_filestat_get', 3, follow, p, l, 60_000)
    }
    expect(stat(Array(250).fill('d').join('/'))).to.equal(0)
    expect(stat(Array(300).fill('d').join('/'))).to.equal(ERRNO.NAMETOOLONG)
    // a link that expands to 300 components, followed 5 and 14 times
    symlinkSync(Array(150).fill('sub/..').join('/'), join(box, 'long'))
    expect(stat(Array(5).fill('long').join('/'), 1)).to.equal(0)
    expect(stat(Array(14).fill('long').join('/'), 1)).to.equal(ERRNO.NAMETOOLONG)
  })

  it('path_open with O_TRUNC refused for want of an fd leaves the file as it was', () => {
    writeFileSync(join(box, 'keep'), 'kept')
    let opened = 0
    while (h.open('f').errno === 0) opened++
    expect(opened).to.be.greaterThan(100)
    expect(h.open('keep', { oflags: 8 }).errno).to.equal(33) // EMFILE
    expect(readFileSync(join(box, 'keep'), 'utf8')).to.equal('kept')
  })

  it('denies `..` above the preopen root, at once or after descending', () => {
    expect(h.open('../secret').errno).to.equal(ERRNO.NOTCAPABLE)
    expect(h.open('sub/../../secret').errno).to.equal(ERRNO.NOTCAPABLE)
    expect(h.open('sub/deeper/../../../secret').errno).to.equal(ERRNO.NOTCAPABLE)
    expect(h.open('..').errno).to.equal(ERRNO.NOTCAPABLE)
    // `..` that stays inside is fine
    expect(h.read(h.open('sub/deeper/../../f').fd).text).to.equal('inside')
    // from a directory fd opened below the root, the root is still the limit
    const sub = h.open('sub', { oflags: O.DIRECTORY, base: RW & ~RIGHT.FD_WRITE })
    expect(sub.errno).to.equal(0)
    expect(h.read(h.open('../f', { dirFd: sub.fd }).fd).text).to.equal('inside')
    expect(h.open('../../secret', { dirFd: sub.fd }).errno).to.equal(ERRNO.NOTCAPABLE)
  })

  it('denies absolute paths', () => {
    expect(h.open('/etc/passwd').errno).to.equal(ERRNO.NOTCAPABLE)
    expect(h.open(join(outer, 'secret')).errno).to.equal(ERRNO.NOTCAPABLE)
    expect(h.pathCall('path_create_directory', 3, '/tmp/wasmesh-escape')).to.equal(ERRNO.NOTCAPABLE)
    expect(existsSync('/tmp/wasmesh-escape')).to.equal(false)
  })

  it('denies symlinks to absolute targets such as /etc, whatever the call', () => {
    symlinkSync('/etc', join(box, 'etc'))
    symlinkSync(join(outer, 'secret'), join(box, 'abs-secret'))
    expect(h.open('etc/passwd').errno).to.equal(ERRNO.NOTCAPABLE)
    expect(h.open('abs-secret').errno).to.equal(ERRNO.NOTCAPABLE)
    expect(h.call('path_filestat_get', 3, 1, ...h.put('etc/passwd'), 100)).to.equal(ERRNO.NOTCAPABLE)
    expect(h.call('path_filestat_get', 3, 1, ...h.put('etc'), 100)).to.equal(ERRNO.NOTCAPABLE)
    // not following the final link only looks at the link itself
    expect(h.call('path_filestat_get', 3, 0, ...h.put('etc'), 100)).to.equal(0)
    expect(h.bytes[116]).to.equal(7)
    expect(h.pathCall('path_create_directory', 3, 'etc/wasmesh')).to.equal(ERRNO.NOTCAPABLE)
    expect(h.pathCall('path_unlink_file', 3, 'etc/hostname')).to.equal(ERRNO.NOTCAPABLE)
    expect(h.call('path_filestat_set_times', 3, 1, ...h.put('abs-secret'), 0n, 0n, 2)).to.equal(ERRNO.NOTCAPABLE)
  })

  it('denies relative symlinks and chains that climb out', () => {
    symlinkSync('../secret', join(box, 'up-secret'))
    symlinkSync('..', join(box, 'up'))
    symlinkSync('../../secret', join(box, 'sub', 'b'))
    symlinkSync('sub/b', join(box, 'a'))
    symlinkSync('deeper/../..', join(box, 'sub', 'root-again'))
    expect(h.open('up-secret').errno).to.equal(ERRNO.NOTCAPABLE)
    expect(h.open('up/secret').errno).to.equal(ERRNO.NOTCAPABLE)
    expect(h.open('a').errno).to.equal(ERRNO.NOTCAPABLE)
    expect(h.open('sub/b').errno).to.equal(ERRNO.NOTCAPABLE)
    // a chain that stays inside works
    expect(h.read(h.open('sub/root-again/f').fd).text).to.equal('inside')
    expect(h.open('sub/root-again/../secret').errno).to.equal(ERRNO.NOTCAPABLE)
  })

  it('denies rename, link and symlink targets outside, and escaping symlink contents', () => {
    expect(h.call('path_rename', 3, ...h.put('f'), 3, ...h.put('../stolen'))).to.equal(ERRNO.NOTCAPABLE)
    expect(h.call('path_rename', 3, ...h.put('../secret'), 3, ...h.put('mine'))).to.equal(ERRNO.NOTCAPABLE)
    expect(h.call('path_link', 3, 0, ...h.put('f'), 3, ...h.put('../linked'))).to.equal(ERRNO.NOTCAPABLE)
    expect(h.call('path_link', 3, 0, ...h.put('../secret'), 3, ...h.put('linked'))).to.equal(ERRNO.NOTCAPABLE)
    expect(h.call('path_symlink', ...h.put('/etc/passwd'), 3, ...h.put('pw'))).to.equal(ERRNO.NOTCAPABLE)
    expect(h.call('path_symlink', ...h.put('../secret'), 3, ...h.put('s1'))).to.equal(ERRNO.NOTCAPABLE)
    expect(h.call('path_symlink', ...h.put('deeper/../../../secret'), 3, ...h.put('sub/s2'))).to.equal(ERRNO.NOTCAPABLE)
    expect(h.call('path_symlink', ...h.put('ok'), 3, ...h.put('../s3'))).to.equal(ERRNO.NOTCAPABLE)
    expect(h.pathCall('path_unlink_file', 3, '../secret')).to.equal(ERRNO.NOTCAPABLE)
    expect(h.pathCall('path_remove_directory', 3, '../box')).to.equal(ERRNO.NOTCAPABLE)
    for (const name of ['stolen', 'linked', 's3']) expect(existsSync(join(outer, name))).to.equal(false)
    expect(readFileSync(join(outer, 'secret'), 'utf8')).to.equal('SECRET')
    // a symlink that is fine where it was made escapes once moved up: it is checked when used
    expect(h.call('path_symlink', ...h.put('../f'), 3, ...h.put('sub/ok'))).to.equal(0)
    expect(h.read(h.open('sub/ok').fd).text).to.equal('inside')
    expect(h.call('path_rename', 3, ...h.put('sub/ok'), 3, ...h.put('moved'))).to.equal(0)
    expect(h.open('moved').errno).to.equal(ERRNO.NOTCAPABLE)
  })

  it('checks where an opened fd really is, against a swap racing the path walk', () => {
    const inside = openSync(join(box, 'f'), 'r')
    const outside = openSync(join(outer, 'secret'), 'r')
    try {
      expect(openedBeneath(box, inside)).to.equal(true)
      expect(openedBeneath(box, outside)).to.equal(false)
      expect(openedBeneath(join(outer, 'bo'), inside)).to.equal(false)
    } finally {
      closeSync(inside)
      closeSync(outside)
    }
  })

  it('a guest `/` preopen is the temp dir, not the host root', () => {
    const root = new WasiHarness({ preopens: [{ guest: '/', host: box }] }, box)
    try {
      expect(root.call('fd_prestat_dir_name', 3, 100, 1)).to.equal(0)
      expect(root.text(100, 1)).to.equal('/')
      expect(root.open('etc/passwd').errno).to.equal(ERRNO.NOENT)
      expect(root.open('/etc/passwd').errno).to.equal(ERRNO.NOTCAPABLE)
      expect(root.open('../secret').errno).to.equal(ERRNO.NOTCAPABLE)
      expect(root.read(root.open('f').fd).text).to.equal('inside')
      // `..` in the root's listing is the root itself: nothing above it shows through
      expect(root.call('fd_readdir', 3, 1000, 4000, 0n, 0)).to.equal(0)
      expect(root.text(1024, 1)).to.equal('.')
      expect(root.text(1049, 2)).to.equal('..')
      expect(root.u64(1008)).to.equal(root.u64(1033))
    } finally {
      root.wasi.close()
    }
  })

  it('follows a preopen whose host path is itself a symlink, and stdio never touches host fds', () => {
    symlinkSync(box, join(outer, 'box-link'))
    const linked = new WasiHarness({}, join(outer, 'box-link'))
    try {
      expect(linked.read(linked.open('f').fd).text).to.equal('inside')
      expect(linked.open('../secret').errno).to.equal(ERRNO.NOTCAPABLE)
      expect(linked.read(0)).to.deep.equal({ errno: 0, text: '' })
      expect(linked.write(1, 'dropped')).to.deep.equal({ errno: 0, n: 7 })
      expect(linked.call('fd_prestat_get', 0, 0)).to.equal(ERRNO.BADF)
    } finally {
      linked.wasi.close()
    }
  })

  it('re-resolves a directory fd from the root: a symlink renamed into its place does not redirect it', () => {
    // the review's escape: `sub` opened, then replaced by a symlink to `..` made one level down
    mkdirSync(join(box, 'd1'))
    writeFileSync(join(outer, 'victim'), 'precious')
    const past = new Date('2001-01-01T00:00:00Z')
    utimesSync(outer, past, past)
    const sub = h.open('sub', { oflags: O.DIRECTORY, base: RW & ~RIGHT.FD_WRITE })
    expect(sub.errno).to.equal(0)
    expect(h.call('path_symlink', ...h.put('..'), 3, ...h.put('d1/l'))).to.equal(0)
    expect(h.call('path_rename', 3, ...h.put('sub'), 3, ...h.put('sub_old'))).to.equal(0)
    expect(h.call('path_rename', 3, ...h.put('d1/l'), 3, ...h.put('sub'))).to.equal(0)

    expect(h.call('path_filestat_get', sub.fd, 0, ...h.put('secret'), 100)).to.equal(ERRNO.NOTCAPABLE)
    expect(h.call('path_rename', sub.fd, ...h.put('secret'), 3, ...h.put('stolen'))).to.equal(ERRNO.NOTCAPABLE)
    expect(h.call('path_rename', 3, ...h.put('f'), sub.fd, ...h.put('planted-file'))).to.equal(ERRNO.NOTCAPABLE)
    expect(h.pathCall('path_create_directory', sub.fd, 'planted')).to.equal(ERRNO.NOTCAPABLE)
    expect(h.call('fd_readdir', sub.fd, 1000, 4000, 0n, 0)).to.equal(ERRNO.NOTCAPABLE)
    expect(h.call('fd_filestat_get', sub.fd, 100)).to.equal(ERRNO.NOTCAPABLE)
    expect(h.call('fd_filestat_set_times', sub.fd, 0n, 0n, 2 | 8)).to.equal(ERRNO.NOTCAPABLE)
    expect(h.open('victim', { dirFd: sub.fd, oflags: O.TRUNC }).errno).to.equal(ERRNO.NOTCAPABLE)
    expect(h.open('created', { dirFd: sub.fd, oflags: O.CREAT }).errno).to.equal(ERRNO.NOTCAPABLE)
    expect(h.open('.', { dirFd: sub.fd, oflags: O.DIRECTORY, base: RW & ~RIGHT.FD_WRITE }).errno).to.equal(ERRNO.NOTCAPABLE)

    expect(readFileSync(join(outer, 'secret'), 'utf8')).to.equal('SECRET')
    expect(readFileSync(join(outer, 'victim'), 'utf8')).to.equal('precious')
    for (const name of ['stolen', 'planted', 'planted-file', 'created']) expect(existsSync(join(outer, name))).to.equal(false)
    expect(statSync(outer).mtime.getTime()).to.equal(past.getTime())
    expect(existsSync(join(box, 'f'))).to.equal(true)
  })

  it('a directory fd names its path: a real directory put back there serves it, deeper components are re-checked', () => {
    const deeper = h.open('sub/deeper', { oflags: O.DIRECTORY, base: RW & ~RIGHT.FD_WRITE })
    expect(deeper.errno).to.equal(0)
    renameSync(join(box, 'sub'), join(box, 'sub_old'))
    // nothing there: ENOENT, not the moved directory's contents, not the host
    expect(h.call('fd_readdir', deeper.fd, 1000, 4000, 0n, 0)).to.equal(ERRNO.NOENT)
    // an intermediate component swapped for an escaping symlink
    symlinkSync('..', join(box, 'sub'))
    expect(h.call('fd_readdir', deeper.fd, 1000, 4000, 0n, 0)).to.equal(ERRNO.NOTCAPABLE)
    expect(h.open('../../secret', { dirFd: deeper.fd }).errno).to.equal(ERRNO.NOTCAPABLE)
    rmSync(join(box, 'sub'))
    mkdirSync(join(box, 'sub', 'deeper'), { recursive: true })
    writeFileSync(join(box, 'sub', 'deeper', 'g'), 'new')
    expect(h.read(h.open('g', { dirFd: deeper.fd }).fd).text).to.equal('new')
    expect(h.call('fd_readdir', deeper.fd, 1000, 4000, 0n, 0)).to.equal(0)
  })

  it('path_open creates or truncates nothing outside when the parent is swapped after the walk', () => {
    writeFileSync(join(outer, 'victim'), 'precious')
    const swap = (): void => {
      renameSync(join(box, 'sub'), join(box, 'sub_old'))
      symlinkSync(outer, join(box, 'sub'))
    }
    // swapped once the walk has looked at the final component, before anything is opened
    withSwap('lstatSync', join(box, 'sub', 'victim'), 'after', swap, () => {
      expect(h.open('sub/victim', { oflags: O.TRUNC }).errno).to.equal(ERRNO.NOTCAPABLE)
    })
    expect(readFileSync(join(outer, 'victim'), 'utf8')).to.equal('precious')
    rmSync(join(box, 'sub')); renameSync(join(box, 'sub_old'), join(box, 'sub'))
    withSwap('lstatSync', join(box, 'sub', 'new-file'), 'after', swap, () => {
      expect(h.open('sub/new-file', { oflags: O.CREAT }).errno).to.equal(ERRNO.NOTCAPABLE)
    })
    expect(existsSync(join(outer, 'new-file'))).to.equal(false)
  })

  it('path_open truncates only once the opened file is known to be beneath the root', () => {
    writeFileSync(join(outer, 'victim'), 'precious')
    writeFileSync(join(box, 'sub', 'victim'), 'inside')
    // swapped at the last moment: the open itself lands outside
    withSwap('openSync', join(box, 'sub', 'victim'), 'before', () => {
      renameSync(join(box, 'sub'), join(box, 'sub_old'))
      symlinkSync(outer, join(box, 'sub'))
    }, () => {
      expect(h.open('sub/victim', { oflags: O.TRUNC }).errno).to.equal(ERRNO.NOTCAPABLE)
    })
    expect(readFileSync(join(outer, 'victim'), 'utf8')).to.equal('precious')
    // unswapped, TRUNC still empties the file
    rmSync(join(box, 'sub')); renameSync(join(box, 'sub_old'), join(box, 'sub'))
    const t = h.open('sub/victim', { oflags: O.TRUNC })
    expect(t.errno).to.equal(0)
    expect(readFileSync(join(box, 'sub', 'victim'), 'utf8')).to.equal('')
  })
})

describe('wasi output: no host allocation beyond what the guest wrote', () => {
  it('preview 1 hands stdout one iovec at a time, as views: repeated iovecs are not joined', () => {
    const sizes: number[] = []
    const chunks: string[] = []
    const h = new WasiHarness({ stdout: b => { sizes.push(b.length); if (chunks.length < 2) chunks.push(Buffer.from(b).toString()) } })
    try {
      h.bytes.fill(0x61, 0, 4096)
      for (let i = 0; i < 1024; i++) { h.setU32(8192 + i * 8, 0); h.setU32(8192 + i * 8 + 4, 4096) }
      expect(h.call('fd_write', 1, 8192, 1024, 0)).to.equal(0)
      expect(h.u32(0)).to.equal(1024 * 4096)
      expect(sizes).to.have.length(1024)
      expect(Math.max(...sizes)).to.equal(4096)
      expect(chunks[0]).to.equal('a'.repeat(4096))
    } finally {
      h.cleanup()
    }
  })

  it('WASI 0.2 write-zeroes refuses a length above the write budget before allocating', () => {
    const written: Uint8Array[] = []
    const wasi = wasiInterfaces({ stdout: b => written.push(b), stderr: () => {} })
    const stdout = (wasi.get('cli/stdout') as { getStdout: () => any }).getStdout()
    const budget = stdout.checkWrite() as bigint
    expect(() => stdout.writeZeroes(budget + 1n)).to.throw(Error)
    expect(() => stdout.blockingWriteZeroesAndFlush(1n << 40n)).to.throw(Error)
    expect(written).to.have.length(0)
    stdout.writeZeroes(3n)
    stdout.blockingWriteZeroesAndFlush(budget)
    expect(written.map(b => b.length)).to.deep.equal([3, Number(budget)])
    expect(written[0]).to.deep.equal(new Uint8Array(3))
  })
})
