import { lpStream } from '@libp2p/utils'
import { MAX_ANNOUNCEMENT_BYTES } from './constants.ts'
import type { Stream } from '@libp2p/interface'

/**
 * A node meeting a new neighbour hands it, over one direct stream, the signed announcements of
 * the peers it knows: the newcomer learns the whole mesh from one neighbour instead of every
 * node re-announcing to the whole mesh whenever anyone joins (n² messages, which is what stops
 * a mesh of hundreds from converging). Each announcement is still checked by its signature.
 */
export const TABLE_SYNC_PROTOCOL = '/wasmesh/announce-sync/1.0.0'
/** Most announcements one sync carries (a peer table holds at most 1024). */
export const MAX_SYNC_ENTRIES = 2048
export const SYNC_TIMEOUT_MS = 10_000

/** Writes each envelope as one length-prefixed frame, then closes the stream. */
export async function sendTable (stream: Stream, envelopes: Iterable<Uint8Array>, signal: AbortSignal): Promise<void> {
  const lp = lpStream(stream, { maxDataLength: MAX_ANNOUNCEMENT_BYTES })
  let n = 0
  for (const bytes of envelopes) {
    if (n++ >= MAX_SYNC_ENTRIES) break
    await lp.write(bytes, { signal })
  }
  await stream.close({ signal })
}

/** Reads frames until the sender closes (at most MAX_SYNC_ENTRIES, each at most an announcement's size). */
export async function * readTable (stream: Stream, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  const lp = lpStream(stream, { maxDataLength: MAX_ANNOUNCEMENT_BYTES })
  for (let n = 0; n < MAX_SYNC_ENTRIES; n++) {
    let frame
    try {
      frame = await lp.read({ signal })
    } catch (err) {
      if (signal.aborted) throw err
      return // the sender closed: that was all
    }
    yield frame.subarray()
  }
}
