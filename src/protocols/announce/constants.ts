/** Gossipsub topic that carries signed announcements. */
export const ANNOUNCE_TOPIC = '/wasmesh/announce/1.0.0'
/** Signature domain of the announcement envelope: a signature for anything else never verifies here. */
export const ANNOUNCE_DOMAIN = 'wasmesh-announce'
/** Payload type of the envelope. */
export const ANNOUNCE_PAYLOAD_TYPE = new TextEncoder().encode('/wasmesh/announce/1')
/** An announcement bigger than this (encoded) is dropped unread. */
export const MAX_ANNOUNCEMENT_BYTES = 64 * 1024
/** How often a node re-announces itself when nothing changed. */
export const DEFAULT_HEARTBEAT_MS = 2_000
/**
 * Shortest and longest heartbeat a peer may claim. The longest bounds how long a replayed
 * announcement can keep a dead peer listed; it is long because every node hears every
 * heartbeat, so a mesh of a thousand needs minutes between them. A peer whose connection
 * dropped goes after 1.5 heartbeats instead of 3.5 (PeerTable.markDisconnected), which with
 * such heartbeats is still minutes; only deployments probe their peers at once.
 */
export const MIN_HEARTBEAT_MS = 50
export const MAX_HEARTBEAT_MS = 600_000
/** A peer joining the topic is answered after this long, so that joins close together share one announcement. */
export const JOIN_ANSWER_DELAY_MS = 20
/**
 * How often a node asks a random neighbour for the announcements it missed, at first: gossip can
 * miss a node in a mesh still forming, and the next heartbeat may be minutes away.
 */
export const SYNC_MS = 5_000
/** While asking brings nothing, the wait doubles from SYNC_MS up to this. */
export const MAX_SYNC_MS = 60_000
/** While asking brings news (a mesh forming), the next ask comes this soon. */
export const SYNC_SOON_MS = 1_000
/** Most neighbours queued to be asked at once. */
export const MAX_QUEUED_ASKS = 16
/** Heartbeats a peer may miss before peers drop it. */
export const DEFAULT_MISSED_HEARTBEATS = 3
/** Most listen addresses one announcement carries. */
export const MAX_ANNOUNCED_ADDRS = 32
