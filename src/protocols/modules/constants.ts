/** How long a fetch of a module (or any block under it) may take before it fails with `not-found`. */
export const DEFAULT_FETCH_TIMEOUT_MS = 20_000
/** Most modules one announcement lists as held (newest first); the rest are still served, just not announced. */
export const MAX_ANNOUNCED_MODULES = 64
/**
 * The bitswap limits wasmesh runs with: blocks are at most 1 MiB (the import chunk size), so
 * 2 MiB messages hold any of them; a peer's want list is capped.
 */
export const BITSWAP_OPTIONS = {
  maxInboundStreams: 32,
  maxOutboundStreams: 64,
  maxIncomingMessageSize: 4 * 1024 * 1024,
  maxOutgoingMessageSize: 2 * 1024 * 1024,
  maxWantlistSize: 1024,
  messageReceiveTimeout: 10_000,
  messageSendTimeout: 10_000
} as const
/** A module name: not a CID, safe as a datastore key and a URL segment. */
export const MODULE_NAME = /^[A-Za-z_][A-Za-z0-9._-]{0,63}$/
/** A CID as text: CIDv1 in base32, or CIDv0. Checked before parsing, and in announcements. */
export const CID_TEXT = /^(b[a-z2-7]{20,120}|Qm[1-9A-HJ-NP-Za-km-z]{44})$/
