import { expect } from 'chai'
import { moduleDescriptionSchema } from '../../src/wasm/describe/description.ts'
import {
  assertDeploymentFiles, attachDeploymentFiles, missingDeploymentFiles, unexpectedFiles
} from '../../src/wasm/describe/mounts.ts'
import { normalizeDescription } from '../../src/wasm/describe/normalize.ts'
import { WasmeshError } from '../../src/errors.ts'
import { moduleInfo } from '../helpers/module-info.ts'

/** The examples of wasmiot's own modules: a camera, an image filter with a model file, fibonacci. */
const WASMIOT_INFO = moduleInfo({
  take_image: [[], []],
  grayscale: [[], []],
  fibo: [['i64'], ['i64']],
  alloc: [['i32'], ['i32']]
})

const WASMIOT_DESCRIPTION = {
  take_image: {
    method: 'GET',
    mounts: [{ name: 'image.jpeg', stage: 'output' }],
    output: 'image/jpeg'
  },
  grayscale: {
    method: 'POST',
    mounts: [
      { name: 'img.png', stage: 'execution', mediaType: 'image/png' },
      { name: 'model.bin', stage: 'deployment' },
      { name: 'out.png', stage: 'output', mediaType: 'image/png' }
    ],
    output: 'image/png'
  },
  fibo: { method: 'get', param0: 'integer', output: 'integer' }
}

/** Runs `fn`, expecting a bad-request; returns it for the message checks. */
function badRequest (fn: () => unknown): WasmeshError {
  try {
    fn()
  } catch (err) {
    expect(err).to.be.instanceOf(WasmeshError)
    expect((err as WasmeshError).code).to.equal('bad-request')
    return err as WasmeshError
  }
  throw new Error('expected a bad-request')
}

const CALC = moduleInfo({
  add: [['i32', 'i32'], ['i32']],
  scale: [['f64', 'f32'], ['f64']],
  big: [['i64'], ['i64']],
  tick: [[], []],
  pair: [['i32'], ['i32', 'i32']],
  vec: [['v128'], []]
})

