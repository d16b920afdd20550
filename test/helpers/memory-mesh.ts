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
  return { lan, nodes: await joinMemoryMesh(lan, Array.from({ length: n }, (_, i) => `n${i}`), opts) }
}

/** Nodes of these names started on the LAN (the i of `opts`' functions is the index in `names`). */
export async function joinMemoryMesh (lan: MemoryLan, names: string[], opts: MeshOptions = {}): Promise<WasmeshNode[]> {
  const nodes = await Promise.all(names.map(async (name, i) => await WasmeshNode.create({
    name,
    http: false,
    heartbeatMs: opts.heartbeatMs,
    skills: opts.skills?.(i) ?? [],
    deploy: opts.deploy?.(i),
    parts: await memoryParts(lan)
  })))
  await Promise.all(nodes.map(async node => { await node.start() }))
  return nodes
}

export async function stopAll (nodes: WasmeshNode[]): Promise<void> {
  await Promise.allSettled(nodes.map(async node => { await node.stop() }))
}
