/**
 * The one error type of wasmesh. Its codes are SPEC.md's; the HTTP status for each
 * is chosen at the edge (src/node/http/error-status.ts), never where the error is thrown.
 */
export const ERROR_CODES = [
  'bad-request',
  'invalid-module',
  'too-large',
  'not-found',
  'method-not-allowed',
  'unsatisfiable',
  'timeout',
  'trap',
  'unavailable',
  'internal'
] as const

export type ErrorCode = typeof ERROR_CODES[number]

export class WasmeshError extends Error {
  readonly code: ErrorCode
  readonly details?: Record<string, unknown>

  constructor (code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message)
    this.name = 'WasmeshError'
    this.code = code
    if (details !== undefined) this.details = details
  }

  toJSON (): { error: { code: ErrorCode, message: string } & Record<string, unknown> } {
    return { error: { code: this.code, message: this.message, ...this.details } }
  }
}

export function isWasmeshError (err: unknown): err is WasmeshError {
  return err instanceof WasmeshError
}

/** The code if SPEC.md knows it, else `internal`: for codes read from a peer's or a node's answer. */
export function knownCode (code: unknown): ErrorCode {
  return (ERROR_CODES as readonly unknown[]).includes(code) ? code as ErrorCode : 'internal'
}

/**
 * The WasmeshError that an answer's `error` object describes (SPEC.md's shape: code, message,
 * details beside them). `fallback` is the message when the object has none.
 */
export function errorFromJSON (error: unknown, fallback: string): WasmeshError {
  if (typeof error !== 'object' || error === null || Array.isArray(error)) return new WasmeshError('internal', fallback) // (validation.ts's isPlainObject: it imports this file)
  const { code, message, ...details } = error as Record<string, unknown>
  return new WasmeshError(knownCode(code), typeof message === 'string' ? message : fallback, Object.keys(details).length > 0 ? details : undefined)
}
