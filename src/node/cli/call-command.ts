import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { rename, rm, stat } from 'node:fs/promises'
import type { IncomingMessage } from 'node:http'
import { basename, dirname, join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { WasmeshError, errorFromJSON } from '../../errors.ts'
import { jsonBody, multipartBody, newBoundary, post, readText } from './call-request.ts'
import type { Body, FilePart } from './call-request.ts'
import { TIMEOUT_HEADER } from '../http/call-headers.ts'
import { nodeUrl } from './client.ts'
import type { Command } from 'commander'

/** A call runs a whole chain of steps on other peers: wait long by default. */
export const DEFAULT_CALL_TIMEOUT_MS = 120_000

export interface CallPath { deployment: string, module: string, function: string }
export interface FileFlag { mount: string, path: string }

/** `DEPLOYMENT/MODULE/FUNCTION`, exactly three non-empty segments. Pure. */
export function parseCallPath (text: string): CallPath {
  const parts = text.split('/')
  if (parts.length !== 3 || parts.some(p => p === '')) {
    throw new WasmeshError('bad-request', `call: "${text}" is not DEPLOYMENT/MODULE/FUNCTION`)
  }
  return { deployment: parts[0], module: parts[1], function: parts[2] }
}

/** The node's route for a call. Pure. */
export function callRoute (p: CallPath): string {
  return `/${encodeURIComponent(p.deployment)}/modules/${encodeURIComponent(p.module)}/${encodeURIComponent(p.function)}`
}

/** `--file MOUNT=PATH`, repeatable; a mount given twice, or named `args` (the arguments' field), is refused. Pure. */
export function parseFileFlags (values: string[]): FileFlag[] {
  const files: FileFlag[] = []
  for (const value of values) {
    const eq = value.indexOf('=')
    if (eq <= 0 || eq === value.length - 1) throw new WasmeshError('bad-request', `--file: "${value}" is not MOUNT=PATH`)
    const mount = value.slice(0, eq)
    if (mount === 'args') throw new WasmeshError('bad-request', '--file: a mount cannot be named "args" (that field carries the arguments)')
    if (files.some(f => f.mount === mount)) throw new WasmeshError('bad-request', `--file: mount "${mount}" given twice`)
    files.push({ mount, path: value.slice(eq + 1) })
  }
  return files
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/
const INTEGER = /^[+-]?\d+$/

/**
 * One CLI argument as a JSON call argument: a decimal number goes as a number, except an integer that a
 * double cannot hold exactly (an i64 beyond 2^53), which goes as its decimal string; anything else as the
 * string given. Pure.
 */
export function callArg (text: string): number | string {
  if (!NUMBER.test(text)) return text
  const n = Number(text)
  if (INTEGER.test(text) && !Number.isSafeInteger(n)) return text.replace(/^\+/, '')
  return Number.isFinite(n) ? n : text
}

/** `--timeout-ms N`: a positive whole number of milliseconds. Pure. */
export function parseTimeoutMs (text: string | undefined): number {
  if (text === undefined) return DEFAULT_CALL_TIMEOUT_MS
  const n = Number(text)
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n <= 0) throw new WasmeshError('bad-request', `--timeout-ms: "${text}" is not a positive number of milliseconds`)
  return n
}

/** The answer is a value (JSON) rather than an output file. Pure. */
export function isValueAnswer (contentType: string | null): boolean {
  return (contentType ?? '').split(';')[0].trim().toLowerCase() === 'application/json'
}

/**
 * What `call` prints for a value: a number or string as is on one line; nothing for null (a function
 * without a result, as `wasmtime --invoke` prints nothing for one, so `x=$(wasmesh call ...)` stays empty);
 * anything else as JSON. Pure.
 */
export function formatResult (value: unknown): string | null {
  if (value === null || value === undefined) return null
  if (typeof value === 'number' || typeof value === 'string') return String(value)
  return JSON.stringify(value)
}

/** Where a file answer goes: `--out`, else stdout when it is not a terminal; bytes are never dumped on a terminal. Pure. */
export function fileAnswerTarget (out: string | undefined, stdoutIsTTY: boolean): { out: string } | 'stdout' {
  if (out !== undefined) return { out }
  if (stdoutIsTTY) throw new WasmeshError('bad-request', 'the answer is a file: give --out PATH to write it (or redirect stdout)')
  return 'stdout'
}

/** A file to upload, checked before any request; streamed from disk when sent. */
async function checkUpload (f: FileFlag): Promise<FilePart> {
  const what = `--file ${f.mount}`
  let st
  try {
    st = await stat(f.path)
  } catch (err) {
    throw new WasmeshError('bad-request', `${what} ${f.path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`)
  }
  if (!st.isFile()) throw new WasmeshError('bad-request', `${what} ${f.path}: not a file`)
  return { name: f.mount, filename: basename(f.path), path: f.path, size: st.size }
}

/** `--node URL` must be an http(s) URL. Pure. */
export function checkNodeUrl (base: string): string {
  let url: URL | undefined
  try { url = new URL(base) } catch {}
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw new WasmeshError('bad-request', `--node: "${base}" is not an http(s) URL`)
  return base
}

/** `--out PATH` must be writable where it points: an existing directory to put a new file in. */
async function checkOut (out: string): Promise<void> {
  const dir = await stat(dirname(out)).catch(() => undefined)
  if (dir === undefined || !dir.isDirectory()) throw new WasmeshError('bad-request', `--out ${out}: no such directory ${dirname(out)}`)
  if ((await stat(out).catch(() => undefined))?.isDirectory() === true) throw new WasmeshError('bad-request', `--out ${out}: is a directory`)
}

function timeoutError (timeoutMs: number): WasmeshError {
  return new WasmeshError('timeout', `no answer from the node within ${timeoutMs / 1000} s (--timeout-ms to wait longer)`)
}

/** A non-2xx answer as the WasmeshError its SPEC body describes (as requestJson does). Pure. */
export function answerError (status: number, statusText: string, text: string): WasmeshError {
  let body: unknown
  try { body = JSON.parse(text) } catch {}
  return errorFromJSON((body as { error?: unknown } | undefined)?.error, `${status} ${statusText}`.trimEnd())
}

/** Streams a file answer to PATH through a temporary file beside it, so a failed transfer leaves nothing half-written. */
async function writeOut (res: IncomingMessage, out: string): Promise<number> {
  const tmp = join(dirname(out), `.${basename(out)}.${process.pid}.part`)
  const sink = createWriteStream(tmp)
  try {
    await pipeline(res, sink)
    await rename(tmp, out)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
  return sink.bytesWritten
}

async function writeStdout (res: IncomingMessage): Promise<void> {
  // A reader that stops early (`| head -c 100`) closes the pipe: stop quietly, as cat does. The listener
  // stays: writes already queued may still report it.
  let failed: NodeJS.ErrnoException | undefined
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    failed ??= err
    process.stdout.emit('drain')
  })
  for await (const chunk of res) {
    if (failed === undefined && !process.stdout.write(chunk)) await once(process.stdout, 'drain')
    if (failed !== undefined) break
  }
  if (failed !== undefined && failed.code !== 'EPIPE') throw failed
}

