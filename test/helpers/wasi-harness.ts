import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { engine, type WasmMemory } from '../../src/wasm/engine.ts'
import { Wasi, type WasiOptions } from '../../src/wasm/wasi/index.ts'
import { ALL_RIGHTS, R } from '../../src/wasm/wasi/rights.ts'

/** rights wasi-libc asks for on open(O_RDWR): everything a file can hold */
export const RW = ALL_RIGHTS
export const RIGHT = R

const SCRATCH = 60_000

/**
 * Drives the preview 1 imports directly, as a guest would, on a real wasm memory and a temp
 * directory preopened as fd 3 (`/data`). Strings go in a scratch area at the end of page 1;
 * out-values are read back at the addresses the test chose.
 */
export class WasiHarness {
  readonly dir: string
  readonly memory: WasmMemory
  readonly wasi: Wasi
  readonly fn: Record<string, (...args: any[]) => unknown>
  private scratch = SCRATCH

  constructor (options: WasiOptions = {}, dir?: string) {
    this.dir = dir ?? mkdtempSync(join(tmpdir(), 'wasmesh-wasi-'))
    this.memory = new engine.Memory({ initial: 1 })
    this.wasi = new Wasi({ preopens: [{ guest: '/data', host: this.dir }], ...options })
    this.wasi.attach(this.memory)
    this.fn = this.wasi.imports.wasi_snapshot_preview1
  }

  call (name: string, ...args: unknown[]): number {
    return this.fn[name](...args) as number
  }

  get bytes (): Uint8Array { return new Uint8Array(this.memory.buffer) }
  get view (): DataView { return new DataView(this.memory.buffer) }
  u32 (ptr: number): number { return this.view.getUint32(ptr, true) }
  u64 (ptr: number): bigint { return this.view.getBigUint64(ptr, true) }
  setU32 (ptr: number, v: number): void { this.view.setUint32(ptr, v, true) }

  /** put bytes in the scratch area: [ptr, len] */
  put (data: string | Uint8Array): [number, number] {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data
    if (this.scratch + bytes.length > 65_536) this.scratch = SCRATCH
    const ptr = this.scratch
    this.bytes.set(bytes, ptr)
    this.scratch += bytes.length
    return [ptr, bytes.length]
  }

  text (ptr: number, len: number): string {
    return Buffer.from(this.bytes.subarray(ptr, ptr + len)).toString()
  }

  /** path_open under `dirFd`; the new fd at address 0 */
  open (path: string, opts: { oflags?: number, base?: bigint, inheriting?: bigint, fdflags?: number, dirflags?: number, dirFd?: number } = {}): { errno: number, fd: number } {
    const [p, l] = this.put(path)
    const errno = this.call('path_open', opts.dirFd ?? 3, opts.dirflags ?? 1, p, l, opts.oflags ?? 0,
      opts.base ?? RW, opts.inheriting ?? RW, opts.fdflags ?? 0, 0)
    return { errno, fd: errno === 0 ? this.u32(0) : -1 }
  }

  /** fd_write of one iovec; nwritten at 8 */
  write (fd: number, data: string | Uint8Array): { errno: number, n: number } {
    const [p, l] = this.put(data)
    this.setU32(16, p)
    this.setU32(20, l)
    const errno = this.call('fd_write', fd, 16, 1, 8)
    return { errno, n: this.u32(8) }
  }

  /** fd_read of up to `max` bytes into 30000; nread at 8 */
  read (fd: number, max = 1000): { errno: number, text: string } {
    this.setU32(16, 30_000)
    this.setU32(20, max)
    const errno = this.call('fd_read', fd, 16, 1, 8)
    return { errno, text: errno === 0 ? this.text(30_000, this.u32(8)) : '' }
  }

  /** one path-taking call with (fd, path) spliced in where the path goes */
  pathCall (name: string, fd: number, path: string, ...rest: unknown[]): number {
    const [p, l] = this.put(path)
    return this.call(name, fd, p, l, ...rest)
  }

  cleanup (): void {
    this.wasi.close()
    rmSync(this.dir, { recursive: true, force: true })
  }
}

export const ERRNO = {
  SUCCESS: 0, ACCES: 2, BADF: 8, EXIST: 20, FAULT: 21, ILSEQ: 25, INVAL: 28, IO: 29, ISDIR: 31, LOOP: 32,
  NAMETOOLONG: 37, NOENT: 44, NOSYS: 52, NOTDIR: 54, NOTEMPTY: 55, NOTSUP: 58, PERM: 63, SPIPE: 70,
  NOTCAPABLE: 76
} as const
