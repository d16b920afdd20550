import { expect } from 'chai'
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { openedBeneath } from '../../src/wasm/wasi/confined-path.ts'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ERRNO, RIGHT, RW, WasiHarness } from '../helpers/wasi-harness.ts'

const O = { CREAT: 1, DIRECTORY: 2 }

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
})
