/** The protocol of bridged calls: one long-lived stream per caller and host, many calls on it. */
export const CALL_PROTOCOL = '/wasmesh/call/1.0.0'

/**
 * Largest frame payload either side sends or accepts. A frame announcing more is a broken or
 * hostile peer: its stream is dropped. File chunks and headers are both below it.
 */
export const MAX_FRAME_PAYLOAD_BYTES = 1024 * 1024

/** Files of one call (all together, either direction) a node takes by default. */
export const DEFAULT_MAX_FILE_BYTES = 256 * 1024 * 1024
/** A request's or answer's header (everything but file bytes) a node takes by default. */
export const DEFAULT_MAX_HEADER_BYTES = 64 * 1024
/** File bytes per chunk frame: big enough to amortise framing, small enough to interleave calls. */
export const DEFAULT_CHUNK_BYTES = 256 * 1024
/** Smallest chunk a node cuts files into (a smaller setting is raised to it). */
export const MIN_CHUNK_BYTES = 1024
/** Dial plus stream negotiation. */
export const DEFAULT_OPEN_TIMEOUT_MS = 3_000

/**
 * Streams per connection: one per direction is used; a few more let a replacement open while a
 * dying one winds down, and leave room for a peer's stray stream without refusing the real one.
 */
export const MAX_INBOUND_STREAMS = 4
export const MAX_OUTBOUND_STREAMS = 4

/** Calls one caller may have in flight on one stream; more are refused as not started (busy). */
export const MAX_CALLS_PER_STREAM = 4096
/**
 * File bytes a host holds for one caller's calls in flight, as a multiple of maxFileBytes: more
 * are refused as not started, so one peer cannot pin unbounded memory with many half-sent calls.
 */
export const STREAM_FILE_BYTES_FACTOR = 4

/** Longest budget honoured (setTimeout's own limit is about 24.8 days). */
export const MAX_BUDGET_MS = 24 * 60 * 60 * 1000
/** How long stop() waits for a stream to close cleanly before resetting it. */
export const CLOSE_TIMEOUT_MS = 500
