import { randomUUID } from 'node:crypto'
import createMortice from 'mortice'
import * as jsonCodec from 'multiformats/codecs/json'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { WasmeshError, isWasmeshError } from '../../errors.ts'
import { importOptions } from '../../protocols/modules/layout.ts'
import { moduleDescriptionSchema } from '../../wasm/describe/description.ts'
import { assertDeploymentFiles, attachDeploymentFiles, deploymentFiles } from '../../wasm/describe/mounts.ts'
import { normalizeDescription } from '../../wasm/describe/normalize.ts'
import { validateModule } from '../../wasm/validate-module.ts'
import { RECORDS_PREFIX, checkModuleName, decodeRecord, encodeRecord, nameKey, parseCid, recordKey } from './records.ts'
import type { ModuleExchange } from '../../protocols/modules/exchange.ts'
import type { ModuleDescription } from '../../wasm/describe/description.ts'
import type { StoredFile } from '../../wasm/describe/mounts.ts'
import type { ModuleLimits } from '../../wasm/limits.ts'
import type { ModuleRecord } from './records.ts'
import type { Datastore } from 'interface-datastore'
import type { Mortice } from 'mortice'

/** What a node tells the mesh of a module it holds. */
export interface Holding {
  cid: string
  name?: string
  description?: string
}

/** A module some peer holds, as the peer table knows it. */
export interface RemoteHolding extends Holding {
  peerId: string
}

export interface ModuleStoreInit {
  exchange: ModuleExchange
  datastore: Datastore
  limits: ModuleLimits
  fetchTimeoutMs: number
  /** Modules peers announced they hold (for names and descriptions of modules not held here). */
  remoteHoldings: (match: { cid?: string, name?: string }) => RemoteHolding[]
  /** Called after the set of held modules changed, to re-announce. */
  onChange: () => void
}

export interface DescribeInput {
  /** A description as a user gives it: wasmesh's shape or wasmiot's (src/wasm/describe/). */
  functions: unknown
  /** One file per deployment-stage mount, named by the mount. */
  files: Array<{ mount: string, bytes: Uint8Array, mediaType?: string }>
}

export interface FetchOptions {
  signal?: AbortSignal
  timeoutMs?: number
  /** the module's description block, when the asker knows it (a peer's announcement may not be here yet) */
  descriptionCid?: string | null
}

/**
 * The node's modules, by content address: bytes and files as verified blocks (Helia), a record
 * per module in the datastore, names pointing at CIDs. A module is visible once its record is
 * written, which comes last; what a crash leaves unreferenced is collected at the next start.
 */
export class ModuleStore {
  readonly #exchange: ModuleExchange
  readonly #datastore: Datastore
  readonly #init: ModuleStoreInit
  readonly #records = new Map<string, ModuleRecord>()
  readonly #names = new Map<string, string>()
  readonly #fetches = new Map<string, Promise<ModuleRecord>>()
  /** #records newest first, dropped wherever #records changes: every announcement heartbeat reads it. */
  #newestFirst: ModuleRecord[] | undefined
  /** Adds and fetches share it; garbage collection takes it alone (blocks wait unpinned between import and pin). */
  readonly #gcLock: Mortice
  #cleanup: Promise<void> = Promise.resolve()

  constructor (init: ModuleStoreInit) {
    this.#init = init
    this.#exchange = init.exchange
    this.#datastore = init.datastore
    this.#gcLock = createMortice({ name: `wasmesh-store-${randomUUID()}`, singleProcess: true })
  }

  get limits (): ModuleLimits {
    return this.#init.limits
  }

  /**
   * Loads the index. What a crash left behind (pins no record refers to, blocks no pin holds)
   * is cleared in the background, off the node's start-up: it walks every pin and block.
   */
  async open (): Promise<void> {
    for await (const { value } of this.#datastore.query({ prefix: RECORDS_PREFIX })) {
      const record = decodeRecord(value)
      this.#records.set(record.cid, record)
      if (record.name !== null) this.#names.set(record.name, record.cid)
    }
    this.#newestFirst = undefined
    this.#cleanup = this.#clearLeftovers().catch(() => {})
  }

  /** Waits for background work on the stores; call before closing them. */
  async close (): Promise<void> {
    await this.#cleanup
  }

