/**
 * multipart/form-data bodies for Fastify's `inject`, encoded by the platform's own FormData
 * (as `fetch` would send them), so the tests exercise the same bytes a client produces.
 */

/** A part: text for a field, or a file (bytes with an optional media type and file name). */
export type Part = string | { bytes: Uint8Array, type?: string, filename?: string }

export interface EncodedForm {
  payload: Buffer
  headers: { 'content-type': string }
}

/** Encodes the parts in order; a name may repeat by giving a list of [name, part] pairs. */
export async function multipartBody (parts: Record<string, Part> | Array<[string, Part]>): Promise<EncodedForm> {
  const form = new FormData()
  for (const [name, part] of Array.isArray(parts) ? parts : Object.entries(parts)) {
    if (typeof part === 'string') form.append(name, part)
    else form.append(name, new Blob([Buffer.from(part.bytes)], part.type === undefined ? {} : { type: part.type }), part.filename ?? name)
  }
  const req = new Request('http://x/', { method: 'POST', body: form })
  const contentType = req.headers.get('content-type')
  if (contentType === null) throw new Error('FormData gave no content type')
  return { payload: Buffer.from(await req.arrayBuffer()), headers: { 'content-type': contentType } }
}
