import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { WasmeshError } from '../../errors.ts'
import { deploymentFiles } from '../../wasm/describe/mounts.ts'
import { StepHost } from './step-host.ts'
import type { DeploymentRecord } from '../../protocols/deploy/index.ts'
import type { WasmRuntime } from '../../wasm/runtime/index.ts'
import type { ModuleStore } from '../modules/module-store.ts'

export interface HostedStepsInit {
  self: string
  modules: ModuleStore
  runtime: WasmRuntime
  /** where each hosted step gets its folder */
  stepsDir: string
  /** how long a fetch for a prepare may take */
  fetchTimeoutMs: number
  /** a prepared step not committed within this is dropped */
  preparedTtlMs: number
  /** most bytes a step's output file may have: what a call may carry back */
  maxOutputBytes: number
  log: (message: string) => void
}

interface Hosted {
  /** the record version the step was started for */
  version: number
  cid: string
  function: string
  /** its own folder: a step restarted for a newer version never shares one with the old guest */
  dir: string
  host: Promise<StepHost>
}

/**
 * The steps this node runs: started when this node wins a step (prepared), kept when the
 * record is committed, dropped when a newer record gives the step to others or an abort or
 * timeout ends the preparation. One guest per step, alive across calls.
 */
export class HostedSteps {
  readonly #init: HostedStepsInit
  readonly #active = new Map<string, Hosted>()
  readonly #prepared = new Map<string, Hosted & { timer: NodeJS.Timeout }>()

  constructor (init: HostedStepsInit) {
    this.#init = init
  }

  get size (): number {
    return this.#active.size
  }

  /** Fetches the module and its files and starts the guest, to be kept if the record commits. */
  async prepare (record: DeploymentRecord, index: number, holders: readonly string[] = []): Promise<void> {
    const step = record.steps[index]
    if (step === undefined) throw new WasmeshError('bad-request', `deployment ${record.id} has no step ${index}`)
    const key = keyOf(record.id, index)
    const active = this.#active.get(key)
    if (active !== undefined && active.cid === step.cid && active.function === step.function) return
    const earlier = this.#prepared.get(key)
    if (earlier !== undefined && earlier.version === record.version) {
      await earlier.host
      return
    }
    if (earlier !== undefined) this.#drop(this.#prepared, key)
    const dir = this.#dirOf(record, index)
    const host = this.#start(record, index, dir, holders)
    const timer = setTimeout(() => {
      if (this.#prepared.get(key)?.host === host) this.#drop(this.#prepared, key)
    }, this.#init.preparedTtlMs)
    timer.unref()
    this.#prepared.set(key, { version: record.version, cid: step.cid, function: step.function, dir, host, timer })
    try {
      await host
    } catch (err) {
      if (this.#prepared.get(key)?.host === host) this.#drop(this.#prepared, key)
      throw err
    }
  }

  /**
   * Makes what runs here match a committed record: its steps given to this node run (the
   * prepared guest, or one started now, as after a restart); the rest of the deployment's
   * steps here stop.
   */
  commit (record: DeploymentRecord): void {
    const mine = new Set<string>()
    if (record.status !== 'removed') {
      record.steps.forEach((step, index) => {
        if (!step.peers.includes(this.#init.self)) return
        const key = keyOf(record.id, index)
        mine.add(key)
        const active = this.#active.get(key)
        if (active !== undefined && active.cid === step.cid && active.function === step.function) {
          active.version = record.version
          return
        }
        if (active !== undefined) this.#drop(this.#active, key)
        const prepared = this.#prepared.get(key)
        if (prepared !== undefined && prepared.version <= record.version) {
          clearTimeout(prepared.timer)
          this.#prepared.delete(key)
          this.#active.set(key, { ...prepared, version: record.version })
          return
        }
        const dir = this.#dirOf(record, index)
        const host = this.#start(record, index, dir)
        host.catch((err: Error) => { this.#init.log(`step ${key} did not start: ${err.message}`) })
        this.#active.set(key, { version: record.version, cid: step.cid, function: step.function, dir, host })
      })
    }
    for (const map of [this.#active, this.#prepared]) {
      for (const [key, hosted] of map) {
        if (key.startsWith(`${record.id}/`) && !mine.has(key) && hosted.version <= record.version) this.#drop(map, key)
      }
    }
  }

  /** Drops what was prepared for that version of the deployment. */
  abort (id: string, version: number): void {
    for (const [key, hosted] of this.#prepared) {
      if (key.startsWith(`${id}/`) && hosted.version === version) this.#drop(this.#prepared, key)
    }
  }

  /** The running guest of a step, or undefined if this node does not run it. */
  async get (id: string, index: number): Promise<StepHost | undefined> {
    const hosted = this.#active.get(keyOf(id, index))
    if (hosted === undefined) return undefined
    try {
      return await hosted.host
    } catch {
      return undefined
    }
  }

  hosts (id: string, index: number): boolean {
    return this.#active.has(keyOf(id, index))
  }

  async close (): Promise<void> {
    const all = [...this.#active.values(), ...this.#prepared.values()]
    for (const p of this.#prepared.values()) clearTimeout(p.timer)
    this.#active.clear()
    this.#prepared.clear()
    await Promise.allSettled(all.map(async h => { await (await h.host).close() }))
  }

  #dirOf (record: DeploymentRecord, index: number): string {
    return join(this.#init.stepsDir, record.id, `${index}-v${record.version}`)
  }

  async #start (record: DeploymentRecord, index: number, dir: string, holders: readonly string[] = []): Promise<StepHost> {
    const step = record.steps[index]
    const { modules } = this.#init
    // A fetch of a CID nobody has would wait out its whole timeout.
    if (modules.local(step.cid) === undefined && holders.length === 0 && modules.holders(step.cid).length === 0) {
      throw new WasmeshError('not-found', `no reachable peer holds module ${step.cid}`)
    }
    const module = modules.local(step.cid) ?? await modules.fetch(CID.parse(step.cid), {
      timeoutMs: this.#init.fetchTimeoutMs,
      descriptionCid: step.descriptionCid
    })
    const wanted = new Set((step.description?.mounts ?? []).filter(m => m.stage === 'deployment').map(m => m.name))
    const files = await Promise.all(deploymentFiles(module.description)
      .filter(f => wanted.has(f.mount))
      .map(async f => ({ mount: f.mount, bytes: await modules.fileBytes(f) })))
    const missing = [...wanted].filter(m => !files.some(f => f.mount === m))
    if (missing.length > 0) throw new WasmeshError('not-found', `the file of deployment-stage mount "${missing[0]}" is not with module ${step.cid}`)
    return await StepHost.open({
      runtime: this.#init.runtime,
      bytes: await modules.bytes(module),
      function: step.function,
      ...(step.description !== null ? { description: step.description } : {}),
      dir,
      deploymentFiles: files,
      env: record.config,
      maxOutputBytes: this.#init.maxOutputBytes
    })
  }

  #drop (map: Map<string, Hosted>, key: string): void {
    const hosted = map.get(key)
    if (hosted === undefined) return
    map.delete(key)
    if ('timer' in hosted) clearTimeout(hosted.timer as NodeJS.Timeout)
    hosted.host.then(async h => { await h.close() }, async () => {
      await rm(hosted.dir, { recursive: true, force: true })
    }).catch(() => {})
  }
}

function keyOf (id: string, index: number): string {
  return `${id}/${index}`
}
