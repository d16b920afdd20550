import type { SkillDescriptor } from './descriptor.ts'

/**
 * The skills wasmesh knows how to offer, with the exact host-function signatures of
 * SPEC.md (wasmiot-compatible). A node offers `sys` always, the others when its skills
 * file names them with a provider.
 */
export const SKILL_CATALOG: Readonly<Record<string, SkillDescriptor>> = Object.freeze({
  sys: {
    name: 'sys',
    version: '1.0.0',
    functions: {
      millis: { params: [], results: ['i32'] },
      delay: { params: ['i32'], results: [] },
      print: { params: ['i32', 'i32'], results: [] },
      println: { params: ['i32', 'i32'], results: [] },
      printInt: { params: ['i32'], results: [] }
    }
  },
  camera: {
    name: 'camera',
    version: '1.0.0',
    functions: {
      takeImageDynamicSize: { params: ['i32', 'i32'], results: [] },
      takeImageStaticSize: { params: ['i32', 'i32'], results: [] }
    }
  },
  dht: {
    name: 'dht',
    version: '1.0.0',
    functions: {
      getTemperature: { params: [], results: ['f32'] },
      getHumidity: { params: [], results: ['f32'] }
    }
  }
})

/** Skills every node offers without being told to. */
export const BUILTIN_SKILLS = ['sys'] as const

export function catalogDescriptor (name: string): SkillDescriptor | undefined {
  return Object.hasOwn(SKILL_CATALOG, name) ? SKILL_CATALOG[name] : undefined
}
