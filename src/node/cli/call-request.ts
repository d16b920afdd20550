import { once } from 'node:events'
import { createReadStream } from 'node:fs'
import { request as httpRequest } from 'node:http'
import type { IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { randomBytes } from 'node:crypto'
import { pipeline } from 'node:stream/promises'
import type { Writable } from 'node:stream'

/**
 * The one request of `wasmesh call`, on node:http rather than fetch: fetch (Node 24) holds a whole
 * streamed upload in memory (a 300 MB file took 400 MB RSS, node:http 100 MB), and a call may carry
 * big execution-stage files from a small device.
 */

/** A request body as pieces sent in turn: bytes, or a file streamed from disk. */
export interface Body { contentType: string, length: number, pieces: Array<Buffer | { path: string }> }
export interface FilePart { name: string, filename: string, path: string, size: number }

/** A name or filename inside a quoted Content-Disposition value, escaped as browsers do. Pure. */
export function dispositionValue (s: string): string {
  return s.replace(/\r/g, '%0D').replace(/\n/g, '%0A').replace(/"/g, '%22')
}

/** A multipart/form-data body: text fields first, then the files; its length is known up front. Pure. */
export function multipartBody (fields: Array<{ name: string, value: string }>, files: FilePart[], boundary: string): Body {
  const pieces: Body['pieces'] = []
  let length = 0
  const push = (b: Buffer): void => { pieces.push(b); length += b.length }
  for (const f of fields) {
    push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${dispositionValue(f.name)}"\r\n\r\n${f.value}\r\n`))
  }
  for (const f of files) {
    push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${dispositionValue(f.name)}"; filename="${dispositionValue(f.filename)}"\r\nContent-Type: application/octet-stream\r\n\r\n`))
    pieces.push({ path: f.path })
    length += f.size
    push(Buffer.from('\r\n'))
  }
  push(Buffer.from(`--${boundary}--\r\n`))
  return { contentType: `multipart/form-data; boundary=${boundary}`, length, pieces }
}

export function newBoundary (): string {
  return `----wasmesh-${randomBytes(12).toString('hex')}`
}

export function jsonBody (text: string): Body {
  const bytes = Buffer.from(text)
  return { contentType: 'application/json', length: bytes.length, pieces: [bytes] }
}

async function writePieces (req: Writable, pieces: Body['pieces']): Promise<void> {
  for (const piece of pieces) {
    if (Buffer.isBuffer(piece)) {
      if (!req.write(piece)) await once(req, 'drain')
    } else {
      await pipeline(createReadStream(piece.path), req, { end: false })
    }
  }
  req.end()
}

/**
 * POSTs the body and resolves with the answer as soon as its head arrives (a node may answer, say 413,
 * before the upload ends). The signal covers the whole exchange, reading the answer included.
 */
export async function post (url: string, body: Body, signal: AbortSignal, headers: Record<string, string> = {}): Promise<IncomingMessage> {
  const request = new URL(url).protocol === 'https:' ? httpsRequest : httpRequest
  return await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: { ...headers, 'content-type': body.contentType, 'content-length': String(body.length), accept: 'application/json, */*' },
      signal
    })
    let answered = false
    req.on('response', (res) => { answered = true; resolve(res) })
    req.on('error', (err) => { if (!answered) reject(err) })
    // Errors while sending also reach req's 'error'; once answered they no longer matter.
    writePieces(req, body.pieces).catch((err: Error) => { if (!answered) req.destroy(err) })
  })
}

/** The answer's body as text (an error or a value: small). */
export async function readText (res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of res) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
