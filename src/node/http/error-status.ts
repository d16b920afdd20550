import type { ErrorCode } from '../../errors.ts'

/** The one place an error code becomes an HTTP status. */
export const STATUS_OF: Readonly<Record<ErrorCode, number>> = {
  'bad-request': 400,
  'invalid-module': 400,
  'not-found': 404,
  'method-not-allowed': 405,
  unsatisfiable: 409,
  'too-large': 413,
  trap: 500,
  internal: 500,
  unavailable: 503,
  timeout: 504
}
