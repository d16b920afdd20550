/** Control messages of placement: bids, awards, commits. One stream per request: they are few. */
export const DEPLOY_PROTOCOL = '/wasmesh/deploy/1.0.0'
/** Deployment records, so every node of the mesh can route calls for every deployment. */
export const DEPLOYMENTS_TOPIC = 'wasmesh/deployments/1'
/** Largest request, answer or record accepted. */
export const MAX_DEPLOY_MESSAGE_BYTES = 256 * 1024
export const MAX_INBOUND_STREAMS = 64
export const MAX_OUTBOUND_STREAMS = 128

export const DEPLOY_DEFAULTS = {
  /** How long a candidate has to bid, once the stream to it is open. */
  bidTimeoutMs: 300,
  /** How long a winner has to fetch the module and files and start the guest. */
  prepareTimeoutMs: 30_000,
  /** How long a participant has to take a commit or an abort. */
  commitTimeoutMs: 5_000,
  /** A prepared step not committed within this is dropped (its coordinator is gone). */
  preparedTtlMs: 60_000,
  /** The coordinator renews its lease with each participant this often, directly (a commit of the unchanged record). */
  leaseRenewMs: 1_000,
  /** A coordinator not heard from for this long has lost its lease (with nodes that take no part: see `republishMs`). */
  leaseMs: 4_000,
  /**
   * The coordinator re-publishes its records to the whole mesh this often, for nodes that missed
   * a change (a gossip renewal each lease period would cost every node of a big mesh a message
   * per deployment per second). Nodes that take no part allow one missed re-publication.
   */
  republishMs: 10_000,
  /**
   * How many peers new to a coordinator it tells of its records directly in one lease period;
   * past that (a restart, a partition healing in a big mesh: every peer is new at once) the rest
   * hear at the next period's gossip re-publication instead of a stream each.
   */
  joinTellsPerRenewal: 16,
  /**
   * When a coordinator is gone, a node this close to the head of the succession (one more for
   * each renewal period the deployment stays without one past its lease) dials those ahead of it it has no
   * connection to: one that died with the coordinator would stay in the tables until its
   * heartbeats lapse, and hold everyone back.
   */
  probeAhead: 3,
  /** How long a dial to a peer that dropped its connection may take before it counts as gone. */
  probeTimeoutMs: 750,
  /** Candidates asked to bid per step, best announced first (all of them on a small LAN). */
  maxBidders: 16
} as const
