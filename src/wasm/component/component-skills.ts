import { WasmeshError } from '../../errors.ts'
import type { SkillHostContext } from '../skills/host/context.ts'

/**
 * The skills of skills.wit for components, on the same SkillHostContext as the core-module
 * host functions (src/wasm/skills/host/): same providers, same captured stdout, same clock.
 * Values are WIT-level (strings, byte lists, floats), so no guest memory is touched here:
 * jco's bindings lift and lower them. Function names are jco's (lowerCamelCase of the WIT name).
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- jco's import objects hold functions of any shape
export type ComponentSkillFunctions = Record<string, Function>

const encoder = new TextEncoder()

const SKILLS: Readonly<Record<string, (ctx: SkillHostContext) => ComponentSkillFunctions>> = {
  sys: ctx => ({
    // u32 in WIT: wraps after ~49.7 days
    millis: () => Math.floor(ctx.millis()) >>> 0,
    delay: (ms: number) => { ctx.sleep(ms >>> 0) },
    print: (s: string) => { ctx.stdout(encoder.encode(s)) },
    // one write, so the line never interleaves with other output
    println: (s: string) => { ctx.stdout(encoder.encode(`${s}\n`)) },
    // no newline, as the core skill's printInt
    printInt: (n: number) => { ctx.stdout(encoder.encode(String(n | 0))) }
  }),
  camera: ctx => ({
    takeImage: (): Uint8Array => {
      const image = ctx.read('camera', 'image')
      if (typeof image === 'number') throw new WasmeshError('internal', 'camera.take-image: the camera provider gave a number, not bytes')
      return image
    }
  }),
  dht: ctx => ({
    getTemperature: () => readNumber(ctx, 'temperature', 'dht.get-temperature'),
    getHumidity: () => readNumber(ctx, 'humidity', 'dht.get-humidity')
  })
}

/** The host functions of skill `name` for a component, or undefined if components have no such skill. */
export function componentSkill (name: string, ctx: SkillHostContext): ComponentSkillFunctions | undefined {
  return Object.hasOwn(SKILLS, name) ? SKILLS[name](ctx) : undefined
}

function readNumber (ctx: SkillHostContext, quantity: string, where: string): number {
  const value = ctx.read('dht', quantity)
  if (typeof value !== 'number') throw new WasmeshError('internal', `${where}: the dht provider gave ${value.length} bytes, not a number`)
  return value
}
