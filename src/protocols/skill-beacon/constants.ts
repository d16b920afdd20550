/** DNS-SD service under which nodes publish their skill summary, beside @libp2p/mdns's `_p2p._udp.local`. */
export const BEACON_SERVICE = '_wasmesh._udp.local'
export const MDNS_IP = '224.0.0.251'
export const MDNS_PORT = 5353
/** Records' time to live, seconds (as @libp2p/mdns uses). */
export const RECORD_TTL_S = 120
/** A TXT string longer than this is not sent (DNS character-string limit). */
export const MAX_TXT_STRING = 255
/** Stop waits this long at most for the goodbye to be sent. */
export const GOODBYE_TIMEOUT_MS = 200
/** Queries are answered at most this often (RFC 6762 asks 1 s; nodes starting together would wait that long to learn skills). */
export const MIN_ANSWER_INTERVAL_MS = 250
/** Records read from one received packet, at most. */
export const MAX_RECORDS_PER_PACKET = 32
