/** Thrown by proc_exit: unwinds the guest's stack back to Wasi.start, which returns the code. */
export class WasiExit extends Error {
  readonly code: number

  constructor (code: number) {
    super(`guest exited with code ${code}`)
    this.name = 'WasiExit'
    this.code = code
  }
}
