import { expect } from 'chai'
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync, existsSync, lstatSync } from 'node:fs'
import { join } from 'node:path'
import { Wasi, WasiExit, WASI_PREVIEW1_SIGNATURES } from '../../src/wasm/wasi/index.ts'
import { engine } from '../../src/wasm/engine.ts'
import { ERRNO, RIGHT, RW, WasiHarness } from '../helpers/wasi-harness.ts'

const O = { CREAT: 1, DIRECTORY: 2, EXCL: 4, TRUNC: 8 }

describe('wasi preview 1: imports driven directly', () => {
  let h: WasiHarness
  const written: string[] = []
  beforeEach(() => {
    written.length = 0
    h = new WasiHarness({
      args: ['prog', 'héllo'],
      env: { A: '1', HOME: '/data' },
      stdin: Buffer.from('line one\nline two\n'),
      stdout: b => written.push('out:' + Buffer.from(b).toString()),
      stderr: b => written.push('err:' + Buffer.from(b).toString())
    })
  })
  afterEach(() => h.cleanup())

  it('offers exactly the functions of its signature table, all callable', () => {
    expect(Object.keys(h.fn).sort()).to.deep.equal(Object.keys(WASI_PREVIEW1_SIGNATURES).sort())
    expect(Object.keys(WASI_PREVIEW1_SIGNATURES)).to.have.length(46)
    expect(WASI_PREVIEW1_SIGNATURES.path_open).to.deep.equal({ params: ['i32', 'i32', 'i32', 'i32', 'i32', 'i64', 'i64', 'i32', 'i32'], results: ['i32'] })
    expect(WASI_PREVIEW1_SIGNATURES.proc_exit).to.deep.equal({ params: ['i32'], results: [] })
  })

  it('args and environ: sizes, pointers and NUL-terminated strings', () => {
    expect(h.call('args_sizes_get', 0, 4)).to.equal(0)
    expect(h.u32(0)).to.equal(2)
    expect(h.u32(4)).to.equal('prog\0héllo\0'.length + 1) // é is two bytes
    expect(h.call('args_get', 100, 200)).to.equal(0)
    expect(h.u32(100)).to.equal(200)
    expect(h.u32(104)).to.equal(205)
    expect(h.text(200, h.u32(4))).to.equal('prog\0héllo\0')
    expect(h.call('environ_sizes_get', 0, 4)).to.equal(0)
    expect(h.u32(0)).to.equal(2)
    expect(h.call('environ_get', 100, 300)).to.equal(0)
    expect(h.text(300, h.u32(4))).to.equal('A=1\0HOME=/data\0')
    expect(h.call('args_get', 65_534, 200)).to.equal(ERRNO.FAULT)
    expect(h.call('environ_get', 100, 65_530)).to.equal(ERRNO.FAULT)
  })

  it('clocks in nanoseconds, unknown clocks EINVAL; random_get fills and bounds-checks', () => {
    expect(h.call('clock_time_get', 0, 1n, 0)).to.equal(0)
    const realtime = Number(h.u64(0) / 1_000_000n)
    expect(Math.abs(realtime - Date.now())).to.be.below(1000)
    expect(h.call('clock_time_get', 1, 1n, 0)).to.equal(0)
    const m1 = h.u64(0)
    expect(h.call('clock_time_get', 1, 1n, 0)).to.equal(0)
    expect(h.u64(0) >= m1).to.equal(true)
    for (const id of [2, 3]) {
      expect(h.call('clock_time_get', id, 1n, 0)).to.equal(0)
      expect(h.u64(0) > 0n).to.equal(true)
      expect(h.call('clock_res_get', id, 8)).to.equal(0)
      expect(h.u64(8) > 0n).to.equal(true)
    }
    expect(h.call('clock_res_get', 1, 8)).to.equal(0)
    expect(h.u64(8)).to.equal(1n)
    expect(h.call('clock_time_get', 4, 1n, 0)).to.equal(ERRNO.INVAL)
    expect(h.call('clock_res_get', 9, 0)).to.equal(ERRNO.INVAL)
    expect(h.call('clock_time_get', 0, 1n, 65_532)).to.equal(ERRNO.FAULT)
    expect(h.call('random_get', 1000, 256)).to.equal(0)
    expect(h.bytes.subarray(1000, 1256).some(b => b !== 0)).to.equal(true)
    expect(h.call('random_get', 65_000, 1000)).to.equal(ERRNO.FAULT)
    expect(h.call('random_get', -1, 2)).to.equal(ERRNO.FAULT)
  })

  it('sched_yield, proc_raise, sock_*', () => {
    expect(h.call('sched_yield')).to.equal(0)
    expect(h.call('proc_raise', 9)).to.equal(ERRNO.NOSYS)
    expect(h.call('sock_accept', 3, 0, 0)).to.equal(ERRNO.NOTSUP)
    expect(h.call('sock_accept', 99, 0, 0)).to.equal(ERRNO.BADF)
    expect(h.call('sock_recv', 1, 0, 0, 0, 0, 0)).to.equal(ERRNO.NOTSUP)
    expect(h.call('sock_send', 42, 0, 0, 0, 0)).to.equal(ERRNO.BADF)
    expect(h.call('sock_shutdown', 0, 0)).to.equal(ERRNO.NOTSUP)
  })

  it('proc_exit throws WasiExit, and every later import call throws it again', () => {
    expect(() => h.call('proc_exit', 7)).to.throw(WasiExit).with.property('code', 7)
    expect(() => h.call('sched_yield')).to.throw(WasiExit)
  })

  it('stdio: stdin from the buffer, stdout/stderr to the callbacks, fdstat of a character device', () => {
    expect(h.read(0, 5)).to.deep.equal({ errno: 0, text: 'line ' })
    expect(h.read(0, 100)).to.deep.equal({ errno: 0, text: 'one\nline two\n' })
    expect(h.read(0, 100)).to.deep.equal({ errno: 0, text: '' })
    expect(h.write(1, 'hi')).to.deep.equal({ errno: 0, n: 2 })
    expect(h.write(2, 'oops')).to.deep.equal({ errno: 0, n: 4 })
    expect(written).to.deep.equal(['out:hi', 'err:oops'])
    expect(h.write(0, 'x').errno).to.equal(ERRNO.BADF)
    expect(h.read(1).errno).to.equal(ERRNO.BADF)
    expect(h.call('fd_fdstat_get', 1, 100)).to.equal(0)
    expect(h.bytes[100]).to.equal(2)
    expect(h.u64(108) & RIGHT.FD_WRITE).to.equal(RIGHT.FD_WRITE)
    expect(h.u64(108) & (RIGHT.FD_SEEK | RIGHT.FD_TELL)).to.equal(0n)
    expect(h.call('fd_seek', 1, 0n, 0, 0)).to.equal(ERRNO.SPIPE)
    expect(h.call('fd_tell', 0, 0)).to.equal(ERRNO.SPIPE)
    expect(h.call('fd_filestat_get', 1, 200)).to.equal(0)
    expect(h.bytes[216]).to.equal(2)
  })

  it('hands stdout each iovec in turn (no joining copy) and caps their count', () => {
    const [a, al] = h.put('ab')
    const [b, bl] = h.put('cde')
    h.setU32(100, a); h.setU32(104, al); h.setU32(108, b); h.setU32(112, bl)
    expect(h.call('fd_write', 1, 100, 2, 0)).to.equal(0)
    expect(h.u32(0)).to.equal(5)
    expect(written).to.deep.equal(['out:ab', 'out:cde'])
    expect(h.call('fd_write', 1, 100, 1025, 0)).to.equal(ERRNO.INVAL)
    h.setU32(100, 65_530); h.setU32(104, 100)
    expect(h.call('fd_write', 1, 100, 1, 0)).to.equal(ERRNO.FAULT)
    expect(h.call('fd_write', 1, 65_532, 1, 0)).to.equal(ERRNO.FAULT)
  })

  it('prestat of the preopen; EBADF for others; ENAMETOOLONG for a short buffer', () => {
    expect(h.call('fd_prestat_get', 3, 0)).to.equal(0)
    expect(h.bytes[0]).to.equal(0)
    expect(h.u32(4)).to.equal(5)
    expect(h.call('fd_prestat_dir_name', 3, 100, 5)).to.equal(0)
    expect(h.text(100, 5)).to.equal('/data')
    expect(h.call('fd_prestat_dir_name', 3, 100, 4)).to.equal(ERRNO.NAMETOOLONG)
    expect(h.call('fd_prestat_get', 4, 0)).to.equal(ERRNO.BADF)
    expect(h.call('fd_prestat_get', 1, 0)).to.equal(ERRNO.BADF)
    expect(h.call('fd_fdstat_get', 3, 100)).to.equal(0)
    expect(h.bytes[100]).to.equal(3)
  })

  it('path_open creates, writes, seeks, reads, tells; pread/pwrite leave the position alone', () => {
    const { errno, fd } = h.open('a.txt', { oflags: O.CREAT })
    expect(errno).to.equal(0)
    expect(fd).to.equal(4)
    expect(h.write(fd, 'hello world')).to.deep.equal({ errno: 0, n: 11 })
    expect(readFileSync(join(h.dir, 'a.txt'), 'utf8')).to.equal('hello world')
    expect(h.call('fd_tell', fd, 100)).to.equal(0)
    expect(h.u64(100)).to.equal(11n)
    expect(h.call('fd_seek', fd, 6n, 0, 100)).to.equal(0)
    expect(h.u64(100)).to.equal(6n)
    expect(h.read(fd)).to.deep.equal({ errno: 0, text: 'world' })
    expect(h.call('fd_seek', fd, -5n, 2, 100)).to.equal(0)
    expect(h.u64(100)).to.equal(6n)
    expect(h.call('fd_seek', fd, -2n, 1, 100)).to.equal(0)
    expect(h.u64(100)).to.equal(4n)
    expect(h.call('fd_seek', fd, -100n, 1, 100)).to.equal(ERRNO.INVAL)
    expect(h.call('fd_seek', fd, 0n, 3, 100)).to.equal(ERRNO.INVAL)
    const [p, l] = h.put('HELLO')
    h.setU32(200, p); h.setU32(204, l)
    expect(h.call('fd_pwrite', fd, 200, 1, 0n, 208)).to.equal(0)
    expect(h.u32(208)).to.equal(5)
    h.setU32(200, 300); h.setU32(204, 3)
    expect(h.call('fd_pread', fd, 200, 1, 8n, 208)).to.equal(0)
    expect(h.text(300, h.u32(208))).to.equal('rld')
    expect(h.call('fd_pread', fd, 200, 1, -1n, 208)).to.equal(ERRNO.INVAL)
    expect(h.call('fd_tell', fd, 100)).to.equal(0)
    expect(h.u64(100)).to.equal(4n)
    expect(readFileSync(join(h.dir, 'a.txt'), 'utf8')).to.equal('HELLO world')
    expect(h.call('fd_pread', 1, 200, 1, 0n, 208)).to.equal(ERRNO.BADF)
    expect(h.call('fd_close', fd)).to.equal(0)
    expect(h.call('fd_close', fd)).to.equal(ERRNO.BADF)
  })

  it('path_open flags: EXCL, missing, DIRECTORY on a file, TRUNC, APPEND, a dir opened for writing', () => {
    writeFileSync(join(h.dir, 'f'), '12345')
    mkdirSync(join(h.dir, 'd'))
    expect(h.open('f', { oflags: O.CREAT | O.EXCL }).errno).to.equal(ERRNO.EXIST)
    expect(h.open('missing').errno).to.equal(ERRNO.NOENT)
    expect(h.open('missing/x', { oflags: O.CREAT }).errno).to.equal(ERRNO.NOENT)
    expect(h.open('f', { oflags: O.DIRECTORY }).errno).to.equal(ERRNO.NOTDIR)
    expect(h.open('f/', {}).errno).to.equal(ERRNO.NOTDIR)
    expect(h.open('d', { base: RIGHT.FD_WRITE }).errno).to.equal(ERRNO.ISDIR)
    expect(h.open('new', { oflags: O.CREAT | O.DIRECTORY }).errno).to.equal(ERRNO.INVAL)
    // a trailing slash names a directory, which O_CREAT does not make: EISDIR, nothing created
    expect(h.open('newdir/', { oflags: O.CREAT }).errno).to.equal(ERRNO.ISDIR)
    expect(h.open('newdir/', { oflags: O.CREAT | O.EXCL }).errno).to.equal(ERRNO.ISDIR)
    expect(h.open('newdir/').errno).to.equal(ERRNO.NOENT)
    expect(h.open('d/', { oflags: O.CREAT }).errno).to.equal(ERRNO.ISDIR)
    symlinkSync('nowhere', join(h.dir, 'dangling'))
    expect(h.open('dangling/', { oflags: O.CREAT }).errno).to.equal(ERRNO.ISDIR)
    for (const name of ['newdir', 'nowhere']) expect(existsSync(join(h.dir, name))).to.equal(false)
    const d = h.open('d', { oflags: O.DIRECTORY, base: RIGHT.FD_READDIR | RIGHT.PATH_OPEN })
    expect(d.errno).to.equal(0)
    expect(h.call('fd_fdstat_get', d.fd, 100)).to.equal(0)
    expect(h.bytes[100]).to.equal(3)
    const app = h.open('f', { fdflags: 1 })
    expect(h.write(app.fd, '67').errno).to.equal(0)
    expect(readFileSync(join(h.dir, 'f'), 'utf8')).to.equal('1234567')
    expect(h.call('fd_fdstat_get', app.fd, 100)).to.equal(0)
    expect(h.view.getUint16(102, true)).to.equal(1)
    const t = h.open('f', { oflags: O.TRUNC })
    expect(t.errno).to.equal(0)
    expect(readFileSync(join(h.dir, 'f'), 'utf8')).to.equal('')
    // append set later through fd_fdstat_set_flags
    const w = h.open('f')
    expect(h.write(w.fd, 'abc').errno).to.equal(0)
    expect(h.call('fd_seek', w.fd, 0n, 0, 100)).to.equal(0)
    expect(h.call('fd_fdstat_set_flags', w.fd, 1)).to.equal(0)
    expect(h.write(w.fd, 'def').errno).to.equal(0)
    expect(readFileSync(join(h.dir, 'f'), 'utf8')).to.equal('abcdef')
    expect(h.call('fd_fdstat_set_flags', w.fd, 16)).to.equal(ERRNO.NOTSUP)
    expect(h.call('fd_fdstat_set_flags', w.fd, 0x100)).to.equal(ERRNO.INVAL)
  })

  it('rights: no FD_READ means EBADF on read, no FD_WRITE means EBADF on write, and rights only shrink', () => {
    writeFileSync(join(h.dir, 'f'), 'data')
    const wo = h.open('f', { base: RIGHT.FD_WRITE })
    expect(wo.errno).to.equal(0)
    expect(h.read(wo.fd).errno).to.equal(ERRNO.BADF)
    expect(h.call('fd_seek', wo.fd, 0n, 0, 100)).to.equal(ERRNO.NOTCAPABLE)
    const ro = h.open('f', { base: RIGHT.FD_READ })
    expect(h.write(ro.fd, 'x').errno).to.equal(ERRNO.BADF)
    expect(h.read(ro.fd).text).to.equal('data')
    expect(h.call('fd_fdstat_set_rights', ro.fd, RIGHT.FD_READ | RIGHT.FD_WRITE, 0n)).to.equal(ERRNO.NOTCAPABLE)
    expect(h.call('fd_fdstat_set_rights', ro.fd, 0n, 0n)).to.equal(0)
    expect(h.read(ro.fd).errno).to.equal(ERRNO.BADF)
    // a directory whose inheriting rights lack FD_WRITE cannot hand it out
    expect(h.call('fd_fdstat_set_rights', 3, (1n << 30n) - 1n, RIGHT.FD_READ)).to.equal(ERRNO.NOTCAPABLE)
    const d = h.open('.', { base: RIGHT.PATH_OPEN, inheriting: RIGHT.FD_READ })
    expect(d.errno).to.equal(0)
    expect(h.open('f', { dirFd: d.fd, base: RIGHT.FD_WRITE }).errno).to.equal(ERRNO.NOTCAPABLE)
    expect(h.open('f', { dirFd: d.fd, base: RIGHT.FD_READ, inheriting: 0n }).errno).to.equal(0)
    expect(h.call('fd_fdstat_set_rights', 3, RIGHT.PATH_OPEN, RW)).to.equal(0)
    expect(h.pathCall('path_create_directory', 3, 'x')).to.equal(ERRNO.NOTCAPABLE)
  })

  it('fd_readdir: . and .., every entry with d_next, d_ino, d_namlen, d_type, cookies and truncation', () => {
    writeFileSync(join(h.dir, 'file.txt'), 'x')
    mkdirSync(join(h.dir, 'sub'))
    symlinkSync('file.txt', join(h.dir, 'link'))
    expect(h.call('fd_readdir', 3, 1000, 4000, 0n, 0)).to.equal(0)
    const used = h.u32(0)
    const entries: Array<{ next: bigint, ino: bigint, name: string, type: number }> = []
    for (let at = 1000; at < 1000 + used;) {
      const namlen = h.u32(at + 16)
      entries.push({ next: h.u64(at), ino: h.u64(at + 8), type: h.bytes[at + 20], name: h.text(at + 24, namlen) })
      at += 24 + namlen
    }
    expect(entries.map(e => e.name)).to.deep.equal(['.', '..', 'file.txt', 'link', 'sub'])
    expect(entries.map(e => e.type)).to.deep.equal([3, 3, 4, 7, 3])
    expect(entries.map(e => e.next)).to.deep.equal([1n, 2n, 3n, 4n, 5n])
    expect(entries[2].ino).to.equal(statSync(join(h.dir, 'file.txt'), { bigint: true }).ino)
    expect(entries[0].ino).to.equal(statSync(h.dir, { bigint: true }).ino)
    // from a cookie
    expect(h.call('fd_readdir', 3, 1000, 4000, 3n, 0)).to.equal(0)
    expect(h.text(1024, h.u32(1016))).to.equal('link')
    // a buffer too small: filled to the brim, the last entry cut off
    expect(h.call('fd_readdir', 3, 1000, 30, 0n, 0)).to.equal(0)
    expect(h.u32(0)).to.equal(30)
    expect(h.call('fd_readdir', 3, 1000, 4000, 99n, 0)).to.equal(0)
    expect(h.u32(0)).to.equal(0)
    const f = h.open('file.txt')
    expect(h.call('fd_readdir', f.fd, 1000, 4000, 0n, 0)).to.equal(ERRNO.NOTDIR)
    expect(h.call('fd_readdir', 3, 65_000, 4000, 0n, 0)).to.equal(ERRNO.FAULT)
  })

  /** every entry from `cookie` on, read `bufLen` bytes at a time the way wasi-libc does */
  function listAll (fd: number, bufLen: number, cookie = 0n): Array<{ next: bigint, ino: bigint, name: string, type: number }> {
    const entries: Array<{ next: bigint, ino: bigint, name: string, type: number }> = []
    for (;;) {
      expect(h.call('fd_readdir', fd, 1000, bufLen, cookie, 0)).to.equal(0)
      const used = h.u32(0)
      let at = 0
      while (at + 24 <= used) {
        const namlen = h.u32(1000 + at + 16)
        if (at + 24 + namlen > used) break
        entries.push({ next: h.u64(1000 + at), ino: h.u64(1000 + at + 8), type: h.bytes[1000 + at + 20], name: h.text(1000 + at + 24, namlen) })
        cookie = h.u64(1000 + at)
        at += 24 + namlen
      }
      if (used < bufLen) return entries
      expect(at).to.be.greaterThan(0)
    }
  }

  it('fd_readdir: a 5,000-entry directory read with a small buffer, every entry once, in order, with its inode', () => {
    const names: string[] = []
    for (let i = 0; i < 5000; i++) names.push(`entry-${String(i).padStart(5, '0')}`)
    for (const name of names) writeFileSync(join(h.dir, name), '')
    mkdirSync(join(h.dir, 'zdir'))
    const entries = listAll(3, 200)
    expect(entries.map(e => e.name)).to.deep.equal(['.', '..', ...names, 'zdir'])
    expect(entries.map(e => e.next)).to.deep.equal(entries.map((_, i) => BigInt(i + 1)))
    expect(entries.slice(2, -1).every(e => e.type === 4)).to.equal(true)
    expect(entries[entries.length - 1].type).to.equal(3)
    expect(entries[4999].ino).to.equal(statSync(join(h.dir, names[4997]), { bigint: true }).ino)
    // a second fd on the same directory lists the same, from a cookie in the middle too
    const d = h.open('.', { oflags: O.DIRECTORY, base: RIGHT.FD_READDIR | RIGHT.PATH_OPEN })
    expect(listAll(d.fd, 4000, 2501n).map(e => e.name)).to.deep.equal(entries.slice(2501).map(e => e.name))
  })

  it('fd_readdir: a rewind (cookie 0) lists afresh, and a changed directory is re-listed mid-way', () => {
    writeFileSync(join(h.dir, 'a'), '')
    writeFileSync(join(h.dir, 'b'), '')
    expect(listAll(3, 4000).map(e => e.name)).to.deep.equal(['.', '..', 'a', 'b'])
    writeFileSync(join(h.dir, 'c'), '')
    expect(listAll(3, 4000).map(e => e.name)).to.deep.equal(['.', '..', 'a', 'b', 'c'])
    rmSync(join(h.dir, 'a'))
    expect(listAll(3, 4000).map(e => e.name)).to.deep.equal(['.', '..', 'b', 'c'])
    // from a cookie: an entry made since the last call shows once the directory's mtime differs
    expect(h.call('fd_readdir', 3, 1000, 4000, 2n, 0)).to.equal(0)
    writeFileSync(join(h.dir, 'z'), '')
    utimesSync(h.dir, new Date('2001-01-01T00:00:00Z'), new Date('2001-01-01T00:00:00Z'))
    expect(listAll(3, 4000, 2n).map(e => e.name)).to.deep.equal(['b', 'c', 'z'])
    // another directory renamed into the fd's path: its own entries, not the old listing
    mkdirSync(join(h.dir, 'sub'))
    writeFileSync(join(h.dir, 'sub', 'old'), '')
    const sub = h.open('sub', { oflags: O.DIRECTORY, base: RIGHT.FD_READDIR | RIGHT.PATH_OPEN })
    expect(listAll(sub.fd, 4000).map(e => e.name)).to.deep.equal(['.', '..', 'old'])
    mkdirSync(join(h.dir, 'other'))
    writeFileSync(join(h.dir, 'other', 'new'), '')
    renameSync(join(h.dir, 'sub'), join(h.dir, 'sub-was'))
    renameSync(join(h.dir, 'other'), join(h.dir, 'sub'))
    expect(listAll(sub.fd, 4000, 2n).map(e => e.name)).to.deep.equal(['new'])
  })

  it('filestat: fd and path, nanosecond times, sizes, set_size, set_times, symlink follow flag', () => {
    writeFileSync(join(h.dir, 'f'), 'abc')
    symlinkSync('f', join(h.dir, 'l'))
    const f = h.open('f')
    expect(h.call('fd_filestat_get', f.fd, 100)).to.equal(0)
    const host = statSync(join(h.dir, 'f'), { bigint: true })
    expect(h.u64(100)).to.equal(host.dev)
    expect(h.u64(108)).to.equal(host.ino)
    expect(h.bytes[116]).to.equal(4)
    expect(h.u64(124)).to.equal(1n)
    expect(h.u64(132)).to.equal(3n)
    expect(h.u64(148)).to.equal(host.mtimeNs)
    expect(h.call('fd_filestat_set_size', f.fd, 10n)).to.equal(0)
    expect(statSync(join(h.dir, 'f')).size).to.equal(10)
    expect(h.call('fd_filestat_set_size', f.fd, -1n)).to.equal(ERRNO.INVAL)
    expect(h.call('fd_filestat_set_times', f.fd, 0n, 1_500_000_000_000_000_000n, 4)).to.equal(0)
    expect(statSync(join(h.dir, 'f'), { bigint: true }).mtimeNs / 1000n).to.equal(1_500_000_000_000_000n)
    expect(h.call('fd_filestat_set_times', f.fd, 0n, 0n, 4 | 8)).to.equal(ERRNO.INVAL)
    const [p, l] = h.put('l')
    expect(h.call('path_filestat_get', 3, 0, p, l, 200)).to.equal(0)
    expect(h.bytes[216]).to.equal(7)
    expect(h.call('path_filestat_get', 3, 1, p, l, 200)).to.equal(0)
    expect(h.bytes[216]).to.equal(4)
    expect(h.u64(232)).to.equal(10n)
    expect(h.call('path_filestat_set_times', 3, 1, p, l, 2_000_000_000_000_000_000n, 0n, 1)).to.equal(0)
    expect(statSync(join(h.dir, 'f'), { bigint: true }).atimeNs / 1000n).to.equal(2_000_000_000_000_000n)
    expect(h.call('path_filestat_get', 3, 0, ...h.put('nope'), 200)).to.equal(ERRNO.NOENT)
    expect(h.call('path_filestat_get', 3, 0, p, l, 65_500)).to.equal(ERRNO.FAULT)
    expect(h.call('fd_allocate', f.fd, 0n, 20n)).to.equal(0)
    expect(statSync(join(h.dir, 'f')).size).to.equal(20)
    expect(h.call('fd_advise', f.fd, 0n, 0n, 1)).to.equal(0)
    expect(h.call('fd_advise', f.fd, 0n, 0n, 9)).to.equal(ERRNO.INVAL)
    expect(h.call('fd_sync', f.fd)).to.equal(0)
    expect(h.call('fd_datasync', f.fd)).to.equal(0)
  })

  it('directories, unlink, rename, hard links, symlinks and readlink', () => {
    expect(h.pathCall('path_create_directory', 3, 'd')).to.equal(0)
    expect(statSync(join(h.dir, 'd')).isDirectory()).to.equal(true)
    expect(h.pathCall('path_create_directory', 3, 'd')).to.equal(ERRNO.EXIST)
    expect(h.pathCall('path_create_directory', 3, '.')).to.equal(ERRNO.EXIST)
    writeFileSync(join(h.dir, 'd', 'f'), 'x')
    expect(h.pathCall('path_remove_directory', 3, 'd')).to.equal(ERRNO.NOTEMPTY)
    expect(h.pathCall('path_unlink_file', 3, 'd')).to.equal(ERRNO.ISDIR)
    expect(h.pathCall('path_unlink_file', 3, 'd/f/')).to.equal(ERRNO.NOTDIR)
    const [o, ol] = h.put('d/f')
    const [n, nl] = h.put('g')
    expect(h.call('path_rename', 3, o, ol, 3, n, nl)).to.equal(0)
    expect(readFileSync(join(h.dir, 'g'), 'utf8')).to.equal('x')
    expect(h.call('path_link', 3, 0, n, nl, 3, ...h.put('g2'))).to.equal(0)
    expect(statSync(join(h.dir, 'g')).nlink).to.equal(2)
    expect(h.call('path_link', 3, 0, n, nl, 3, ...h.put('g2'))).to.equal(ERRNO.EXIST)
    expect(h.call('path_symlink', ...h.put('g'), 3, ...h.put('s'))).to.equal(0)
    expect(lstatSync(join(h.dir, 's')).isSymbolicLink()).to.equal(true)
    expect(h.call('path_readlink', 3, ...h.put('s'), 500, 100, 0)).to.equal(0)
    expect(h.text(500, h.u32(0))).to.equal('g')
    expect(h.call('path_readlink', 3, ...h.put('g'), 500, 100, 0)).to.equal(ERRNO.INVAL)
    expect(h.call('path_symlink', ...h.put('../g'), 3, ...h.put('d/s2'))).to.equal(0)
    expect(h.read(h.open('d/s2').fd).text).to.equal('x')
    // a final symlink is not followed without LOOKUPFLAGS_SYMLINK_FOLLOW
    expect(h.open('s', { dirflags: 0 }).errno).to.equal(ERRNO.LOOP)
    expect(h.open('s', { dirflags: 1 }).errno).to.equal(0)
    expect(h.pathCall('path_unlink_file', 3, 's')).to.equal(0)
    expect(existsSync(join(h.dir, 'g'))).to.equal(true)
    expect(h.pathCall('path_unlink_file', 3, 'd/f')).to.equal(ERRNO.NOENT)
    expect(h.pathCall('path_unlink_file', 3, 'd/s2')).to.equal(0)
    expect(h.pathCall('path_remove_directory', 3, 'd')).to.equal(0)
    expect(h.pathCall('path_remove_directory', 3, '.')).to.equal(ERRNO.INVAL)
    expect(h.pathCall('path_create_directory', 1, 'x')).to.equal(ERRNO.NOTDIR)
    expect(h.pathCall('path_create_directory', 77, 'x')).to.equal(ERRNO.BADF)
  })

  it('symlink loops give ELOOP', () => {
    symlinkSync('b', join(h.dir, 'a'))
    symlinkSync('a', join(h.dir, 'b'))
    expect(h.open('a').errno).to.equal(ERRNO.LOOP)
    expect(h.open('a/x', { oflags: O.CREAT }).errno).to.equal(ERRNO.LOOP)
    // 32 hops are allowed, 33 are not
    for (let i = 0; i < 33; i++) symlinkSync(i === 32 ? 'end' : `c${i + 1}`, join(h.dir, `c${i}`))
    writeFileSync(join(h.dir, 'end'), 'e')
    expect(h.open('c1').errno).to.equal(0)
    expect(h.open('c0').errno).to.equal(ERRNO.LOOP)
  })

  it('fd_renumber moves an fd over another and closes it', () => {
    writeFileSync(join(h.dir, 'a'), 'A')
    writeFileSync(join(h.dir, 'b'), 'B')
    const a = h.open('a')
    const b = h.open('b')
    expect(h.call('fd_renumber', a.fd, b.fd)).to.equal(0)
    expect(h.read(b.fd).text).to.equal('A')
    expect(h.read(a.fd).errno).to.equal(ERRNO.BADF)
    expect(h.call('fd_renumber', b.fd, 50)).to.equal(ERRNO.BADF)
    expect(h.call('fd_renumber', 50, b.fd)).to.equal(ERRNO.BADF)
  })

  it('poll_oneoff: EINVAL for none; sleeps for the earliest relative or absolute clock; fds ready at once', () => {
    const slept: number[] = []
    const p = new WasiHarness({ sleep: ms => slept.push(ms), stdin: Buffer.from('12345') })
    try {
      expect(p.call('poll_oneoff', 1000, 2000, 0, 0)).to.equal(ERRNO.INVAL)
      const sub = (i: number, userdata: bigint, type: number, a: number, timeout = 0n, flags = 0): void => {
        const base = 1000 + i * 48
        p.bytes.fill(0, base, base + 48)
        p.view.setBigUint64(base, userdata, true)
        p.bytes[base + 8] = type
        p.view.setUint32(base + 16, a, true)
        p.view.setBigUint64(base + 24, timeout, true)
        p.view.setUint16(base + 40, flags, true)
      }
      sub(0, 11n, 0, 1, 50_000_000n)
      sub(1, 22n, 0, 1, 20_000_000n)
      expect(p.call('poll_oneoff', 1000, 2000, 2, 0)).to.equal(0)
      expect(slept).to.deep.equal([20])
      expect(p.u32(0)).to.equal(1)
      expect(p.u64(2000)).to.equal(22n)
      expect(p.view.getUint16(2008, true)).to.equal(0)
      expect(p.bytes[2010]).to.equal(0)
      // absolute on the monotonic clock
      p.call('clock_time_get', 1, 0n, 8)
      sub(0, 33n, 0, 1, p.u64(8) + 1_000_000_000n, 1)
      expect(p.call('poll_oneoff', 1000, 2000, 1, 0)).to.equal(0)
      expect(slept[1]).to.be.within(900, 1000)
      // an fd ready at once: no sleep, the event says how much can be read
      sub(0, 44n, 0, 1, 1_000_000_000n)
      sub(1, 55n, 1, 0)
      sub(2, 66n, 1, 99)
      sub(3, 77n, 0, 7, 1n)
      expect(p.call('poll_oneoff', 1000, 2000, 4, 0)).to.equal(0)
      expect(slept).to.have.length(2)
      expect(p.u32(0)).to.equal(3)
      expect([p.u64(2000), p.bytes[2010], p.u64(2016)]).to.deep.equal([55n, 1, 5n])
      expect([p.u64(2032), p.view.getUint16(2040, true)]).to.deep.equal([66n, ERRNO.BADF])
      expect([p.u64(2064), p.view.getUint16(2072, true)]).to.deep.equal([77n, ERRNO.INVAL])
      expect(p.call('poll_oneoff', 65_400, 2000, 4, 0)).to.equal(ERRNO.FAULT)
      expect(p.call('poll_oneoff', 1000, 2000, 0x7fffffff, 0)).to.equal(ERRNO.FAULT)
    } finally {
      p.cleanup()
    }
  })

  it('the default sleep blocks for the clock subscription', () => {
    const p = new WasiHarness()
    try {
      p.view.setBigUint64(1024, 30_000_000n, true)
      const t0 = performance.now()
      expect(p.call('poll_oneoff', 1000, 2000, 1, 0)).to.equal(0)
      expect(performance.now() - t0).to.be.at.least(29)
    } finally {
      p.cleanup()
    }
  })

  it('bad paths: EILSEQ, ENAMETOOLONG, NUL, empty; the path bytes bounds-checked', () => {
    const [p, l] = h.put(new Uint8Array([0x66, 0xff, 0xfe]))
    expect(h.call('path_open', 3, 0, p, l, 1, RW, RW, 0, 0)).to.equal(ERRNO.ILSEQ)
    expect(h.pathCall('path_create_directory', 3, 'x'.repeat(4097))).to.equal(ERRNO.NAMETOOLONG)
    expect(h.pathCall('path_create_directory', 3, 'a\0b')).to.equal(ERRNO.INVAL)
    expect(h.pathCall('path_create_directory', 3, '')).to.equal(ERRNO.NOENT)
    expect(h.call('path_create_directory', 3, 65_530, 100)).to.equal(ERRNO.FAULT)
    expect(h.call('path_open', 3, 0, ...h.put('f'), 1, RW, RW, 0, 65_534)).to.equal(ERRNO.FAULT)
    expect(existsSync(join(h.dir, 'f'))).to.equal(false)
  })

  it('no import throws on garbage arguments (only proc_exit throws WasiExit)', () => {
    const slept: number[] = []
    h.cleanup()
    h = new WasiHarness({ sleep: ms => slept.push(ms) })
    writeFileSync(join(h.dir, 'f'), 'x')
    h.open('f')
    let seed = 1
    const rnd = (): number => { seed = (seed * 1103515245 + 12345) >>> 0; return seed }
    const values = (): number[] => [0, 1, 3, 4, -1, 0x7fffffff, 65_535, 65_536, 1000, 24]
    for (const [name, sig] of Object.entries(WASI_PREVIEW1_SIGNATURES)) {
      if (name === 'proc_exit') continue
      for (let trial = 0; trial < 200; trial++) {
        const args = sig.params.map(t => {
          const v = values()[rnd() % 10] ^ (trial > 100 ? rnd() & 0xff : 0)
          return t === 'i64' ? BigInt(v) * (trial % 3 === 0 ? 1n << 40n : 1n) : v
        })
        let result: unknown
        expect(() => { result = h.fn[name](...args) }, `${name}(${args.join(', ')})`).not.to.throw()
        expect(result, name).to.be.a('number')
      }
    }
  })

  it('no import throws on arguments of the wrong type, as a JS caller might pass', () => {
    for (const name of Object.keys(WASI_PREVIEW1_SIGNATURES)) {
      if (name === 'proc_exit') continue
      for (const args of [[], ['x', {}, null, 1.5, 'y', undefined, 2n, -0, NaN], [3, 3n, 3n, 3n, 3n, 3n, 3n, 3n, 3n]]) {
        let result: unknown
        expect(() => { result = h.fn[name](...args) }, name).not.to.throw()
        expect(result, name).to.be.a('number')
      }
    }
    expect(() => h.fn.proc_exit()).to.throw(WasiExit).with.property('code', 0)
  })

  it('rejects bad preopens at construction', () => {
    expect(() => new Wasi({ preopens: [{ guest: '/x', host: '' }] })).to.throw(/bad host directory/)
    writeFileSync(join(h.dir, 'plain'), '')
    expect(() => new Wasi({ preopens: [{ guest: '/x', host: join(h.dir, 'plain') }] })).to.throw(/not a directory/)
    expect(() => new Wasi({ preopens: [{ guest: '/x', host: join(h.dir, 'missing') }] })).to.throw(/cannot preopen/)
    expect(() => new Wasi({ preopens: [{ guest: '', host: h.dir }] })).to.throw(/guest path/)
  })

  it('a memory that grows is re-read', () => {
    const memory = new engine.Memory({ initial: 1 })
    const wasi = new Wasi()
    wasi.attach(memory)
    const fn = wasi.imports.wasi_snapshot_preview1
    expect(fn.random_get(70_000, 8)).to.equal(ERRNO.FAULT)
    memory.grow(1)
    expect(fn.random_get(70_000, 8)).to.equal(0)
  })
})
