import { expect } from 'chai'
import { WasmeshError } from '../../src/errors.ts'

/** the WasmeshError `promise` rejects with; fails the test if it resolves or rejects with anything else */
export async function rejection (promise: Promise<unknown>): Promise<WasmeshError> {
  try {
    await promise
  } catch (err) {
    expect(err).to.be.instanceOf(WasmeshError)
    return err as WasmeshError
  }
  throw new Error('expected a rejection')
}

/** the WasmeshError `fn` throws; fails the test if it returns or throws anything else */
export function rejectionSync (fn: () => unknown): WasmeshError {
  try {
    fn()
  } catch (err) {
    expect(err).to.be.instanceOf(WasmeshError)
    return err as WasmeshError
  }
  throw new Error('expected a throw')
}
