/**
 * WASI preview 1 errno values (their order in the witx is their value) and the one table that
 * maps Node's fs error codes to them.
 */

const NAMES = [
  'SUCCESS', '2BIG', 'ACCES', 'ADDRINUSE', 'ADDRNOTAVAIL', 'AFNOSUPPORT', 'AGAIN', 'ALREADY',
  'BADF', 'BADMSG', 'BUSY', 'CANCELED', 'CHILD', 'CONNABORTED', 'CONNREFUSED', 'CONNRESET',
  'DEADLK', 'DESTADDRREQ', 'DOM', 'DQUOT', 'EXIST', 'FAULT', 'FBIG', 'HOSTUNREACH', 'IDRM',
  'ILSEQ', 'INPROGRESS', 'INTR', 'INVAL', 'IO', 'ISCONN', 'ISDIR', 'LOOP', 'MFILE', 'MLINK',
  'MSGSIZE', 'MULTIHOP', 'NAMETOOLONG', 'NETDOWN', 'NETRESET', 'NETUNREACH', 'NFILE', 'NOBUFS',
  'NODEV', 'NOENT', 'NOEXEC', 'NOLCK', 'NOLINK', 'NOMEM', 'NOMSG', 'NOPROTOOPT', 'NOSPC', 'NOSYS',
  'NOTCONN', 'NOTDIR', 'NOTEMPTY', 'NOTRECOVERABLE', 'NOTSOCK', 'NOTSUP', 'NOTTY', 'NXIO',
  'OVERFLOW', 'OWNERDEAD', 'PERM', 'PIPE', 'PROTO', 'PROTONOSUPPORT', 'PROTOTYPE', 'RANGE', 'ROFS',
  'SPIPE', 'SRCH', 'STALE', 'TIMEDOUT', 'TXTBSY', 'XDEV', 'NOTCAPABLE'
] as const

export type ErrnoName = typeof NAMES[number]

/** errno by name without the E: `E.NOENT === 44` */
export const E: Readonly<Record<ErrnoName, number>> = Object.freeze(
  Object.fromEntries(NAMES.map((name, value) => [name, value])) as Record<ErrnoName, number>
)

/** Node's `err.code` → WASI errno: every POSIX name WASI knows, plus Node's aliases */
const FROM_NODE: ReadonlyMap<string, number> = new Map<string, number>([
  ...NAMES.slice(1).map((name, i): [string, number] => [`E${name}`, i + 1]),
  ['EWOULDBLOCK', E.AGAIN],
  ['EOPNOTSUPP', E.NOTSUP],
  ['ENOTBLK', E.NOTSUP],
  ['EDEADLOCK', E.DEADLK],
  ['ERR_FS_FILE_TOO_LARGE', E.FBIG],
  ['ERR_OUT_OF_RANGE', E.INVAL],
  ['ERR_INVALID_ARG_VALUE', E.INVAL]
])

/** A failure with a WASI errno, thrown inside this layer and turned into the return value. */
export class Errno extends Error {
  readonly errno: number

  constructor (errno: number) {
    super(`wasi errno ${errno}`)
    this.errno = errno
  }
}

/** the errno for whatever a host call threw; EIO for anything not recognised */
export function errnoOf (err: unknown): number {
  if (err instanceof Errno) return err.errno
  const code = (err as { code?: unknown } | null)?.code
  if (typeof code === 'string') return FROM_NODE.get(code) ?? E.IO
  return E.IO
}
