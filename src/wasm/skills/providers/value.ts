import { WasmeshError } from '../../../errors.ts'
import { isPlainObject } from '../../../validation.ts'
import { quantityKind } from '../quantities.ts'

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/

/**
 * What a provider's raw output means for a quantity: the bytes themselves (an image), or a
 * number written plainly ("21.5") or as JSON naming the quantity ({"temperature": 21.5, ...}).
 * `source` says where the output came from, for the error.
 */
export function valueFromOutput (skill: string, quantity: string, output: Uint8Array, source: string): Uint8Array | number {
  if (quantityKind(skill, quantity) === 'bytes') {
    if (output.length === 0) throw new WasmeshError('unavailable', `skill ${skill}: ${source} gave no ${quantity} (empty output)`)
    return output
  }
  const text = Buffer.from(output.buffer, output.byteOffset, output.length).toString('utf8').trim()
  const value = parseNumberText(text, quantity)
  if (value === undefined) {
    throw new WasmeshError('unavailable', `skill ${skill}: ${source} gave no ${quantity}: expected a number or JSON {"${quantity}": number}, got ${quote(text)}`)
  }
  return value
}

/** a finite number from plain text or a JSON object's `quantity` field; undefined if neither */
export function parseNumberText (text: string, quantity: string): number | undefined {
  if (NUMBER.test(text)) {
    const n = Number(text)
    return Number.isFinite(n) ? n : undefined
  }
  if (!text.startsWith('{')) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return undefined
  }
  if (!isPlainObject(parsed) || !Object.hasOwn(parsed, quantity)) return undefined
  const n = parsed[quantity]
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined
}

function quote (text: string): string {
  if (text.length === 0) return 'nothing'
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}...` : text)
}
