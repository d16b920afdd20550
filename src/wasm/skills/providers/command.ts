import { spawn } from 'node:child_process'
import { WasmeshError } from '../../../errors.ts'
import { quantityKind } from '../quantities.ts'
import { PROVIDER_DEFAULTS, type ResolvedProviderOptions } from './options.ts'
import type { SkillProvider } from './provider.ts'
import { valueFromOutput } from './value.ts'

/**
 * A shell command per read: its stdout is the value. It runs in its own process group so that
 * a timeout, too much output or an abort kills everything it started, not just the shell
 * (a `sleep` left behind would hold the pipe open).
 */
export function commandProvider (skill: string, command: string, options: ResolvedProviderOptions): SkillProvider {
  return {
    async read (quantity, signal) {
      quantityKind(skill, quantity)
      const output = await runCommand(skill, quantity, command, options, signal)
      return valueFromOutput(skill, quantity, output, `command ${quoteCommand(command)}`)
    }
  }
}

async function runCommand (skill: string, quantity: string, command: string, options: ResolvedProviderOptions, signal: AbortSignal): Promise<Uint8Array> {
  const what = `skill ${skill}: command ${quoteCommand(command)}`
  if (signal.aborted) throw abortError(signal, what)
  return await new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], {
      cwd: options.cwd,
      env: { ...process.env, WASMESH_SKILL: skill, WASMESH_QUANTITY: quantity },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true
    })
    const stdout: Buffer[] = []
    let stdoutBytes = 0
    let stderrTail: Buffer = Buffer.alloc(0)
    // the first reason the command failed; later ones (the kill's exit) do not replace it
    let failure: Error | undefined
    let closed = false

    // the group, not only the shell: what it left running may still hold the pipes
    const killGroup = (): void => {
      if (child.pid === undefined || closed) return
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
    const fail = (err: Error): void => {
      failure ??= err
      killGroup()
    }

    const timer = setTimeout(() => {
      fail(new WasmeshError('unavailable', `${what} took longer than ${options.commandTimeoutMs} ms and was killed${stderrNote(stderrTail)}`))
    }, options.commandTimeoutMs)
    const onAbort = (): void => { fail(abortError(signal, what)) }
    signal.addEventListener('abort', onAbort, { once: true })

    child.stdout.on('data', (chunk: Buffer) => {
      if (failure !== undefined) return
      stdoutBytes += chunk.length
      if (stdoutBytes > options.maxBytes) {
        fail(new WasmeshError('unavailable', `${what} printed more than ${options.maxBytes} bytes and was killed`))
        return
      }
      stdout.push(chunk)
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderrTail = keepTail(stderrTail, chunk, PROVIDER_DEFAULTS.stderrTailBytes)
    })
    child.on('error', (err) => {
      fail(new WasmeshError('unavailable', `${what} could not start (/bin/sh in ${options.cwd}): ${err.message}`))
    })
    // 'close' waits for the pipes as well as the exit, so all the output is in
    child.on('close', (code, killedBy) => {
      closed = true
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      if (failure !== undefined) {
        reject(failure)
      } else if (code !== 0) {
        const how = killedBy !== null ? `was killed by ${killedBy}` : `exited with code ${code ?? '?'}`
        reject(new WasmeshError('unavailable', `${what} ${how}${stderrNote(stderrTail)}`))
      } else {
        const all = Buffer.concat(stdout)
        resolve(new Uint8Array(all.buffer, all.byteOffset, all.length))
      }
    })
  })
}

function abortError (signal: AbortSignal, what: string): Error {
  const reason: unknown = signal.reason
  if (reason instanceof WasmeshError) return reason
  return new WasmeshError('unavailable', `${what} was aborted${reason instanceof Error ? `: ${reason.message}` : ''}`)
}

function keepTail (tail: Buffer, chunk: Buffer, max: number): Buffer {
  const joined = tail.length === 0 ? chunk : Buffer.concat([tail, chunk])
  return joined.length > max ? Buffer.from(joined.subarray(joined.length - max)) : joined
}

function stderrNote (tail: Buffer): string {
  const text = tail.toString('utf8').trim()
  return text === '' ? '' : `; stderr: ${text}`
}

function quoteCommand (command: string): string {
  return JSON.stringify(command.length > 80 ? `${command.slice(0, 80)}...` : command)
}
