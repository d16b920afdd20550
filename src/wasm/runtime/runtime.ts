import { createHash } from 'node:crypto'
import { WasmeshError } from '../../errors.ts'
import { engine } from '../engine.ts'
import type { WasmModule } from '../engine.ts'
import { assertModuleSize, validateModule } from '../validate-module.ts'
import { resolvePreopens } from '../wasi/index.ts'
import { capGrowth } from '../sandbox/cap-limits.ts'
import type { GrowthCaps } from '../sandbox/cap-limits.ts'
import { assertLinks } from '../skills/link-check.ts'
import { skillDescriptors } from '../skills/skills-file.ts'
import type { ConfiguredSkill } from '../skills/skills-file.ts'
import type { SkillDescriptor } from '../skills/descriptor.ts'
import { createProviders } from '../skills/providers/index.ts'
import type { SkillProvider } from '../skills/providers/index.ts'
import type { CoreValType, ModuleInfo } from '../module-info.ts'
import { GuestInstance } from './guest-instance.ts'
import { GuestThread } from './guest-thread.ts'
import type { GuestCode, GuestEnvironment } from './messages.ts'
import { DEFAULT_RUNTIME_LIMITS } from './options.ts'
import type { RuntimeLimits } from './options.ts'
import { PreparedCache } from './prepared-cache.ts'

export interface RuntimeOptions {
  limits?: Partial<RuntimeLimits>
  /** the skills this node offers beyond `sys` (from its skills file) */
  skills?: readonly ConfiguredSkill[]
  /** where skill data come from; made from `skills` if not given */
  providers?: ReadonlyMap<string, SkillProvider>
}

/** A module checked, linked against this node's skills and compiled: ready to instantiate. */
export interface PreparedModule {
  /** sha-256 of the bytes, hex */
  hash: string
  info: ModuleInfo
  code: GuestCode
  /** a core module's exported functions' parameter types, for checking call arguments */
  signatures: ReadonlyMap<string, readonly CoreValType[]>
}

/** How a guest is instantiated; every field has a default. */
export interface GuestSetup {
  args?: string[]
  env?: Record<string, string>
  /** host dirs the guest may use, by the path it sees them at */
  preopens?: Array<{ guest: string, host: string }>
  stdio?: 'capture' | 'inherit'
  /** per-call time limit, this instance's (default: the node's) */
  timeoutMs?: number
}

/**
 * The node's WebAssembly runtime: checks, links and compiles modules once (cached by
 * content hash), then runs each instance sandboxed on its own worker thread with the
 * node's limits. Imports nothing from libp2p: the node, `wasmesh run` and the simulator
 * all use it the same way.
 */
export class WasmRuntime {
  readonly limits: RuntimeLimits
  offered: SkillDescriptor[]
  private providers: ReadonlyMap<string, SkillProvider>
  private prepared: PreparedCache<PreparedModule>
  private readonly live = new Set<GuestInstance>()
  private spare: GuestThread | undefined
  private closed = false

  constructor (options: RuntimeOptions = {}) {
    this.limits = { ...DEFAULT_RUNTIME_LIMITS, ...options.limits }
    this.offered = skillDescriptors(options.skills ?? [])
    this.providers = options.providers ?? createProviders(options.skills ?? [])
    this.prepared = new PreparedCache(this.limits.compiledCacheEntries)
  }

  /** validates (size, engine, parse, memory minimum), checks links, caps growth and compiles; cached */
  async prepare (bytes: Uint8Array): Promise<PreparedModule> {
    // before hashing: a module over the limit is refused without reading it
    assertModuleSize(bytes, this.limits)
    const hash = createHash('sha256').update(bytes).digest('hex')
    return await this.prepared.get(hash, async () => {
      const info = await validateModule(bytes, this.limits)
      assertLinks(info, this.offered)
      const signatures = new Map(info.exports.flatMap(e => e.kind === 'function' ? [[e.name, e.signature.params]] : []))
      return { hash, info, code: await this.compile(bytes, info), signatures }
    })
  }

