import { Key } from 'interface-datastore'
import { WasmeshError } from '../../errors.ts'
import { deploymentRecordSchema, involves, supersedes } from '../../protocols/deploy/index.ts'
import type { DeploymentRecord } from '../../protocols/deploy/index.ts'
import type { Datastore } from 'interface-datastore'

const PREFIX = '/wasmesh/deployments/'
/** Removed deployments remembered, so an old copy still in flight does not bring one back. */
const MAX_REMOVED = 4096

/**
 * The deployment records this node knows: every one it heard of (to route calls), kept on disk
 * for those it takes part in (to come back after a restart). Only a newer record replaces one.
 */
export class DeploymentBook {
  readonly #records = new Map<string, DeploymentRecord>()
  readonly #datastore: Datastore
  readonly #self: string

  constructor (datastore: Datastore, self: string) {
    this.#datastore = datastore
    this.#self = self
  }

  /** The records kept on disk, as they were when the node stopped. */
  async restore (): Promise<DeploymentRecord[]> {
    const restored: DeploymentRecord[] = []
    for await (const { value } of this.#datastore.query({ prefix: PREFIX })) {
      const parsed = deploymentRecordSchema.safeParse(JSON.parse(new TextDecoder().decode(value)))
      if (!parsed.success) continue
      this.#records.set(parsed.data.id, parsed.data)
      restored.push(parsed.data)
    }
    return restored
  }

  /**
   * Takes a record if it supersedes the one known, and keeps it on disk while this node takes
   * part in it. Returns the record it replaced (undefined if new), or false if it was not newer.
   */
  async apply (record: DeploymentRecord): Promise<DeploymentRecord | undefined | false> {
    const known = this.#records.get(record.id)
    if (!supersedes(record, known)) return false
    this.#records.set(record.id, record)
    const key = new Key(PREFIX + record.id)
    if (record.status !== 'removed' && this.#involves(record)) {
      await this.#datastore.put(key, new TextEncoder().encode(JSON.stringify(record)))
    } else if (known !== undefined && this.#involves(known)) {
      await this.#datastore.delete(key)
    }
    if (record.status === 'removed') this.#forgetOldRemovals()
    return known
  }

  /** A live deployment by id, or by name when just one has it. */
  get (ref: string): DeploymentRecord | undefined {
    const byId = this.#records.get(ref)
    if (byId !== undefined) return byId.status === 'removed' ? undefined : byId
    const named = this.list().filter(r => r.name === ref)
    return named.length === 1 ? named[0] : undefined
  }

  /** Like get, or `not-found`. */
  find (ref: string): DeploymentRecord {
    const record = this.get(ref)
    if (record === undefined) throw new WasmeshError('not-found', `no deployment "${ref.slice(0, 96)}"`)
    return record
  }

  /** The latest record of an id, removed ones included. */
  latest (id: string): DeploymentRecord | undefined {
    return this.#records.get(id)
  }

  /** Whether a live deployment has `peerId` as its coordinator or a host (what a dropped connection to it puts at stake). */
  involves (peerId: string): boolean {
    for (const r of this.#records.values()) {
      if (r.status !== 'removed' && involves(r, peerId)) return true
    }
    return false
  }

  list (): DeploymentRecord[] {
    return [...this.#records.values()].filter(r => r.status !== 'removed')
  }

  #involves (record: DeploymentRecord): boolean {
    return involves(record, this.#self)
  }

  #forgetOldRemovals (): void {
    const removed = [...this.#records.values()].filter(r => r.status === 'removed')
    for (const r of removed.slice(0, Math.max(0, removed.length - MAX_REMOVED))) this.#records.delete(r.id)
  }
}
