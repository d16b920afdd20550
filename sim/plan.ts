import { Rng } from './rng.ts'
import type { ConfiguredSkill } from '../src/wasm/skills/skills-file.ts'
import type { Scenario, SimEvent } from './scenario.ts'

/** Skills by name as a simulated node offers them: with simulated data (../shared/SPEC.md). */
export function simulatedSkills (names: string[]): ConfiguredSkill[] {
  return names.map(name => ({ name, provider: { type: 'simulated' } }))
}

export interface PlannedNode {
  index: number
  name: string
  worker: number
  skills: string[]
}

/** An event with its nodes chosen: what the run does at `atMs` after the load begins. */
export type PlannedAction =
  | { type: 'crash' | 'leave', atMs: number, nodes: number[] }
  | { type: 'join', atMs: number, nodes: PlannedNode[] }
  | { type: 'partition', atMs: number, segments: number[][] }
  | { type: 'heal', atMs: number }
  | { type: 'skills', atMs: number, nodes: Array<{ index: number, skills: string[] }> }

export interface Plan {
  nodes: PlannedNode[]
  /** module name -> the nodes it is added on */
  holders: Map<string, number[]>
  actions: PlannedAction[]
}

/**
 * Everything the seed decides, before anything runs: which node offers which skill, which
 * thread runs it, which nodes modules are added on, and which nodes each event touches (chosen
 * among those alive then). Pure.
 */
export function planScenario (s: Scenario): Plan {
  const rng = new Rng(s.seed)
  const nodes: PlannedNode[] = Array.from({ length: s.nodes }, (_, i) => ({ index: i, name: `n${i}`, worker: i % s.workers, skills: [] }))
  const indices = nodes.map(n => n.index)
  for (const skill of s.skills) {
    const k = 'share' in skill ? Math.round(skill.share * s.nodes) : Math.min(skill.nodes, s.nodes)
    for (const i of rng.sample(indices, k)) nodes[i].skills.push(skill.name)
  }
  const holders = new Map(s.modules.map(m => [m.name, rng.sample(indices, m.nodes).sort((a, b) => a - b)]))
  const alive = new Set(indices)
  const skillsOf = new Map(nodes.map(n => [n.index, n.skills]))
  let next = s.nodes
  const actions: PlannedAction[] = []
  for (const event of [...s.events].sort((a, b) => a.at - b.at)) {
    actions.push(resolve(event, rng, alive, skillsOf, () => next++, s.workers))
  }
  return { nodes, holders, actions }
}

function resolve (event: SimEvent, rng: Rng, alive: Set<number>, skillsOf: Map<number, string[]>, nextIndex: () => number, workers: number): PlannedAction {
  const atMs = Math.round(event.at * 1000)
  const live = [...alive]
  switch (event.type) {
    case 'crash':
    case 'leave': {
      const k = event.count ?? Math.round((event.fraction ?? 0) * live.length)
      const chosen = rng.sample(live, k).sort((a, b) => a - b)
      for (const i of chosen) alive.delete(i)
      return { type: event.type, atMs, nodes: chosen }
    }
    case 'join': {
      const joined = Array.from({ length: event.count }, () => {
        const index = nextIndex()
        alive.add(index)
        skillsOf.set(index, [...event.skills])
        return { index, name: `n${index}`, worker: index % workers, skills: [...event.skills] }
      })
      return { type: 'join', atMs, nodes: joined }
    }
    case 'partition': {
      const order = rng.sample(live, live.length)
      const total = event.segments.reduce((a, b) => a + b, 0)
      const segments: number[][] = []
      let from = 0
      event.segments.forEach((size, i) => {
        const to = i === event.segments.length - 1 ? order.length : from + Math.round(size / total * order.length)
        segments.push(order.slice(from, to).sort((a, b) => a - b))
        from = to
      })
      return { type: 'partition', atMs, segments }
    }
    case 'heal':
      return { type: 'heal', atMs }
    case 'skills': {
      const chosen = rng.sample(live, event.count).sort((a, b) => a - b)
      return {
        type: 'skills',
        atMs,
        nodes: chosen.map(index => {
          const had = skillsOf.get(index) ?? []
          const skills = [...new Set([...had.filter(x => !event.remove.includes(x)), ...event.add])]
          skillsOf.set(index, skills)
          return { index, skills }
        })
      }
    }
  }
}
