import { DEFAULT_MAX_FILE_BYTES, DEFAULT_OPEN_TIMEOUT_MS } from '../../protocols/call/index.ts'
import { DEPLOY_DEFAULTS } from '../../protocols/deploy/index.ts'

/** How placement and calls behave; every field has a default here. */
export interface DeployOptions {
  bidTimeoutMs: number
  /** how long opening a deploy request's stream may take, a first dial included (its answer's timeout starts after) */
  openTimeoutMs: number
  prepareTimeoutMs: number
  commitTimeoutMs: number
  preparedTtlMs: number
  leaseRenewMs: number
  leaseMs: number
  republishMs: number
  joinTellsPerRenewal: number
  probeAhead: number
  probeTimeoutMs: number
  maxBidders: number
  /** how long resolving (fetching) a step's module may take at deploy time */
  resolveTimeoutMs: number
  /** a call's end-to-end deadline when the caller gives none */
  callTimeoutMs: number
  /** most bytes of files one call may carry (in or out) */
  maxCallFileBytes: number
}

export const DEFAULT_DEPLOY_OPTIONS: DeployOptions = {
  ...DEPLOY_DEFAULTS,
  // the same wait as a call's first stream to a peer
  openTimeoutMs: DEFAULT_OPEN_TIMEOUT_MS,
  resolveTimeoutMs: 20_000,
  callTimeoutMs: 30_000,
  maxCallFileBytes: DEFAULT_MAX_FILE_BYTES
}
