/**
 * Runs one skill beacon (no libp2p around it) and prints, one JSON line each, the summaries it
 * hears. argv: name, skills (comma-separated), listen time (ms). For the netns beacon test.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { SkillBeacon } from '../../src/protocols/skill-beacon/index.ts'
import type { ComponentLogger } from '@libp2p/interface'

const [name, skills, ms] = process.argv.slice(2)
const quiet = Object.assign(() => {}, { error: () => {}, trace: () => {}, enabled: false })
const logger = { forComponent: () => quiet } as unknown as ComponentLogger
const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
const beacon = new SkillBeacon({ peerId, logger })
beacon.on('summary', (s) => process.stdout.write(JSON.stringify(s) + '\n'))
beacon.on('goodbye', (id) => process.stdout.write(JSON.stringify({ goodbye: id }) + '\n'))
await beacon.start()
beacon.publish({ peerId: peerId.toString(), name, skills: skills.split(','), digest: '00112233445566ff', http: null })
process.stdout.write(JSON.stringify({ self: peerId.toString() }) + '\n')
setTimeout(() => { void beacon.stop().then(() => process.exit(0)) }, Number(ms))
