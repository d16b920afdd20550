import { E } from './errno.ts'
import type { WasiContext, WasiFunction } from './context.ts'
import { WasiExit } from './exit.ts'

/** args_*, environ_*, proc_*, sock_* (no sockets are ever handed out) */
export function processFunctions (ctx: WasiContext): Record<string, WasiFunction> {
  const { mem, fds } = ctx
  const args = ctx.args.map(a => Buffer.from(`${a}\0`))
  const env = ctx.env.map(([k, v]) => Buffer.from(`${k}=${v}\0`))

  function sizes (list: Buffer[], countPtr: number, sizePtr: number): number {
    mem.assertRange(countPtr, 4)
    mem.assertRange(sizePtr, 4)
    mem.setU32(countPtr, list.length)
    mem.setU32(sizePtr, list.reduce((n, b) => n + b.length, 0))
    return E.SUCCESS
  }

  function strings (list: Buffer[], ptrsPtr: number, bufPtr: number): number {
    mem.assertRange(ptrsPtr, list.length * 4)
    mem.assertRange(bufPtr, list.reduce((n, b) => n + b.length, 0))
    let at = bufPtr >>> 0
    list.forEach((bytes, i) => {
      mem.setU32((ptrsPtr >>> 0) + i * 4, at)
      mem.write(at, bytes)
      at += bytes.length
    })
    return E.SUCCESS
  }

  /** sockets: none are ever open, so a valid fd is simply not one (as wasmtime without sockets) */
  function noSocket (fd: number): number {
    return fds.has(fd) ? E.NOTSUP : E.BADF
  }

  return {
    args_sizes_get: (countPtr: number, sizePtr: number) => sizes(args, countPtr, sizePtr),
    args_get: (argvPtr: number, bufPtr: number) => strings(args, argvPtr, bufPtr),
    environ_sizes_get: (countPtr: number, sizePtr: number) => sizes(env, countPtr, sizePtr),
    environ_get: (environPtr: number, bufPtr: number) => strings(env, environPtr, bufPtr),

    proc_exit (code: number): undefined {
      throw new WasiExit(code | 0)
    },

    proc_raise: () => E.NOSYS,

    sock_accept: (fd: number) => noSocket(fd),
    sock_recv: (fd: number) => noSocket(fd),
    sock_send: (fd: number) => noSocket(fd),
    sock_shutdown: (fd: number) => noSocket(fd)
  }
}
