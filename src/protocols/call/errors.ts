import { WasmeshError } from '../../errors.ts'

/**
 * A call that surely did not run on the remote: it was unreachable, refused the call before
 * starting it (busy), or does not host what was asked. Safe to retry on another peer.
 */
export class CallNotStarted extends WasmeshError {
  constructor (message: string, details?: Record<string, unknown>) {
    super('unavailable', message, details)
    this.name = 'CallNotStarted'
  }
}

/** True when the call surely did not start on the remote (safe to retry elsewhere). */
export function notStarted (err: unknown): boolean {
  return err instanceof CallNotStarted
}
