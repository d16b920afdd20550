import { writeSync } from 'node:fs'
import { concat } from 'uint8arrays/concat'
import type { CapturedOutput } from './messages.ts'

/**
 * Where a guest's stdout and stderr go: kept per request up to a limit (the node returns
 * them with the call's answer), or written straight through to the process's own streams
 * (`wasmesh run`). Writes are synchronous: the guest's thread is the worker's only thread.
 */
export class OutputSink {
  private readonly mode: 'capture' | 'inherit'
  private readonly limit: number
  private readonly chunks: [Uint8Array[], Uint8Array[]] = [[], []]
  private readonly sizes = [0, 0]
  private truncated = false

  constructor (mode: 'capture' | 'inherit', limit: number) {
    this.mode = mode
    this.limit = limit
  }

  readonly stdout = (bytes: Uint8Array): void => { this.write(0, bytes) }
  readonly stderr = (bytes: Uint8Array): void => { this.write(1, bytes) }

  /** what was captured since the last take, or undefined if nothing */
  take (): CapturedOutput | undefined {
    if (this.sizes[0] === 0 && this.sizes[1] === 0 && !this.truncated) return undefined
    const output = { stdout: join(this.chunks[0], this.sizes[0]), stderr: join(this.chunks[1], this.sizes[1]), truncated: this.truncated }
    this.chunks[0] = []
    this.chunks[1] = []
    this.sizes[0] = this.sizes[1] = 0
    this.truncated = false
    return output
  }

  private write (stream: 0 | 1, bytes: Uint8Array): void {
    if (bytes.length === 0) return
    if (this.mode === 'inherit') {
      writeAll(stream === 0 ? 1 : 2, bytes)
      return
    }
    const room = this.limit - this.sizes[stream]
    if (bytes.length > room) this.truncated = true
    const kept = bytes.length > room ? bytes.subarray(0, Math.max(0, room)) : bytes
    if (kept.length === 0) return
    // the guest's memory is reused after the call returns: copy what is kept
    this.chunks[stream].push(kept.slice())
    this.sizes[stream] += kept.length
  }
}

function writeAll (fd: number, bytes: Uint8Array): void {
  let at = 0
  while (at < bytes.length) {
    try {
      at += writeSync(fd, bytes, at)
    } catch (err) {
      // a pipe the reader is slow on: try again; anything else (closed pipe) drops the output
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return
    }
  }
}

function join (chunks: Uint8Array[], size: number): Uint8Array {
  return chunks.length === 1 ? chunks[0] : concat(chunks, size)
}
