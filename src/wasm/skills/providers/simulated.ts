import { quantityKind } from '../quantities.ts'
import type { SkillProvider } from './provider.ts'
import { SIMULATED_DEFAULTS } from './options.ts'
import { testImagePng } from './test-image.ts'

export interface SimulatedValues { temperature?: number, humidity?: number }

/** deterministic data: the test image for `camera`, fixed numbers for `dht` */
export function simulatedProvider (skill: string, values: SimulatedValues = {}): SkillProvider {
  let image: Uint8Array | undefined
  const numbers: Record<string, number> = {
    temperature: values.temperature ?? SIMULATED_DEFAULTS.temperature,
    humidity: values.humidity ?? SIMULATED_DEFAULTS.humidity
  }
  return {
    read: async (quantity) => {
      if (quantityKind(skill, quantity) === 'number') return numbers[quantity]
      image ??= testImagePng()
      // a copy each time: the reader may transfer or keep it
      return image.slice()
    }
  }
}
