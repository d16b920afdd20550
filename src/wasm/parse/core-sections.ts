import { BinaryReader } from './binary-reader.ts'
import { readPreamble } from './preamble.ts'
import {
  hex, readFuncType, readGlobalType, readMemoryLimits, readTableType, skipConstExpr
} from './core-types.ts'
import type {
  CoreValType, CustomSection, ExportEntry, FuncSignature, ImportEntry, Limits, ModuleInfo
} from '../module-info.ts'

/**
 * Reads a core module's interface (imports, exports with their signatures, memories,
 * tables, custom sections) without compiling or running it. Code, data, element, start
 * and data-count sections are stepped over by their size, so the cost follows the number
 * of imports, exports and definitions, not the module's size.
 */

const CUSTOM = 0
const TYPE = 1
const IMPORT = 2
const FUNCTION = 3
const TABLE = 4
const MEMORY = 5
const GLOBAL = 6
const EXPORT = 7
const TAG = 13

/**
 * Where each section id must come in a module (index = id). Tag (13) sits between memory
 * and global, data count (12) between element and code. Checking it catches duplicated or
 * shuffled sections the parser would otherwise read in a state it does not expect.
 */
const SECTION_RANK = [0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 13, 11, 6]

/** skills that are WASI preview 1 itself, provided by every node, so never required */
const WASI_PREVIEW1 = new Set(['wasi_snapshot_preview1', 'wasi_unstable'])

interface CoreState {
  types: FuncSignature[]
  /** type index of each imported function, then of each defined one: the function index space */
  importedFuncTypes: number[]
  definedFuncTypes: Uint32Array
  tables: Array<{ element: CoreValType, limits: Limits }>
  memories: Limits[]
  globals: Array<{ type: CoreValType, mutable: boolean }>
  tags: FuncSignature[]
  imports: ImportEntry[]
  exports: ExportEntry[]
  customSections: CustomSection[]
  /** memories and tables the module defines itself, not imports (a component's core modules) */
  definedMemories: Limits[]
  definedTables: Array<{ element: CoreValType, limits: Limits }>
}

/** Parses a whole core module. Throws WasmeshError('invalid-module') on malformed bytes. */
export function parseCoreModule (bytes: Uint8Array): ModuleInfo {
  const r = new BinaryReader(bytes)
  const kind = readPreamble(r)
  if (kind !== 'core') r.fail('a component, not a core module', 4)
  const state = readCoreSections(r)
  return {
    kind: 'core',
    size: bytes.length,
    imports: state.imports,
    exports: state.exports,
    memories: state.memories,
    tables: state.tables,
    customSections: state.customSections,
    requires: coreRequires(state.imports)
  }
}

/** the sections of a core module whose preamble `r` has just passed, up to r.end */
export function readCoreSections (r: BinaryReader): CoreState {
  const state: CoreState = {
    types: [],
    importedFuncTypes: [],
    definedFuncTypes: new Uint32Array(0),
    tables: [],
    memories: [],
    globals: [],
    tags: [],
    imports: [],
    exports: [],
    customSections: [],
    definedMemories: [],
    definedTables: []
  }
  let lastRank = 0
  while (!r.atEnd()) {
    const { id, at, body: s } = r.section()
    if (id >= SECTION_RANK.length) r.fail(`unknown section id ${id}`, at)
    if (id === CUSTOM) {
      state.customSections.push({ name: s.name(), size: s.remaining })
      continue
    }
    const rank = SECTION_RANK[id]
    if (rank <= lastRank) r.fail(`section ${id} is duplicated or out of order`, at)
    lastRank = rank
    switch (id) {
      case TYPE: readTypes(s, state); break
      case IMPORT: readImports(s, state); break
      case FUNCTION: readFunctions(s, state); break
      case TABLE: readTables(s, state); break
      case MEMORY: readMemories(s, state); break
      case GLOBAL: readGlobals(s, state); break
      case EXPORT: readExports(s, state); break
      case TAG: readTags(s, state); break
      default: continue // code, data, element, start, data count: nothing we describe
    }
    if (!s.atEnd()) s.fail(`section ${id} has ${s.remaining} bytes left over`)
  }
  return state
}

/** distinct module names of function imports, WASI preview 1 excluded, sorted */
export function coreRequires (imports: readonly ImportEntry[]): string[] {
  const names = new Set<string>()
  for (const i of imports) {
    if (i.kind === 'function' && !WASI_PREVIEW1.has(i.module)) names.add(i.module)
  }
  return [...names].sort()
}

function readTypes (r: BinaryReader, state: CoreState): void {
  const n = r.count()
  for (let i = 0; i < n; i++) state.types.push(readFuncType(r))
}

function typeAt (r: BinaryReader, state: CoreState, at: number): number {
  const index = r.u32()
  if (index >= state.types.length) r.fail(`type index ${index} out of range (${state.types.length} types)`, at)
  return index
}

function signature (state: CoreState, typeIndex: number): FuncSignature {
  // a copy: entries are handed out and must not alias one another
  const t = state.types[typeIndex]
  return { params: t.params.slice(), results: t.results.slice() }
}

