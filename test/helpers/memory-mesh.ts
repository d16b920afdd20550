import { MemoryLan, memoryParts } from '../../sim/memory-lan.ts'
import { WasmeshNode } from '../../src/node/node.ts'
import type { DeployOptions } from '../../src/node/deployments/options.ts'
import type { ConfiguredSkill } from '../../src/wasm/skills/skills-file.ts'

export interface MeshOptions {
  heartbeatMs?: number
  skills?: (i: number) => ConfiguredSkill[]
  deploy?: (i: number) => Partial<DeployOptions>
}

/** `n` started nodes on one in-process LAN, named n0..n{n-1}. */
export async function startMemoryMesh (n: number, opts: MeshOptions = {}): Promise<{ lan: MemoryLan, nodes: WasmeshNode[] }> {
  const lan = new MemoryLan()
  const nodes = await Promise.all(Array.from({ length: n }, async (_, i) => await WasmeshNode.create({
    name: `n${i}`,
    http: false,
    heartbeatMs: opts.heartbeatMs,
    skills: opts.skills?.(i) ?? [],
    deploy: opts.deploy?.(i),
    parts: await memoryParts(lan)
  })))
  await Promise.all(nodes.map(async node => { await node.start() }))
  return { lan, nodes }
}

export async function stopAll (nodes: WasmeshNode[]): Promise<void> {
  await Promise.allSettled(nodes.map(async node => { await node.stop() }))
}
