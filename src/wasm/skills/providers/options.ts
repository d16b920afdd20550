/** How providers may use the node's resources; every default is here. */
export interface ProviderOptions {
  /** a command provider's command is killed after this long (default 5000) */
  commandTimeoutMs?: number
  /** the most bytes a command may print or a file may hold (default 16 MiB) */
  maxBytes?: number
  /** where commands run and relative file paths start (default the process's cwd) */
  cwd?: string
}

export const PROVIDER_DEFAULTS = Object.freeze({
  commandTimeoutMs: 5000,
  maxBytes: 16 * 1024 * 1024,
  /** how much of a failed command's stderr its error quotes */
  stderrTailBytes: 1024
})

/** what the simulated provider gives when the skills file gives no values (SPEC.md) */
export const SIMULATED_DEFAULTS = Object.freeze({
  temperature: 21.5,
  humidity: 40.0,
  imageWidth: 64,
  imageHeight: 48
})

export type ResolvedProviderOptions = Required<ProviderOptions>

export function resolveProviderOptions (options: ProviderOptions = {}): ResolvedProviderOptions {
  return {
    commandTimeoutMs: options.commandTimeoutMs ?? PROVIDER_DEFAULTS.commandTimeoutMs,
    maxBytes: options.maxBytes ?? PROVIDER_DEFAULTS.maxBytes,
    cwd: options.cwd ?? process.cwd()
  }
}
