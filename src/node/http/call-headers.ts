/** A caller's own end-to-end deadline for a call, in ms, instead of the node's default. */
export const TIMEOUT_HEADER = 'x-wasmesh-timeout-ms'
