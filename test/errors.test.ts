import { expect } from 'chai'
import { WasmeshError, errorFromJSON, knownCode } from '../src/errors.ts'

describe('errors read from answers', () => {
  it('keeps a code SPEC.md knows and calls anything else internal', () => {
    expect(knownCode('timeout')).to.equal('timeout')
    expect(knownCode('no-such-code')).to.equal('internal')
    expect(knownCode(42)).to.equal('internal')
  })

  it('rebuilds the error an answer describes, details included, and round-trips toJSON', () => {
    const sent = new WasmeshError('unsatisfiable', 'no camera', { missing: ['camera'] })
    const read = errorFromJSON(sent.toJSON().error, 'fallback')
    expect(read).to.be.instanceOf(WasmeshError)
    expect(read.toJSON()).to.deep.equal(sent.toJSON())
  })

  it('falls back on the given message when the answer has no usable error', () => {
    for (const error of [undefined, null, 'boom', ['x'], { code: 'timeout' }]) {
      const read = errorFromJSON(error, '502 Bad Gateway')
      expect(read.message).to.equal('502 Bad Gateway')
    }
    expect(errorFromJSON({ code: 'timeout' }, 'x').code).to.equal('timeout')
    expect(errorFromJSON({ message: 'odd', code: 'weird' }, 'x').toJSON()).to.deep.equal({ error: { code: 'internal', message: 'odd' } })
  })
})
