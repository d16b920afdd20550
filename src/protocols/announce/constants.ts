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
 * heartbeat, so a mesh of a thousand needs minutes between them (peers that drop their
 * connection are noticed sooner: see PeerTable.markDisconnected).
 */
export const MIN_HEARTBEAT_MS = 50
export const MAX_HEARTBEAT_MS = 600_000
/** A peer joining the topic is answered after this long, so that joins close together share one announcement. */
export const JOIN_ANSWER_DELAY_MS = 20
/** Heartbeats a peer may miss before peers drop it. */
export const DEFAULT_MISSED_HEARTBEATS = 3
/** Most listen addresses one announcement carries. */
export const MAX_ANNOUNCED_ADDRS = 32
