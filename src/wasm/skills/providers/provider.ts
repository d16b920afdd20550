/** Where a skill's values come from, on the node's main thread. */
export interface SkillProvider {
  /** one value of `quantity` (bytes or a number, see SKILL_QUANTITIES); rejects early when `signal` aborts */
  read (quantity: string, signal: AbortSignal): Promise<Uint8Array | number>
}