  async #clearLeftovers (): Promise<void> {
    // Alone: an add in flight pins before it records, and would look stale.
    const release = await this.#gcLock.writeLock()
    try {
      const referenced = this.#referenced()
      const stale: CID[] = []
      for await (const pin of this.#exchange.helia.pins.ls()) {
        if (!referenced.has(pin.cid.toString())) stale.push(pin.cid)
      }
      for (const cid of stale) await drain(this.#exchange.helia.pins.rm(cid))
      await this.#exchange.helia.gc()
    } finally {
      release()
    }
  }

  list (): ModuleRecord[] {
    return [...this.#sorted()]
  }

  #sorted (): readonly ModuleRecord[] {
    this.#newestFirst ??= [...this.#records.values()].sort((a, b) => b.addedAt - a.addedAt)
    return this.#newestFirst
  }

  /** What to announce: the newest modules first. */
  holdings (max: number): Holding[] {
    return this.#sorted().slice(0, max).map(r => ({
      cid: r.cid,
      ...(r.name !== null ? { name: r.name } : {}),
      ...(r.descriptionCid !== null ? { description: r.descriptionCid } : {})
    }))
  }

  /** The peers that announced they hold a CID. */
  holders (cid: string): string[] {
    return this.#init.remoteHoldings({ cid }).map(h => h.peerId)
  }

  /** The local record of a CID or name, or undefined. */
  local (ref: string): ModuleRecord | undefined {
    const cid = parseCid(ref)?.toString() ?? this.#names.get(ref)
    return cid === undefined ? undefined : this.#records.get(cid)
  }

  /** Stores a module (validated first: bad bytes never reach the block store) and returns its record. */
  async add (bytes: Uint8Array, opts: { name?: string } = {}): Promise<ModuleRecord> {
    if (opts.name !== undefined) checkModuleName(opts.name)
    const info = await validateModule(bytes, this.#init.limits)
    const release = await this.#gcLock.readLock()
    try {
      const cid = await this.#exchange.fs.addBytes(bytes, importOptions())
      const key = cid.toString()
      const existing = this.#records.get(key)
      if (existing !== undefined) {
        if (opts.name === undefined || opts.name === existing.name) return existing
        return await this.#commit({ ...existing, name: opts.name })
      }
      await this.#pin(cid)
      return await this.#commit({
        cid: key,
        name: opts.name ?? null,
        size: bytes.byteLength,
        addedAt: Date.now(),
        source: 'added',
        info,
        description: null,
        descriptionCid: null
      })
    } finally {
      release()
    }
  }

  /**
   * The record of a module, fetching it from a holder when it is not here: by CID, or by a
   * name some peer announced.
   */
  async resolve (ref: string, opts: FetchOptions = {}): Promise<ModuleRecord> {
    const local = this.local(ref)
    if (local !== undefined) return local
    const cid = parseCid(ref)
    if (cid !== null) return await this.fetch(cid, opts)
    const remote = this.#init.remoteHoldings({ name: ref })[0]
    if (remote === undefined) throw new WasmeshError('not-found', `no module named "${ref.slice(0, 80)}" here or on any peer`)
    return await this.fetch(CID.parse(remote.cid), opts)
  }

  /** The module's bytes as a stream of chunks (local modules only; `resolve` first to fetch). */
  async * read (record: ModuleRecord, opts: { signal?: AbortSignal } = {}): AsyncGenerator<Uint8Array> {
    yield * this.#exchange.fs.cat(CID.parse(record.cid), { offline: true, signal: opts.signal })
  }

  async bytes (record: ModuleRecord): Promise<Uint8Array> {
    return await this.fileBytes(record)
  }

  async fileBytes (file: { cid: string, size: number }): Promise<Uint8Array> {
    return await collect(this.#exchange.fs.cat(CID.parse(file.cid), { offline: true }), file.size + 1)
  }

  /**
   * Gets a module from the peers that hold it: every block verified against its CID, the whole
   * bounded by the size limit and a timeout; then checked like an added module, pinned and
   * recorded, with its description and files when the holder announced one.
   */
  async fetch (cid: CID, opts: FetchOptions = {}): Promise<ModuleRecord> {
    const key = cid.toString()
    const local = this.#records.get(key)
    if (local !== undefined) return local
    let inFlight = this.#fetches.get(key)
    if (inFlight === undefined) {
      inFlight = this.#fetch(cid, opts).finally(() => this.#fetches.delete(key))
      this.#fetches.set(key, inFlight)
    }
    return await inFlight
  }

  async #fetch (cid: CID, opts: FetchOptions): Promise<ModuleRecord> {
    const key = cid.toString()
    const timeoutMs = opts.timeoutMs ?? this.#init.fetchTimeoutMs
    const signal = opts.signal === undefined ? AbortSignal.timeout(timeoutMs) : AbortSignal.any([opts.signal, AbortSignal.timeout(timeoutMs)])
    const release = await this.#gcLock.readLock()
    try {
      const bytes = await this.#fetchBytes(cid, this.#init.limits.maxModuleBytes, timeoutMs, signal)
      const info = await validateModule(bytes, this.#init.limits)
      const holdings = this.#init.remoteHoldings({ cid: key })
      const hint = holdings.find(h => h.description !== undefined) ?? holdings[0]
      const descriptionCid = opts.descriptionCid !== undefined ? opts.descriptionCid : hint?.description ?? null
      const description = descriptionCid === null ? null : await this.#fetchDescription(CID.parse(descriptionCid), timeoutMs, signal)
      await this.#pin(cid)
      if (descriptionCid !== null) await this.#pin(CID.parse(descriptionCid))
      for (const file of deploymentFiles(description)) await this.#pin(CID.parse(file.cid))
      const name = hint?.name !== undefined && !this.#names.has(hint.name) ? hint.name : null
      return await this.#commit({ cid: key, name, size: bytes.byteLength, addedAt: Date.now(), source: 'fetched', info, description, descriptionCid })
    } finally {
      release()
    }
  }

  /** The bytes of a UnixFS file (`block: false`) or of one block, from peers when not here. */
  async #fetchBytes (cid: CID, maxBytes: number, timeoutMs: number, signal: AbortSignal, block = false): Promise<Uint8Array> {
    try {
      const chunks = block ? this.#exchange.helia.blockstore.get(cid, { signal }) : this.#exchange.fs.cat(cid, { signal })
      return await collect(chunks, maxBytes)
    } catch (err) {
      if (isWasmeshError(err)) throw err
      if (signal.aborted) throw new WasmeshError('not-found', `no peer served ${cid.toString()} within ${timeoutMs} ms`)
      throw new WasmeshError('not-found', `could not fetch ${cid.toString()}: ${(err as Error).message}`)
    }
  }

  /** A description block and the deployment-stage files its mounts point at. */
  async #fetchDescription (cid: CID, timeoutMs: number, signal: AbortSignal): Promise<ModuleDescription> {
    if (cid.code !== jsonCodec.code) throw new WasmeshError('invalid-module', `description ${cid.toString()} is not a JSON block`)
    const block = await this.#fetchBytes(cid, 1024 * 1024, timeoutMs, signal, true)
    const doc = jsonCodec.decode(block) as { description?: unknown } | null
    const parsed = moduleDescriptionSchema.safeParse(doc?.description)
    const files = parsed.success ? deploymentFiles(parsed.data) : []
    if (!parsed.success || !files.every(f => parseCid(f.cid) !== null)) {
      throw new WasmeshError('invalid-module', `description ${cid.toString()} is not a wasmesh description`)
    }
    for (const file of files) {
      await this.#fetchBytes(CID.parse(file.cid), this.#init.limits.maxModuleBytes, timeoutMs, signal)
    }
    return parsed.data
  }

  /**
   * Attaches a description and its deployment-stage files: the files and the description are
   * stored as blocks (the description as a JSON block naming the files' CIDs), so they travel
   * with the module to any peer that fetches it.
   */
  async describe (ref: string, input: DescribeInput): Promise<ModuleRecord> {
    const record = this.local(ref)
    if (record === undefined) throw new WasmeshError('not-found', `no module "${ref.slice(0, 80)}" here`)
    const normalized = normalizeDescription(input.functions, record.info)
    assertDeploymentFiles(normalized, input.files.map(f => f.mount))
    const release = await this.#gcLock.readLock()
    try {
      const stored = new Map<string, StoredFile>()
      for (const file of input.files) {
        const cid = await this.#exchange.fs.addBytes(file.bytes, importOptions())
        stored.set(file.mount, { cid: cid.toString(), size: file.bytes.byteLength, ...(file.mediaType !== undefined ? { mediaType: file.mediaType } : {}) })
      }
      const description = attachDeploymentFiles(normalized, stored)
      const block = jsonCodec.encode({ module: record.cid, description })
      const descriptionCid = CID.createV1(jsonCodec.code, await sha256.digest(block))
      await this.#exchange.helia.blockstore.put(descriptionCid, block)
      for (const file of stored.values()) await this.#pin(CID.parse(file.cid))
      await this.#pin(descriptionCid)
      const updated = await this.#commit({ ...record, description, descriptionCid: descriptionCid.toString() })
      // The replaced description and files, unless another record shares them.
      await this.#unpinUnreferenced(referencedCids(record))
      return updated
    } finally {
      release()
    }
  }

  /** Forgets a module and collects the blocks nothing else refers to. */
  async remove (ref: string): Promise<ModuleRecord> {
    const record = this.local(ref)
    if (record === undefined) throw new WasmeshError('not-found', `no module "${ref.slice(0, 80)}" here`)
    const batch = this.#datastore.batch()
    batch.delete(recordKey(record.cid))
    if (record.name !== null) batch.delete(nameKey(record.name))
    await batch.commit()
    this.#records.delete(record.cid)
    if (record.name !== null) this.#names.delete(record.name)
    this.#newestFirst = undefined
    await this.#unpinUnreferenced(referencedCids(record))
    await this.collectGarbage()
    this.#init.onChange()
    return record
  }

  /** Deletes every block no pin holds. */
  async collectGarbage (): Promise<void> {
    const release = await this.#gcLock.writeLock()
    try {
      await this.#exchange.helia.gc()
    } finally {
      release()
    }
  }

  async #pin (cid: CID): Promise<void> {
    if (await this.#exchange.helia.pins.isPinned(cid)) return
    await drain(this.#exchange.helia.pins.add(cid))
  }

  async #unpinUnreferenced (cids: string[]): Promise<void> {
    const stillReferenced = this.#referenced()
    for (const cid of new Set(cids)) {
      if (stillReferenced.has(cid)) continue
      const parsed = CID.parse(cid)
      if (await this.#exchange.helia.pins.isPinned(parsed)) await drain(this.#exchange.helia.pins.rm(parsed))
    }
  }

  /** Writes the record and its name atomically; a name given to a new module leaves the old one. */
  async #commit (record: ModuleRecord): Promise<ModuleRecord> {
    const batch = this.#datastore.batch()
    const previousHolder = record.name === null ? undefined : this.#names.get(record.name)
    const displaced = previousHolder !== undefined && previousHolder !== record.cid ? this.#records.get(previousHolder) : undefined
    if (displaced !== undefined) batch.put(recordKey(displaced.cid), encodeRecord({ ...displaced, name: null }))
    const old = this.#records.get(record.cid)
    if (old?.name != null && old.name !== record.name) batch.delete(nameKey(old.name))
    batch.put(recordKey(record.cid), encodeRecord(record))
    if (record.name !== null) batch.put(nameKey(record.name), new TextEncoder().encode(record.cid))
    await batch.commit()
    if (displaced !== undefined) this.#records.set(displaced.cid, { ...displaced, name: null })
    if (old?.name != null && old.name !== record.name) this.#names.delete(old.name)
    this.#records.set(record.cid, record)
    if (record.name !== null) this.#names.set(record.name, record.cid)
    this.#newestFirst = undefined
    this.#init.onChange()
    return record
  }

  #referenced (): Set<string> {
    return new Set([...this.#records.values()].flatMap(referencedCids))
  }
}

function referencedCids (record: ModuleRecord): string[] {
  return [record.cid, ...(record.descriptionCid !== null ? [record.descriptionCid] : []), ...deploymentFiles(record.description).map(f => f.cid)]
}

async function drain (it: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of it) {} // eslint-disable-line @typescript-eslint/no-unused-vars
}

/** Concatenates chunks, failing with `too-large` past `maxBytes`. */
async function collect (chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, maxBytes: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  let size = 0
  for await (const chunk of chunks) {
    size += chunk.byteLength
    if (size > maxBytes) throw new WasmeshError('too-large', `over the limit of ${maxBytes} bytes`)
    parts.push(chunk)
  }
  return Buffer.concat(parts)
}
