import { WasmeshError } from '../../errors.ts'
import { BinaryReader } from './binary-reader.ts'
import { readCoreSections } from './core-sections.ts'
import { readPreamble } from './preamble.ts'
import type { ComponentWorld, CoreValType, CustomSection, Limits, ModuleInfo } from '../module-info.ts'

/**
 * A component's interface is its WIT world. Decoding component types by hand would mean
 * re-implementing much of wasm-tools, so the world comes from jco's `componentWit` (whose
 * decoding checks the component's structure and types, but not the code of its core
 * modules: validateModule has the engine validate those); this file only walks the outer
 * sections itself, for the custom sections and the core modules inside.
 *
 * For a component, ModuleInfo's `imports`/`exports` stay empty (their shapes are core
 * ones); `memories`/`tables` list what the embedded core modules define (imports there are
 * other modules' memories, passed along), so memory limits apply to components too.
 */

const COMPONENT_CUSTOM = 0
const COMPONENT_CORE_MODULE = 1
const COMPONENT_COMPONENT = 4
/** nested components are a tree; a forged one could nest deeper than any real one */
const MAX_NESTING = 16

/** what the component's framing tells without decoding component types */
export interface ComponentOutline {
  customSections: CustomSection[]
  memories: Limits[]
  tables: Array<{ element: CoreValType, limits: Limits }>
  /** every core module embedded, nested components' included, for the engine to validate */
  coreModules: Uint8Array[]
}

/** Walks a component's sections. Throws WasmeshError('invalid-module') on malformed framing. */
export function outlineComponent (bytes: Uint8Array): ComponentOutline {
  const outline: ComponentOutline = { customSections: [], memories: [], tables: [], coreModules: [] }
  readComponent(new BinaryReader(bytes), outline, 0)
  return outline
}

/**
 * `outline`: the component's, when the caller already walked it (validateModule does, to
 * validate the core modules). Outlined first: it is cheap and rejects truncated or
 * malformed framing before jco runs.
 */
export async function parseComponent (bytes: Uint8Array, outline = outlineComponent(bytes)): Promise<ModuleInfo> {
  const wit = await witOf(bytes)
  const world = worldFromWit(wit)
  return {
    kind: 'component',
    size: bytes.length,
    imports: [],
    exports: [],
    memories: outline.memories,
    tables: outline.tables,
    customSections: outline.customSections,
    requires: componentRequires(world.imports),
    component: world
  }
}

function readComponent (r: BinaryReader, outline: ComponentOutline, depth: number): void {
  const at = r.pos
  if (readPreamble(r) !== 'component') r.fail('expected a component', at)
  while (!r.atEnd()) {
    const { id, at: sectionAt, body: s } = r.section()
    if (id === COMPONENT_CUSTOM) {
      const name = s.name()
      // only the component's own custom sections: nested ones belong to its parts
      if (depth === 0) outline.customSections.push({ name, size: s.remaining })
    } else if (id === COMPONENT_CORE_MODULE) {
      const preambleAt = s.pos
      if (readPreamble(s) !== 'core') s.fail('expected a core module', preambleAt)
      const core = readCoreSections(s)
      outline.memories.push(...core.definedMemories)
      outline.tables.push(...core.definedTables)
      outline.coreModules.push(s.bytes.subarray(preambleAt, s.end))
    } else if (id === COMPONENT_COMPONENT) {
      if (depth + 1 > MAX_NESTING) r.fail(`components nested deeper than ${MAX_NESTING}`, sectionAt)
      readComponent(s, outline, depth + 1)
    } else if (id > 12) {
      r.fail(`unknown component section id ${id}`, sectionAt)
    }
  }
}

async function witOf (bytes: Uint8Array): Promise<string> {
  // loaded on first use: jco takes tens of ms to import and core modules never need it
  const { componentWit } = await import('@bytecodealliance/jco')
  try {
    return await componentWit(bytes)
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    throw new WasmeshError('invalid-module', `invalid component: ${message.replace(/\s*\n\s*/g, ': ')}`)
  }
}

/**
 * The imports and exports of the first world in WIT text as jco prints it, e.g.
 *
 *     world root {
 *       import wasi:cli/stdout@0.2.0;
 *       import camera: interface { snap: func() -> u32; }
 *       export add: func(a: u32, b: u32) -> u32;
 *     }
 *
 * Items are split at the world's own nesting level (a `;`, or the `}` closing an inline
 * interface), so braces and semicolons inside inline interfaces never confuse it. Plain
 * names lose their `%` keyword escape (`%list` is the name `list`).
 */
export function worldFromWit (wit: string): ComponentWorld {
  const text = wit.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, ' ')
  const imports: string[] = []
  const exports: string[] = []
  const start = findWorldBody(text)
  if (start < 0) return { imports, exports, wit }
  let depth = 1
  let item = ''
  for (let i = start; i < text.length && depth > 0; i++) {
    const c = text[i]
    if (c === '{') depth++
    if (c === '}') depth--
    if (depth === 0) break
    item += c
    if ((depth === 1 && c === ';') || (depth === 1 && c === '}')) {
      addItem(item, imports, exports)
      item = ''
    }
  }
  return { imports, exports, wit }
}

/** index just past the `{` of the first `world` declared at the top level of a package */
function findWorldBody (text: string): number {
  let depth = 0
  const word = /\bworld\s+%?[a-z][a-z0-9-]*\s*\{/y
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '{') depth++
    else if (c === '}') depth--
    else if (c === 'w' && depth <= 1) {
      // depth 1 admits worlds inside an explicit `package x { ... }` block
      word.lastIndex = i
      const m = word.exec(text)
      if (m !== null && (i === 0 || !/[\w-]/.test(text[i - 1]))) return i + m[0].length
    }
  }
  return -1
}

const ITEM = /^\s*(?:@[a-z]+(?:\([^)]*\))?\s*)*(import|export)\s+(?:(%?[a-z][a-z0-9-]*)\s*:(?![a-z])|([^\s;{}]+)\s*;)/i

function addItem (item: string, imports: string[], exports: string[]): void {
  const m = ITEM.exec(item)
  if (m === null) return // a type, `use` or `include`: not an import or export
  const name = m[2] !== undefined ? m[2].replace(/^%/, '') : m[3]
  if (m[1] === 'import') imports.push(name)
  else exports.push(name)
}

/**
 * Skills a component needs, from its world's imports. The rule: a plain import name is the
 * skill (`camera` → `camera`); an interface `ns:pkg/name@version` is the skill `name`
 * (`local:devices/camera@1.0.0` → `camera`); `wasi:*` interfaces are provided by every
 * node and never required. Distinct, sorted.
 */
export function componentRequires (imports: readonly string[]): string[] {
  const skills = new Set<string>()
  for (const name of imports) {
    const slash = name.indexOf('/')
    if (slash < 0) {
      skills.add(name)
      continue
    }
    if (name.startsWith('wasi:')) continue
    skills.add(name.slice(slash + 1).replace(/@.*$/, ''))
  }
  return [...skills].sort()
}