describe('module description: normalize', () => {
  it('reads the wasmiot describe shape (camera, image filter with a model file, fibo)', () => {
    const desc = normalizeDescription(WASMIOT_DESCRIPTION, WASMIOT_INFO)
    expect(desc).to.deep.equal({
      functions: {
        take_image: {
          method: 'get',
          parameters: [],
          result: { mediaType: 'image/jpeg' },
          // wasmiot gives an output file's media type as `output`
          mounts: [{ name: 'image.jpeg', mediaType: 'image/jpeg', stage: 'output' }]
        },
        grayscale: {
          method: 'post',
          parameters: [],
          result: { mediaType: 'image/png' },
          mounts: [
            { name: 'img.png', mediaType: 'image/png', stage: 'execution' },
            { name: 'model.bin', mediaType: 'application/octet-stream', stage: 'deployment' },
            { name: 'out.png', mediaType: 'image/png', stage: 'output' }
          ]
        },
        fibo: { method: 'get', parameters: [{ name: 'param0', type: 'i64' }], result: { type: 'i64' }, mounts: [] }
      }
    })
    expect(moduleDescriptionSchema.safeParse(desc).success).to.equal(true)
  })

  it('reads wasmiot mounts given as an object keyed by name, parameters as a list, any-case words', () => {
    const desc = normalizeDescription({
      grayscale: { method: 'Post', mounts: { 'img.png': { stage: 'Execution' }, 'model.bin': { stage: 'deployment', mediaType: 'Application/X-Model' } } },
      fibo: { method: 'GET', parameters: [{ name: 'n', type: 'Integer' }] }
    }, WASMIOT_INFO)
    expect(desc.functions.grayscale).to.deep.equal({
      method: 'post',
      parameters: [],
      result: null,
      mounts: [
        { name: 'img.png', mediaType: 'application/octet-stream', stage: 'execution' },
        { name: 'model.bin', mediaType: 'application/x-model', stage: 'deployment' }
      ]
    })
    expect(desc.functions.fibo).to.deep.equal({ method: 'get', parameters: [{ name: 'n', type: 'i64' }], result: { type: 'i64' }, mounts: [] })
  })

  it('reads our shape, defaulting method, mediaType, parameters and result', () => {
    const desc = normalizeDescription({
      functions: {
        add: { parameters: [{ name: 'a', type: 'i32' }, { name: 'b' }] },
        scale: { method: 'post', parameters: [{ name: 'x', type: 'float' }, { name: 'k', type: 'f32' }], result: { type: 'f64' } },
        big: {},
        tick: { mounts: [{ name: 'in.csv', stage: 'execution', mediaType: 'text/csv' }] },
        pair: { result: null }
      }
    }, CALC)
    expect(desc.functions).to.deep.equal({
      add: { method: 'get', parameters: [{ name: 'a', type: 'i32' }, { name: 'b', type: 'i32' }], result: { type: 'i32' }, mounts: [] },
      scale: { method: 'post', parameters: [{ name: 'x', type: 'f64' }, { name: 'k', type: 'f32' }], result: { type: 'f64' }, mounts: [] },
      big: { method: 'get', parameters: [{ name: 'arg0', type: 'i64' }], result: { type: 'i64' }, mounts: [] },
      tick: { method: 'post', parameters: [], result: null, mounts: [{ name: 'in.csv', mediaType: 'text/csv', stage: 'execution' }] },
      pair: { method: 'get', parameters: [{ name: 'arg0', type: 'i32' }], result: null, mounts: [] }
    })
    expect(moduleDescriptionSchema.safeParse(desc).success).to.equal(true)
  })

  it('gives an untyped output mount the declared media type, in either shape', () => {
    const info = moduleInfo({ snap: [[], ['i32']] })
    const ours = normalizeDescription({ functions: { snap: { result: { mediaType: 'image/webp' }, mounts: [{ name: 'o.webp', stage: 'output' }] } } }, info)
    const theirs = normalizeDescription({ snap: { method: 'GET', output: 'image/webp', mounts: { 'o.webp': { stage: 'output' } } } }, info)
    for (const desc of [ours, theirs]) {
      expect(desc.functions.snap).to.deep.equal({
        method: 'get', parameters: [], result: { mediaType: 'image/webp' }, mounts: [{ name: 'o.webp', mediaType: 'image/webp', stage: 'output' }]
      })
    }
    // the output file is the answer, whatever the export returns
    const mountOnly = normalizeDescription({ snap: { mounts: [{ name: 'o.bin', stage: 'output' }] } }, info)
    expect(mountOnly.functions.snap.result).to.deep.equal({ mediaType: 'application/octet-stream' })
  })

  it('tells our shape from a wasmiot description of an export named "functions"', () => {
    const info = moduleInfo({ functions: [['i32'], ['i32']] })
    const desc = normalizeDescription({ functions: { method: 'GET', param0: 'integer' } }, info)
    expect(desc.functions.functions.parameters).to.deep.equal([{ name: 'param0', type: 'i32' }])
  })

  it('accepts an empty description', () => {
    expect(normalizeDescription({}, CALC)).to.deep.equal({ functions: {} })
    expect(normalizeDescription({ functions: {} }, CALC)).to.deep.equal({ functions: {} })
  })
})

