import { WasmeshError } from '../../../errors.ts'
import type { HostFunctions, SkillHostContext } from './context.ts'

/** `dht`, wasmiot-compatible: the engine rounds the number to the f32 result */
export function dhtImports (ctx: SkillHostContext): HostFunctions {
  return {
    getTemperature: () => readNumber(ctx, 'temperature', 'dht.getTemperature'),
    getHumidity: () => readNumber(ctx, 'humidity', 'dht.getHumidity')
  }
}

function readNumber (ctx: SkillHostContext, quantity: string, where: string): number {
  const value = ctx.read('dht', quantity)
  if (typeof value !== 'number') throw new WasmeshError('internal', `${where}: the dht provider gave ${value.length} bytes, not a number`)
  return value
}
