/**
 * A component called wasi:cli/exit. Thrown out of the call (or the instantiation) that exited,
 * where preview2-shim's own exit would end the whole process. The instance is unwound
 * mid-call: call nothing more on it.
 */
export class ComponentExit extends Error {
  readonly code: number

  constructor (code: number) {
    super(`the component exited with code ${code}`)
    this.name = 'ComponentExit'
    this.code = code
  }
}