  /** a guest instance of a prepared module, instantiated (link errors and start traps surface here) */
  async instantiate (module: PreparedModule, setup: GuestSetup = {}): Promise<GuestInstance> {
    if (this.closed) throw new WasmeshError('unavailable', 'the runtime is closed')
    const environment: GuestEnvironment = {
      args: setup.args ?? ['module.wasm'],
      env: setup.env ?? {},
      // checked here, before a worker starts, so a bad dir fails at once
      preopens: resolvePreopens(setup.preopens ?? []),
      stdio: setup.stdio ?? 'capture'
    }
    const instance = new GuestInstance({
      type: 'instantiate',
      code: module.code,
      environment,
      skills: this.offered.map(s => s.name),
      maxOutputBytes: this.limits.maxOutputBytes
    }, {
      newThread: this.takeThread,
      signatures: module.signatures,
      timeoutMs: setup.timeoutMs ?? this.limits.callTimeoutMs,
      startTimeoutMs: this.limits.startTimeoutMs,
      onClose: () => { this.live.delete(instance) }
    })
    this.live.add(instance)
    try {
      await instance.start()
    } catch (err) {
      instance.close()
      throw err
    }
    return instance
  }

  /**
   * Offers other skills from now on: modules are linked against them afresh (the prepared
   * cache is dropped). Instances already running keep the skills and providers they had.
   */
  setSkills (skills: readonly ConfiguredSkill[], providers?: ReadonlyMap<string, SkillProvider>): void {
    this.offered = skillDescriptors(skills)
    this.providers = providers ?? createProviders(skills)
    this.prepared = new PreparedCache(this.limits.compiledCacheEntries)
  }

  /** guest instances open now */
  get instances (): number {
    return this.live.size
  }

  close (): void {
    this.closed = true
    for (const instance of [...this.live]) instance.close()
    this.spare?.terminate('runtime closed')
    this.spare = undefined
  }

  /**
   * A worker for an instance: the spare one if there is one (a worker takes ~50 ms to start,
   * which would otherwise delay every new instance and every recovery from a timeout), and
   * a new spare started behind it.
   */
  private readonly takeThread = (): GuestThread => {
    const spare = this.spare?.alive === true ? this.spare : undefined
    this.spare = undefined
    const thread = spare ?? this.newThread()
    if (this.limits.spareWorkers > 0) {
      setImmediate(() => { if (!this.closed && this.spare === undefined) this.spare = this.newThread() })
    }
    return thread
  }

  private newThread (): GuestThread {
    return new GuestThread(this.providers, this.limits.workerHeapMib)
  }

  private async compile (bytes: Uint8Array, info: ModuleInfo): Promise<GuestCode> {
    const caps = { maxMemoryPages: memoryShare(info, this.limits.maxMemoryPages), maxTableElements: this.limits.maxTableElements }
    if (info.kind === 'core') return { kind: 'core', module: await compileCapped(bytes, caps) }
    const { transpileComponent } = await import('../component/transpile.ts')
    const transpiled = await transpileComponent(bytes)
    const coreModules: Record<string, WasmModule> = {}
    for (const [name, core] of Object.entries(transpiled.coreModules)) coreModules[name] = await compileCapped(core, caps)
    // the bytes travel along (the bindings list their core modules by them); the worker uses the compiled ones
    return { kind: 'component', transpiled, coreModules }
  }

}

async function compileCapped (bytes: Uint8Array, caps: GrowthCaps): Promise<WasmModule> {
  return await engine.compile(capGrowth(bytes, caps))
}

/**
 * The memory limit is the guest's, not each memory's: with multi-memory (or a component's
 * several core modules) every memory it defines gets an equal share, so N memories cannot
 * add up to N times the limit. Imported memories are not counted: nothing offers one.
 */
export function memoryShare (info: ModuleInfo, maxPages: number): number {
  const imported = info.imports.filter(i => i.kind === 'memory').length
  const defined = Math.max(1, info.memories.length - imported)
  return Math.floor(maxPages / defined)
}
