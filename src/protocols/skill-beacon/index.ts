import { SkillBeacon } from './beacon.ts'
import type { SkillBeaconComponents, SkillBeaconInit } from './beacon.ts'

export { SkillBeacon } from './beacon.ts'
export type { SkillBeaconInit, SkillBeaconComponents, SkillBeaconEvents } from './beacon.ts'
export type { SkillSummary } from './summary.ts'
export { summaryFromTxt, summaryToTxt } from './summary.ts'

/** libp2p service factory: `services: { beacon: skillBeacon() }`. */
export function skillBeacon (init: SkillBeaconInit = {}): (components: SkillBeaconComponents) => SkillBeacon {
  return (components) => new SkillBeacon(components, init)
}
