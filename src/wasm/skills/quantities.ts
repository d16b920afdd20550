import { WasmeshError } from '../../errors.ts'

/**
 * What a skill's host functions ask its provider for: the quantity names both ends of the
 * worker bridge use, and whether each is bytes or a number. `sys` reads nothing.
 */
export const SKILL_QUANTITIES: Readonly<Record<string, Readonly<Record<string, QuantityKind>>>> = Object.freeze({
  camera: Object.freeze({ image: 'bytes' }),
  dht: Object.freeze({ temperature: 'number', humidity: 'number' })
})

export type QuantityKind = 'bytes' | 'number'

/** the kind of `skill`'s `quantity`; `bad-request` naming the known ones if it has none such */
export function quantityKind (skill: string, quantity: string): QuantityKind {
  const quantities = Object.hasOwn(SKILL_QUANTITIES, skill) ? SKILL_QUANTITIES[skill] : undefined
  if (quantities === undefined) throw new WasmeshError('bad-request', `skill "${skill}" has no quantities to read`)
  if (!Object.hasOwn(quantities, quantity)) {
    throw new WasmeshError('bad-request', `skill "${skill}" has no quantity "${quantity}" (known: ${Object.keys(quantities).join(', ')})`)
  }
  return quantities[quantity]
}
