import { DeployService } from './deploy-service.ts'
import type { DeployComponents } from './deploy-service.ts'

export { DeployService } from './deploy-service.ts'
export type { DeployComponents, DeployHandler, DeployEvents } from './deploy-service.ts'
export type { Bid, DeployAccepted, DeployAnswer, DeployRequest } from './messages.ts'
export { supersedes, participants, involves, deploymentRecordSchema } from './record.ts'
export type { DeploymentRecord, DeploymentStatus, PlacedStep } from './record.ts'
export * from './constants.ts'

/** libp2p service factory: `services: { deploy: deployProtocol() }` (needs a `pubsub` service). */
export function deployProtocol (): (components: DeployComponents) => DeployService {
  return (components) => new DeployService(components)
}