/** How much longer than the call's deadline the CLI waits for the node's answer (a timeout error). */
const ANSWER_MARGIN_MS = 5_000

interface CallOpts { node?: string, json?: boolean, file?: string[], out?: string, timeoutMs?: string }

export function callCommand (program: Command): void {
  program.command('call')
    .description('calls a deployed function through the node; prints the result or writes the output file')
    .argument('<path>', 'DEPLOYMENT/MODULE/FUNCTION')
    .argument('[args...]', 'arguments: numbers (64-bit integers beyond 2^53 are sent as strings) or strings')
    .option('--file <mount=path>', 'an execution-stage file for MOUNT, repeatable', (v: string, acc: string[] | undefined) => [...(acc ?? []), v])
    .option('--out <path>', 'write a file answer (output mount) to PATH')
    .option('--timeout-ms <n>', `the call's deadline through the whole chain (default: the node's, 30 s; the CLI waits up to ${DEFAULT_CALL_TIMEOUT_MS} ms)`)
    .option('--node <url>', 'node to ask (default $WASMESH_NODE, else http://127.0.0.1:8080)')
    .option('--json', 'print the answer {"result": ...} as JSON')
    .action(async (pathText: string, args: string[], opts: CallOpts) => {
      // Every usage mistake is found before anything is sent.
      const route = callRoute(parseCallPath(pathText))
      const files = parseFileFlags(opts.file ?? [])
      const timeoutMs = parseTimeoutMs(opts.timeoutMs)
      const base = checkNodeUrl(nodeUrl(opts.node))
      if (opts.out !== undefined) await checkOut(opts.out)
      const uploads = await Promise.all(files.map(checkUpload))
      const argsJson = JSON.stringify(args.map(callArg))
      const body: Body = uploads.length === 0
        ? jsonBody(`{"args":${argsJson}}`)
        : multipartBody([{ name: 'args', value: argsJson }], uploads, newBoundary())

      // The node holds the deadline (it cancels the chain past it); the CLI waits a little longer for its answer.
      const waitMs = opts.timeoutMs === undefined ? timeoutMs : timeoutMs + ANSWER_MARGIN_MS
      const signal = AbortSignal.timeout(waitMs)
      let res: IncomingMessage
      try {
        res = await post(base + route, body, signal, opts.timeoutMs === undefined ? {} : { [TIMEOUT_HEADER]: String(timeoutMs) })
      } catch (err) {
        if (signal.aborted) throw timeoutError(waitMs)
        throw new WasmeshError('unavailable', `cannot reach the node at ${base} (${(err as Error).message}); is "wasmesh start" running there? (--node URL or $WASMESH_NODE)`)
      }
      try {
        const status = res.statusCode ?? 0
        if (status < 200 || status >= 300) throw answerError(status, res.statusMessage ?? '', await readText(res))
        const contentType = res.headers['content-type'] ?? null
        if (isValueAnswer(contentType)) {
          const text = await readText(res)
          let answer: { result?: unknown }
          try {
            answer = JSON.parse(text) as { result?: unknown }
          } catch {
            throw new WasmeshError('internal', `the node answered malformed JSON: ${text.slice(0, 200)}`)
          }
          if (opts.out !== undefined) process.stderr.write(`wasmesh: the answer is a value, not a file; nothing written to ${opts.out}\n`)
          const line = opts.json === true ? JSON.stringify(answer) : formatResult(answer.result)
          if (line !== null) process.stdout.write(line + '\n')
          return
        }
        const target = fileAnswerTarget(opts.out, process.stdout.isTTY === true)
        if (target === 'stdout') {
          await writeStdout(res)
          return
        }
        const bytes = await writeOut(res, target.out)
        const mediaType = contentType ?? 'application/octet-stream'
        process.stdout.write((opts.json === true ? JSON.stringify({ out: target.out, bytes, mediaType }) : `wrote ${target.out} (${bytes} bytes, ${mediaType})`) + '\n')
      } catch (err) {
        if (signal.aborted) throw timeoutError(waitMs)
        throw err
      } finally {
        res.destroy()
      }
    })
}
