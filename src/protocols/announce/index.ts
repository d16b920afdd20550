import { AnnounceService } from './announce.ts'
import type { AnnounceComponents, AnnounceInit } from './announce.ts'

export { AnnounceService } from './announce.ts'
export type { AnnounceInit, AnnounceComponents, AnnounceEvents, AnnouncementContent } from './announce.ts'
export type { Announcement, Load, RejectReason } from './announcement.ts'
export * from './constants.ts'

/** libp2p service factory: `services: { announce: announce({ describe }) }` (needs a `pubsub` service). */
export function announce (init: AnnounceInit): (components: AnnounceComponents) => AnnounceService {
  return (components) => new AnnounceService(components, init)
}
