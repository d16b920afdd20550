import { lpStream } from '@libp2p/utils'
import { MAX_ANNOUNCEMENT_BYTES } from './constants.ts'
import type { Stream } from '@libp2p/interface'

/**
 * A node meeting a new neighbour asks it, over one direct stream, for the signed announcements
 * it knows and this node does not (newer than this node's): the newcomer learns the whole mesh
 * from its first neighbour, and two halves of a healed LAN learn each other where they meet,
 * instead of every node re-announcing to the whole mesh whenever anyone joins (n² messages,
 * which is what stops a mesh of hundreds from converging). The request carries what the asker
 * knows (peer id and sequence of each), so only what it lacks comes back; each announcement is
 * still checked by its signature.
 */
export const TABLE_SYNC_PROTOCOL = '/wasmesh/announce-sync/1.0.0'
/** Most announcements one sync carries, and most entries a request lists (a peer table holds at most 1024). */
export const MAX_SYNC_ENTRIES = 2048
export const SYNC_TIMEOUT_MS = 10_000
/** A request: up to MAX_SYNC_ENTRIES [peer id, seq] pairs as JSON. */
const MAX_REQUEST_BYTES = MAX_SYNC_ENTRIES * 96

export type Known = Array<[string, number]>

/** The asking end: sends what it knows, yields the envelopes that come back until the other end closes. */
export async function * askTable (stream: Stream, known: Known, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  // The limit applies to what is read: announcements (the request written may be longer).
  const lp = lpStream(stream, { maxDataLength: MAX_ANNOUNCEMENT_BYTES })
  await lp.write(new TextEncoder().encode(JSON.stringify(known)), { signal })
  for (let n = 0; n < MAX_SYNC_ENTRIES; n++) {
    let frame
    try {
      frame = await lp.read({ signal })
    } catch (err) {
      if (!signal.aborted && (err as Error).name === 'UnexpectedEOFError') return // the other end closed: that was all
      throw err // too long, aborted, reset
    }
    yield frame.subarray()
  }
}

/**
 * The answering end: reads what the asker knows, then writes each envelope `pick` chooses given
 * that (one length-prefixed frame each) and closes.
 */
export async function answerTable (stream: Stream, pick: (known: Map<string, number>) => Uint8Array[], signal: AbortSignal): Promise<void> {
  const lp = lpStream(stream, { maxDataLength: MAX_REQUEST_BYTES })
  const known = parseKnown(new TextDecoder().decode((await lp.read({ signal })).subarray()))
  let n = 0
  for (const bytes of pick(known)) {
    if (n++ >= MAX_SYNC_ENTRIES) break
    await lp.write(bytes, { signal })
  }
  await stream.close({ signal })
}

/** A request's list, or an error naming what is wrong with it. Pure. */
export function parseKnown (text: string): Map<string, number> {
  const json: unknown = JSON.parse(text)
  if (!Array.isArray(json) || json.length > MAX_SYNC_ENTRIES) throw new Error('a table request is a list of at most 2048 [peer id, seq] pairs')
  const known = new Map<string, number>()
  for (const pair of json) {
    if (!Array.isArray(pair) || typeof pair[0] !== 'string' || pair[0].length > 128 || typeof pair[1] !== 'number') throw new Error('a table request entry is [peer id, seq]')
    known.set(pair[0], pair[1])
  }
  return known
}
