import { componentRequires } from '../parse/component.ts'

/**
 * How a component's WIT names meet JavaScript names in jco's output, and the naming of the
 * exported functions wasmesh calls. jco turns WIT identifiers (`get-temperature`) into
 * lowerCamelCase (`getTemperature`); wasmesh names exported functions by their WIT names:
 *
 *   - a function exported by the world itself: its name, `add`, `temperature-plus`;
 *   - a function of an exported interface: `INTERFACE#FUNCTION`, where INTERFACE is the
 *     interface as the component exports it (`local:calc/ops`, or a plain `ops` for an inline
 *     `export ops: interface { ... }`) and FUNCTION its WIT name: `local:calc/ops#mul`.
 *
 * This is the naming wit-component gives the core exports behind them, so a path reads the
 * same in WIT, in the core module and in wasmesh. The way back from camelCase is lossless for
 * lowercase WIT identifiers (all-caps words, rare in WIT, come back lowercase).
 */

/** `get-temperature` → `getTemperature`, as jco names things */
export function lowerCamel (witName: string): string {
  return witName.replace(/-([a-zA-Z0-9])/g, (_, c: string) => c.toUpperCase())
}

/** `getTemperature` → `get-temperature` */
export function kebab (jsName: string): string {
  return jsName.replace(/[A-Z]/g, c => `-${c.toLowerCase()}`)
}

/** the wasmesh path of an exported function: `instanceKey` is jco's key of the exported interface, if any */
export function exportPath (instanceKey: string | undefined, fnKey: string): string {
  if (instanceKey === undefined) return kebab(fnKey)
  return `${instanceName(instanceKey)}#${kebab(fnKey)}`
}

function instanceName (key: string): string {
  return key.includes(':') ? key : kebab(key)
}

/** `wasi:cli/stdout@0.2.0` → `{ pkg: 'cli', iface: 'stdout' }`; undefined for anything not WASI */
export function wasiInterface (specifier: string): { pkg: string, iface: string } | undefined {
  const m = /^wasi:([a-z][a-z0-9-]*)\/([a-z][a-z0-9-]*)(?:@.*)?$/.exec(specifier)
  return m === null ? undefined : { pkg: m[1], iface: m[2] }
}

/**
 * The skill an import specifier needs, by the same rule as the parser's `requires`
 * (`camera` and `wasmesh:skills/camera@1.0.0` both → `camera`); undefined for WASI.
 */
export function skillOfImport (specifier: string): string | undefined {
  return componentRequires([specifier])[0]
}
