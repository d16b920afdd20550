import { WasmeshError, errorFromJSON } from '../../errors.ts'

export const DEFAULT_NODE_URL = 'http://127.0.0.1:8080'
const REQUEST_TIMEOUT_MS = 10_000

/** The node a command talks to: `--node`, else `$WASMESH_NODE`, else the local default. */
export function nodeUrl (flag: string | undefined): string {
  return (flag ?? process.env.WASMESH_NODE ?? DEFAULT_NODE_URL).replace(/\/+$/, '')
}

/** Sends a request to a node and reads its JSON answer; a SPEC error body becomes the WasmeshError it describes. */
export async function requestJson (base: string, path: string, init: { method?: string, body?: RequestInit['body'], headers?: Record<string, string>, timeoutMs?: number } = {}): Promise<unknown> {
  const timeoutMs = init.timeoutMs ?? REQUEST_TIMEOUT_MS
  let res: Response
  try {
    res = await fetch(base + path, { method: init.method, body: init.body, headers: init.headers, signal: AbortSignal.timeout(timeoutMs) })
  } catch (err) {
    const e = err as Error
    const why = e.name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : (e.cause as Error | undefined)?.message ?? e.message
    throw new WasmeshError('unavailable', `cannot reach the node at ${base} (${why}); is "wasmesh start" running there? (--node URL or $WASMESH_NODE)`)
  }
  const body: unknown = await res.json().catch(() => undefined)
  if (!res.ok) {
    throw errorFromJSON((body as { error?: unknown } | undefined)?.error, `${res.status} ${res.statusText}`)
  }
  return body
}
