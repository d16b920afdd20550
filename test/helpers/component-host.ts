import { componentSkill } from '../../src/wasm/component/component-skills.ts'
import type { ComponentHost } from '../../src/wasm/component/instantiate.ts'
import type { SkillHostContext } from '../../src/wasm/skills/host/context.ts'
import { engine, type WasmModule } from '../../src/wasm/engine.ts'

/** a ComponentHost for tests: simulated skill values, stdout/stderr captured */
export interface TestComponentHost extends ComponentHost {
  readonly out: Uint8Array[]
  readonly err: Uint8Array[]
  readonly slept: number[]
  text: (which?: 'out' | 'err') => string
}

export const TEST_IMAGE = new Uint8Array(1234).map((_, i) => i & 0xff)

export function testComponentHost (options: { args?: string[], env?: Record<string, string>, skills?: string[] } = {}): TestComponentHost {
  const out: Uint8Array[] = []
  const err: Uint8Array[] = []
  const slept: number[] = []
  const ctx: SkillHostContext = {
    memory: () => { throw new Error('component skills never touch guest memory') },
    guestExport: () => undefined,
    read: (skill, quantity) => skill === 'camera' ? TEST_IMAGE : quantity === 'temperature' ? 21.5 : 40,
    stdout: bytes => { out.push(bytes) },
    sleep: ms => { slept.push(ms) },
    millis: () => 1234.7
  }
  const offered = new Set(options.skills ?? ['sys', 'camera', 'dht'])
  return {
    args: options.args,
    env: options.env,
    stdout: bytes => { out.push(bytes) },
    stderr: bytes => { err.push(bytes) },
    skill: name => offered.has(name) ? componentSkill(name, ctx) : undefined,
    out,
    err,
    slept,
    text: (which = 'out') => Buffer.concat(which === 'out' ? out : err).toString('utf8')
  }
}

/** compiles core modules as the runtime would, recording their names */
export function recordingCompile (names: string[] = []): (name: string, bytes: Uint8Array) => WasmModule {
  return (name, bytes) => {
    names.push(name)
    return new engine.Module(bytes)
  }
}
