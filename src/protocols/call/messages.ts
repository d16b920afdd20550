/**
 * What a bridged call carries between peers, independent of how it is framed on the wire.
 * A call names a deployment step; the host runs it and passes the answer on to the next
 * step's host, so the request also carries what remains of the caller's deadline.
 */

/** A file travelling with a call: an execution-stage mount's input, or an output coming back. */
export interface CallFile {
  /** the mount the file is for (execution stage), or the output mount it came from */
  mount: string
  mediaType: string
  bytes: Uint8Array
}

export interface CallRequest {
  deployment: string
  /** index of the step to run first; the steps after it follow */
  step: number
  /** the record version the caller routed by (a host with a newer one still serves it) */
  version: number
  /** user-level arguments: numbers, or numeric strings for 64-bit integers */
  args: Array<number | string>
  files: CallFile[]
  /** what remains of the end-to-end deadline, in ms (relative: peers' clocks differ) */
  budgetMs: number
}

/** A step's (and so a chain's) answer. */
export type CallAnswer =
  | { kind: 'value', value: number | string }
  | { kind: 'file', file: CallFile }
  | { kind: 'none' }