describe('module description: rejections name the field', () => {
  const norm = (input: unknown) => () => normalizeDescription(input, CALC)

  it('not an object', () => {
    for (const input of [null, [], 'add', 42]) {
      expect(badRequest(norm(input)).message).to.match(/\(root\): expected an object/)
    }
    expect(badRequest(norm({ add: 'GET' })).message).to.match(/add: the description of function "add" must be an object/)
    expect(badRequest(norm({ functions: { add: {} }, name: 'x' })).message).to.match(/name: unknown field/)
  })

  it('a function the module does not export', () => {
    const err = badRequest(norm({ functions: { nope: {} } }))
    expect(err.message).to.match(/functions\.nope: "nope" is not a function export of the module \(its functions: add, scale/)
    expect(err.details).to.deep.equal({ field: 'functions.nope' })
    expect(badRequest(norm({ memory: {} })).message).to.match(/memory: "memory" is not a function export/)
  })

  it('a parameter count that differs from the signature', () => {
    expect(badRequest(norm({ functions: { add: { parameters: [{ name: 'a' }] } } })).message)
      .to.match(/functions\.add\.parameters: function "add" takes 2 parameter\(s\) \(i32, i32\) but the description gives 1/)
    expect(badRequest(norm({ add: { param0: 'integer', param1: 'integer', param2: 'integer' } })).message)
      .to.match(/add: function "add" takes 2 parameter/)
    expect(badRequest(norm({ add: { param0: 'integer', param2: 'integer' } })).message).to.match(/add\.param1: param1 is missing/)
    expect(badRequest(norm({ add: { param0: 'i32', parameters: [] } })).message).to.match(/add\.param0: give "parameters" or param0/)
  })

  it('a parameter or result type that contradicts the signature', () => {
    expect(badRequest(norm({ functions: { add: { parameters: [{ name: 'a', type: 'float' }, { name: 'b' }] } } })).message)
      .to.match(/functions\.add\.parameters\.0\.type: parameter "a" is declared "float" but the export's signature says i32/)
    expect(badRequest(norm({ big: { param0: 'i32' } })).message).to.match(/big\.param0: parameter "param0" is declared "i32" but .* says i64/)
    expect(badRequest(norm({ scale: { param0: 'integer', param1: 'float' } })).message).to.match(/scale\.param0: .*declared "integer".* f64/)
    expect(badRequest(norm({ add: { param0: 'string', param1: 'i32' } })).message).to.match(/add\.param0: parameter "param0": unknown type "string"/)
    expect(badRequest(norm({ add: { output: 'float' } })).message).to.match(/add\.output: the result of "add" is declared "float" but .* says i32/)
    expect(badRequest(norm({ functions: { tick: { result: { type: 'i32' } } } })).message)
      .to.match(/functions\.tick\.result\.type: function "tick" is declared to return "i32" but its signature returns nothing/)
    expect(badRequest(norm({ vec: {} })).message).to.match(/vec\.parameters: .*v128 in the signature, which cannot be passed over HTTP/)
    expect(badRequest(norm({ pair: {} })).message).to.match(/pair: function "pair" returns 2 values/)
  })

  it('a bad stage, method or result', () => {
    expect(badRequest(norm({ tick: { mounts: [{ name: 'a', stage: 'setup' }] } })).message)
      .to.match(/tick\.mounts\.0\.stage: mount "a": stage "setup" is not one of deployment, execution, output/)
    expect(badRequest(norm({ tick: { mounts: { a: { stage: 'later' } } } })).message).to.match(/tick\.mounts\.a\.stage: /)
    expect(badRequest(norm({ tick: { mounts: [{ name: 'a' }] } })).message).to.match(/tick\.mounts\.0\.stage: /)
    expect(badRequest(norm({ tick: { method: 'PUT' } })).message).to.match(/tick\.method: method "PUT" is neither GET nor POST/)
    expect(badRequest(norm({ functions: { tick: { result: 'i32' } } })).message).to.match(/functions\.tick\.result: expected null/)
    expect(badRequest(norm({ tick: { output: 'image/png' } })).message)
      .to.match(/tick\.output: function "tick" answers a file of type image\/png but has no output-stage mount/)
    expect(badRequest(norm({ tick: { output: 'text/plain', mounts: [{ name: 'o', stage: 'output', mediaType: 'image/png' }] } })).message)
      .to.match(/tick\.output: the answer's media type text\/plain contradicts output mount "o" \(image\/png\)/)
    expect(badRequest(norm({ tick: { mounts: [{ name: 'o', stage: 'output' }, { name: 'p', stage: 'output' }] } })).message)
      .to.match(/tick\.mounts: at most one output-stage mount/)
  })

  it('duplicate mount or parameter names', () => {
    expect(badRequest(norm({ tick: { mounts: [{ name: 'a', stage: 'execution' }, { name: 'a', stage: 'deployment' }] } })).message)
      .to.match(/tick\.mounts\.1\.name: duplicate mount name "a"/)
    expect(badRequest(norm({ functions: { add: { parameters: [{ name: 'x' }, { name: 'x' }] } } })).message)
      .to.match(/functions\.add\.parameters\.1\.name: duplicate parameter name "x"/)
  })

  it('names with control characters, too long, or climbing out of the sandbox', () => {
    expect(badRequest(norm({ functions: { add: { parameters: [{ name: 'a\nb' }, { name: 'b' }] } } })).message)
      .to.match(/functions\.add\.parameters\.0\.name: parameter name "a\\nb" contains control characters/)
    expect(badRequest(norm({ tick: { mounts: [{ name: 'x'.repeat(129), stage: 'execution' }] } })).message)
      .to.match(/tick\.mounts\.0\.name: mount name is longer than 128 characters/)
    expect(badRequest(norm({ ['f\u0000']: {} })).message).to.match(/function name "f\\u0000" contains control characters/)
    expect(badRequest(norm({ ['f'.repeat(200)]: {} })).message).to.match(/function name is longer than 128/)
    expect(badRequest(norm({ tick: { mounts: [{ name: '', stage: 'execution' }] } })).message).to.match(/tick\.mounts\.0\.name: mount name must not be empty/)
    expect(badRequest(norm({ tick: { mounts: [{ name: '../etc/passwd', stage: 'deployment' }] } })).message)
      .to.match(/tick\.mounts\.0\.name: mount name "\.\.\/etc\/passwd" must be a relative path/)
    expect(badRequest(norm({ tick: { mounts: [{ name: '/abs', stage: 'deployment' }] } })).message).to.match(/must be a relative path/)
  })

  it('more than 256 functions, 32 parameters or 32 mounts', () => {
    const many = Object.fromEntries(Array.from({ length: 257 }, (_, i) => [`f${i}`, {}]))
    expect(badRequest(norm(many)).message).to.match(/\(root\): at most 256 functions \(got 257\)/)
    expect(badRequest(norm({ functions: many })).message).to.match(/functions: at most 256 functions/)
    const params = Array.from({ length: 33 }, (_, i) => ({ name: `p${i}` }))
    expect(badRequest(norm({ functions: { add: { parameters: params } } })).message).to.match(/functions\.add\.parameters: at most 32 parameters/)
    const keyed = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`param${i}`, 'i32']))
    expect(badRequest(norm({ add: keyed })).message).to.match(/add: at most 32 parameters/)
    const mounts = Array.from({ length: 33 }, (_, i) => ({ name: `m${i}`, stage: 'deployment' }))
    expect(badRequest(norm({ tick: { mounts } })).message).to.match(/tick\.mounts: at most 32 mounts/)
    const mountMap = Object.fromEntries(mounts.map(m => [m.name, { stage: m.stage }]))
    expect(badRequest(norm({ tick: { mounts: mountMap } })).message).to.match(/tick\.mounts: at most 32 mounts/)
  })

  it('a media type that is not type/subtype', () => {
    for (const bad of ['png', 'image/', 'image/png; q=1', 'image /png', 'a/b/c']) {
      expect(badRequest(norm({ tick: { mounts: [{ name: 'in', stage: 'execution', mediaType: bad }] } })).message)
        .to.match(/tick\.mounts\.0\.mediaType: ".*" is not a media type "type\/subtype"/)
    }
    expect(badRequest(norm({ functions: { tick: { result: { mediaType: 'jpeg' } } } })).message)
      .to.match(/functions\.tick\.result\.mediaType: "jpeg" is not a media type/)
  })

  it('GET with an execution mount', () => {
    const err = badRequest(norm({ tick: { method: 'GET', mounts: [{ name: 'in.png', stage: 'execution' }] } }))
    expect(err.message).to.match(/tick\.method: GET cannot carry the execution-stage mount "in\.png"/)
  })

  it('a field of the wrong JSON type', () => {
    expect(badRequest(norm({ tick: { method: 1 } })).message).to.match(/tick\.method: /)
    expect(badRequest(norm({ tick: { mounts: 'in.png' } })).message).to.match(/tick\.mounts: expected a list/)
    expect(badRequest(norm({ add: { parameters: [{ name: 1 }, { name: 'b' }] } })).message).to.match(/add\.parameters\.0\.name: /)
    expect(badRequest(norm({ add: { param0: 3, param1: 'i32' } })).message).to.match(/add\.param0: expected a type word/)
  })
})

