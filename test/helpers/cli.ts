import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const WASMESH = join(fileURLToPath(new URL('../../', import.meta.url)), 'bin', 'wasmesh.js')

export interface Run { code: number | null, stdout: string, stderr: string }

/** Runs the CLI in a child process, as a user would; killed if it hangs (the test then fails on its code). */
export async function runWasmesh (args: string[], opts: { timeoutMs?: number, env?: NodeJS.ProcessEnv, cwd?: string } = {}): Promise<Run> {
  const child = spawn(process.execPath, [WASMESH, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env, cwd: opts.cwd })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 10_000)
  const code = await new Promise<number | null>(resolve => child.on('close', resolve))
  clearTimeout(timer)
  return { code, stdout, stderr }
}
