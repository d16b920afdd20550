import type { CoreValType } from '../module-info.ts'

/**
 * Every `wasi_snapshot_preview1` function this layer offers, with its core signature as the
 * witx (and wasi-libc's api.h) lower it: pointers, sizes, fds and flags are i32; offsets,
 * lengths of files, rights, timestamps and cookies are i64; every function but proc_exit
 * returns an errno as i32.
 */

type Sig = { params: CoreValType[], results: CoreValType[] }

const I = 'i32' as const
const L = 'i64' as const

function errno (...params: CoreValType[]): Sig {
  return { params, results: [I] }
}

export const WASI_PREVIEW1_SIGNATURES: Readonly<Record<string, Sig>> = Object.freeze({
  args_get: errno(I, I),
  args_sizes_get: errno(I, I),
  environ_get: errno(I, I),
  environ_sizes_get: errno(I, I),
  clock_res_get: errno(I, I),
  clock_time_get: errno(I, L, I),
  fd_advise: errno(I, L, L, I),
  fd_allocate: errno(I, L, L),
  fd_close: errno(I),
  fd_datasync: errno(I),
  fd_fdstat_get: errno(I, I),
  fd_fdstat_set_flags: errno(I, I),
  fd_fdstat_set_rights: errno(I, L, L),
  fd_filestat_get: errno(I, I),
  fd_filestat_set_size: errno(I, L),
  fd_filestat_set_times: errno(I, L, L, I),
  fd_pread: errno(I, I, I, L, I),
  fd_prestat_get: errno(I, I),
  fd_prestat_dir_name: errno(I, I, I),
  fd_pwrite: errno(I, I, I, L, I),
  fd_read: errno(I, I, I, I),
  fd_readdir: errno(I, I, I, L, I),
  fd_renumber: errno(I, I),
  fd_seek: errno(I, L, I, I),
  fd_sync: errno(I),
  fd_tell: errno(I, I),
  fd_write: errno(I, I, I, I),
  path_create_directory: errno(I, I, I),
  path_filestat_get: errno(I, I, I, I, I),
  path_filestat_set_times: errno(I, I, I, I, L, L, I),
  path_link: errno(I, I, I, I, I, I, I),
  path_open: errno(I, I, I, I, I, L, L, I, I),
  path_readlink: errno(I, I, I, I, I, I),
  path_remove_directory: errno(I, I, I),
  path_rename: errno(I, I, I, I, I, I),
  path_symlink: errno(I, I, I, I, I),
  path_unlink_file: errno(I, I, I),
  poll_oneoff: errno(I, I, I, I),
  proc_exit: { params: [I], results: [] },
  proc_raise: errno(I),
  sched_yield: errno(),
  random_get: errno(I, I),
  sock_accept: errno(I, I, I),
  sock_recv: errno(I, I, I, I, I, I),
  sock_send: errno(I, I, I, I, I),
  sock_shutdown: errno(I, I)
})