describe('module description: deployment files', () => {
  const desc = normalizeDescription({
    ...WASMIOT_DESCRIPTION,
    fibo: { method: 'GET', param0: 'integer', mounts: [{ name: 'model.bin', stage: 'deployment' }, { name: 'table.csv', stage: 'deployment', mediaType: 'text/csv' }] }
  }, WASMIOT_INFO)

  it('lists deployment-stage mounts without their file', () => {
    expect(missingDeploymentFiles(desc, [])).to.deep.equal([
      { function: 'grayscale', mount: 'model.bin' },
      { function: 'fibo', mount: 'model.bin' },
      { function: 'fibo', mount: 'table.csv' }
    ])
    // one part serves every function with a mount of that name
    expect(missingDeploymentFiles(desc, ['model.bin'])).to.deep.equal([{ function: 'fibo', mount: 'table.csv' }])
    expect(missingDeploymentFiles(desc, ['model.bin', 'table.csv'])).to.deep.equal([])
  })

  it('refuses a description whose deployment-stage mount has no file, naming the mount', () => {
    const err = badRequest(() => assertDeploymentFiles(desc, ['table.csv']))
    expect(err.message).to.equal('mount "model.bin" of function "grayscale" is a deployment-stage mount and needs its file')
    expect(err.details).to.deep.equal({ mount: 'model.bin', function: 'grayscale' })
  })

  it('refuses files no deployment-stage mount wants, and parts given twice', () => {
    expect(unexpectedFiles(desc, ['model.bin', 'img.png', 'extra'])).to.deep.equal(['img.png', 'extra'])
    const err = badRequest(() => assertDeploymentFiles(desc, ['model.bin', 'table.csv', 'img.png']))
    expect(err.message).to.equal('file part "img.png" is not a deployment-stage mount of any described function')
    expect(err.details).to.deep.equal({ part: 'img.png' })
    expect(badRequest(() => assertDeploymentFiles(desc, ['model.bin', 'model.bin', 'table.csv'])).message)
      .to.equal('file part "model.bin" is given more than once')
    expect(() => assertDeploymentFiles(desc, ['table.csv', 'model.bin'])).to.not.throw()
  })

  it('attaches stored files to deployment-stage mounts; an untyped mount takes the part type', () => {
    const files = new Map([
      ['model.bin', { cid: 'bafkreimodel', size: 1024, mediaType: 'Application/X-TFLite' }],
      ['table.csv', { cid: 'bafkreitable', size: 10, mediaType: 'text/plain' }]
    ])
    const stored = attachDeploymentFiles(desc, files)
    expect(stored.functions.grayscale.mounts[1]).to.deep.equal({
      name: 'model.bin', mediaType: 'application/x-tflite', stage: 'deployment', cid: 'bafkreimodel', size: 1024
    })
    // an explicit media type stays
    expect(stored.functions.fibo.mounts[1]).to.deep.equal({
      name: 'table.csv', mediaType: 'text/csv', stage: 'deployment', cid: 'bafkreitable', size: 10
    })
    // other stages untouched, input untouched
    expect(stored.functions.grayscale.mounts[0]).to.deep.equal(desc.functions.grayscale.mounts[0])
    expect(desc.functions.grayscale.mounts[1]).to.not.have.property('cid')
    expect(moduleDescriptionSchema.safeParse(stored).success).to.equal(true)
  })
})
