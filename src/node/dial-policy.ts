/**
 * When to dial a peer just discovered. Both ends discover each other, and if both dialed each
 * pair would hold two connections; so the lower peer id dials at once and the higher one only
 * if no connection appeared after `fallbackMs` (the lower one may not have seen it yet: mDNS
 * answers the newcomer's query, so only the newcomer discovers). Pure.
 */
export function dialDelayMs (self: string, other: string, fallbackMs: number): number {
  return self < other ? 0 : fallbackMs
}