function readImports (r: BinaryReader, state: CoreState): void {
  const n = r.count()
  for (let i = 0; i < n; i++) {
    const module = r.name()
    const name = r.name()
    const at = r.pos
    const kind = r.u8()
    // entries are built whole rather than spread from a descriptor: parsing is hot on big modules
    switch (kind) {
      case 0x00: {
        const t = typeAt(r, state, r.pos)
        state.importedFuncTypes.push(t)
        state.imports.push({ module, name, kind: 'function', signature: signature(state, t) })
        break
      }
      case 0x01: {
        const table = readTableType(r)
        state.tables.push(table)
        state.imports.push({ module, name, kind: 'table', element: table.element, limits: { ...table.limits } })
        break
      }
      case 0x02: {
        const limits = readMemoryLimits(r)
        state.memories.push(limits)
        state.imports.push({ module, name, kind: 'memory', limits: { ...limits } })
        break
      }
      case 0x03: {
        const global = readGlobalType(r)
        state.globals.push(global)
        state.imports.push({ module, name, kind: 'global', type: global.type, mutable: global.mutable })
        break
      }
      case 0x04: {
        const t = readTagType(r, state)
        state.tags.push(state.types[t])
        state.imports.push({ module, name, kind: 'tag', signature: signature(state, t) })
        break
      }
      default: r.fail(`unknown import kind 0x${hex(kind)}`, at)
    }
  }
}

function readTagType (r: BinaryReader, state: CoreState): number {
  const at = r.pos
  const attribute = r.u8()
  if (attribute !== 0x00) r.fail(`unknown tag attribute 0x${hex(attribute)}`, at)
  return typeAt(r, state, r.pos)
}

function readFunctions (r: BinaryReader, state: CoreState): void {
  const n = r.count()
  // a typed array and a one-byte fast path: modules declare thousands of functions, and
  // this loop is most of a parse
  const types = new Uint32Array(n)
  const typeCount = state.types.length
  const bytes = r.bytes
  for (let i = 0; i < n; i++) {
    const at = r.pos
    let t = bytes[at]
    if (t < 0x80 && at < r.end) r.pos = at + 1
    else t = r.u32()
    if (t >= typeCount) r.fail(`type index ${t} out of range (${typeCount} types)`, at)
    types[i] = t
  }
  state.definedFuncTypes = types
}

function readTables (r: BinaryReader, state: CoreState): void {
  const n = r.count()
  for (let i = 0; i < n; i++) {
    // 0x40 0x00: a table with an explicit initialiser (function-references proposal)
    const withInit = r.peek() === 0x40
    if (withInit) {
      r.u8()
      const at = r.pos
      if (r.u8() !== 0x00) r.fail('expected 0x00 after 0x40 in a table definition', at)
    }
    const table = readTableType(r)
    if (withInit) skipConstExpr(r)
    state.tables.push(table)
    state.definedTables.push(table)
  }
}

function readMemories (r: BinaryReader, state: CoreState): void {
  const n = r.count()
  for (let i = 0; i < n; i++) {
    const limits = readMemoryLimits(r)
    state.memories.push(limits)
    state.definedMemories.push(limits)
  }
}

function readGlobals (r: BinaryReader, state: CoreState): void {
  const n = r.count()
  for (let i = 0; i < n; i++) {
    state.globals.push(readGlobalType(r))
    skipConstExpr(r)
  }
}

function readTags (r: BinaryReader, state: CoreState): void {
  const n = r.count()
  for (let i = 0; i < n; i++) state.tags.push(state.types[readTagType(r, state)])
}

function readExports (r: BinaryReader, state: CoreState): void {
  const n = r.count()
  for (let i = 0; i < n; i++) {
    const name = r.name()
    const at = r.pos
    const kind = r.u8()
    const index = r.u32()
    switch (kind) {
      case 0x00: {
        const imported = state.importedFuncTypes.length
        const defined = index - imported
        if (defined >= state.definedFuncTypes.length) outOfRange(r, name, 'function', index, imported + state.definedFuncTypes.length, at)
        const t = defined < 0 ? state.importedFuncTypes[index] : state.definedFuncTypes[defined]
        state.exports.push({ name, kind: 'function', signature: signature(state, t) })
        break
      }
      case 0x01: {
        const table = state.tables[index] ?? outOfRange(r, name, 'table', index, state.tables.length, at)
        state.exports.push({ name, kind: 'table', element: table.element, limits: { ...table.limits } })
        break
      }
      case 0x02: {
        const limits = state.memories[index] ?? outOfRange(r, name, 'memory', index, state.memories.length, at)
        state.exports.push({ name, kind: 'memory', limits: { ...limits } })
        break
      }
      case 0x03: {
        const global = state.globals[index] ?? outOfRange(r, name, 'global', index, state.globals.length, at)
        state.exports.push({ name, kind: 'global', type: global.type, mutable: global.mutable })
        break
      }
      case 0x04: {
        const tag = state.tags[index] ?? outOfRange(r, name, 'tag', index, state.tags.length, at)
        state.exports.push({ name, kind: 'tag', signature: { params: tag.params.slice(), results: tag.results.slice() } })
        break
      }
      default: r.fail(`unknown export kind 0x${hex(kind)}`, at)
    }
  }
}

function outOfRange (r: BinaryReader, name: string, what: string, index: number, length: number, at: number): never {
  return r.fail(`export "${name}" refers to ${what} ${index}, out of range (${length})`, at)
}
