import { expect } from 'chai'
import { WasmeshError } from '../../src/errors.ts'
import { SKILL_CATALOG } from '../../src/wasm/skills/catalog.ts'
import { skillsDigest } from '../../src/wasm/skills/descriptor.ts'
import { parseSkillsFile, skillDescriptors } from '../../src/wasm/skills/skills-file.ts'

function badRequest (text: string): WasmeshError {
  try {
    parseSkillsFile(text, 'skills.json')
  } catch (err) {
    expect(err).to.be.instanceOf(WasmeshError)
    expect((err as WasmeshError).code).to.equal('bad-request')
    return err as WasmeshError
  }
  throw new Error('expected a bad-request')
}

describe('skills file', () => {
  it('reads each provider type', () => {
    const skills = parseSkillsFile(JSON.stringify({
      skills: [
        { name: 'camera', provider: { type: 'command', command: 'cat /tmp/img.jpg' } },
        { name: 'dht', provider: { type: 'simulated', values: { temperature: 30, humidity: 55 } } }
      ]
    }))
    expect(skills.map(s => s.name)).to.deep.equal(['camera', 'dht'])
    expect(skills[1].provider).to.deep.equal({ type: 'simulated', values: { temperature: 30, humidity: 55 } })
  })

  it('offers sys always, then the configured skills with their provider type', () => {
    const descriptors = skillDescriptors([{ name: 'camera', provider: { type: 'file', path: '/x' } }])
    expect(descriptors.map(d => d.name)).to.deep.equal(['sys', 'camera'])
    expect(descriptors[1].functions).to.deep.equal(SKILL_CATALOG.camera.functions)
    expect(descriptors[1].meta).to.deep.equal({ provider: 'file' })
  })

  it('refuses an unknown skill, naming it and the known ones', () => {
    const err = badRequest('{"skills":[{"name":"laser","provider":{"type":"simulated"}}]}')
    expect(err.message).to.match(/skills\.0\.name: unknown skill "laser" \(known: camera, dht\)/)
  })

  it('refuses an unknown provider type, naming the field', () => {
    const err = badRequest('{"skills":[{"name":"camera","provider":{"type":"magic"}}]}')
    expect(err.message).to.contain('skills.0.provider')
    expect(err.message).to.contain('unknown provider type')
  })

  it('refuses missing provider fields, extra fields, duplicates, sys and bad JSON', () => {
    expect(badRequest('{"skills":[{"name":"camera","provider":{"type":"command"}}]}').message).to.contain('skills.0.provider.command')
    expect(badRequest('{"skills":[{"name":"camera","provider":{"type":"simulated"},"x":1}]}').message).to.contain('skills.0')
    expect(badRequest('{"skills":[{"name":"dht","provider":{"type":"simulated"}},{"name":"dht","provider":{"type":"simulated"}}]}').message).to.contain('listed twice')
    expect(badRequest('{"skills":[{"name":"sys","provider":{"type":"simulated"}}]}').message).to.contain('built in')
    expect(badRequest('{"skills": [').message).to.contain('not valid JSON')
    expect(badRequest('[]').message).to.contain('(root)')
  })

  it('digests skills independently of order, and differently for different signatures', () => {
    const { sys, camera, dht } = SKILL_CATALOG
    expect(skillsDigest([sys, camera, dht])).to.equal(skillsDigest([dht, sys, camera]))
    expect(skillsDigest([sys, camera])).to.not.equal(skillsDigest([sys, dht]))
    const changed = { ...dht, functions: { ...dht.functions, getTemperature: { params: [], results: ['f64' as const] } } }
    expect(skillsDigest([sys, changed])).to.not.equal(skillsDigest([sys, dht]))
    expect(skillsDigest([sys])).to.match(/^[0-9a-f]{16}$/)
  })

  it('digests a list that can still change afresh each time', () => {
    const { sys, camera, dht } = SKILL_CATALOG
    const open = [sys, camera]
    const before = skillsDigest(open)
    open.push(dht)
    expect(skillsDigest(open)).to.not.equal(before)
    expect(skillsDigest(open)).to.equal(skillsDigest([sys, camera, dht]))
    const frozen = Object.freeze([Object.freeze({ ...sys }), Object.freeze({ ...dht })])
    expect(skillsDigest(frozen)).to.equal(skillsDigest([sys, dht])).and.equal(skillsDigest(frozen))
  })
})
