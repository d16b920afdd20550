import type { ErrorCode } from '../../errors.ts'
import type { WasmModule } from '../engine.ts'
import type { Preopen } from '../wasi/index.ts'
import type { TranspiledComponent } from '../component/transpile.ts'

/** What the guest sees of the world (WASI args, env, preopened dirs) and where its output goes. */
export interface GuestEnvironment {
  args: string[]
  env: Record<string, string>
  preopens: Preopen[]
  /** `capture`: kept per call and returned; `inherit`: written to the node's own stdout/stderr as it comes */
  stdio: 'capture' | 'inherit'
}

export type GuestCode =
  | { kind: 'core', module: WasmModule }
  | { kind: 'component', transpiled: TranspiledComponent, coreModules: Record<string, WasmModule> }

/** The first message a worker reads: what to instantiate. */
export interface InstantiateRequest {
  type: 'instantiate'
  code: GuestCode
  environment: GuestEnvironment
  /** skills to link as host functions (by import module name) */
  skills: string[]
  maxOutputBytes: number
}

export interface CallRequest {
  type: 'call'
  fn: string
  args: unknown[]
}

export interface RunRequest {
  type: 'run'
}

export type GuestRequest = InstantiateRequest | CallRequest | RunRequest

/** Output the guest wrote during one request. */
export interface CapturedOutput {
  stdout: Uint8Array
  stderr: Uint8Array
  truncated: boolean
}

export type GuestResponse =
  | { type: 'instantiated', functions: string[] }
  | { type: 'returned', value: unknown, output?: CapturedOutput }
  | { type: 'exited', code: number, output?: CapturedOutput }
  | { type: 'failed', code: ErrorCode, message: string, output?: CapturedOutput }

/** A skill read the guest asks the node for, and the answer. */
export interface SkillReadRequest { skill: string, quantity: string }
export type SkillReadReply = { ok: true, value: Uint8Array | number } | { ok: false, code: ErrorCode, message: string }
