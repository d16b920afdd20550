import { Validator } from '@seriousme/openapi-schema-validator'
import { expect } from 'chai'
import { normalizeDescription } from '../../src/wasm/describe/normalize.ts'
import { moduleOpenApi } from '../../src/wasm/describe/openapi.ts'
import type { OpenApiDocument, OpenApiOperation } from '../../src/wasm/describe/openapi.ts'
import { moduleInfo } from '../helpers/module-info.ts'

const CID = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'

const INFO = moduleInfo({
  take_image: [[], []],
  grayscale: [['i32'], []],
  fibo: [['i64'], ['i64']],
  scale: [['f32', 'f64'], ['f32']],
  tick: [[], []],
  vec: [['v128'], []],
  pair: [[], ['i32', 'i32']]
})

const DESCRIPTION = normalizeDescription({
  take_image: { method: 'GET', mounts: [{ name: 'image.jpeg', stage: 'output' }], output: 'image/jpeg' },
  grayscale: {
    method: 'POST',
    param0: 'integer',
    mounts: [
      { name: 'img.png', stage: 'execution', mediaType: 'image/png' },
      { name: 'model.bin', stage: 'deployment' },
      { name: 'out.png', stage: 'output', mediaType: 'image/png' }
    ]
  },
  fibo: { method: 'GET', param0: 'integer', output: 'integer' },
  scale: { method: 'POST', parameters: [{ name: 'x', type: 'float' }, { name: 'k', type: 'f64' }] },
  tick: {}
}, INFO)

async function validate (doc: unknown): Promise<{ valid: boolean, errors?: unknown }> {
  return await new Validator().validate(structuredClone(doc) as Record<string, unknown>)
}

async function expectValid (doc: OpenApiDocument): Promise<void> {
  const res = await validate(doc)
  expect(res.errors, JSON.stringify(res.errors, null, 2)).to.equal(undefined)
  expect(res.valid).to.equal(true)
}

function op (doc: OpenApiDocument, fn: string, method: 'get' | 'post', module = 'camera-app'): OpenApiOperation {
  const item = doc.paths[`/{deployment}/modules/${module}/${fn}`]
  expect(item, `path for ${fn}`).to.not.equal(undefined)
  expect(item.parameters).to.deep.equal([{ $ref: '#/components/parameters/deployment' }])
  const operation = item[method]
  expect(operation, `${method} ${fn}`).to.not.equal(undefined)
  return operation as OpenApiOperation
}

describe('module OpenAPI document', () => {
  const doc = moduleOpenApi({ name: 'camera-app', cid: CID, info: INFO, description: DESCRIPTION, serverUrl: 'http://192.168.1.20:8080' })

  it('is a valid OpenAPI 3.0.3 document', async () => {
    expect(doc.openapi).to.equal('3.0.3')
    await expectValid(doc)
  })

  it('names the module, its version and the server', () => {
    expect(doc.info.title).to.equal('camera-app')
    expect(doc.info.version).to.equal(CID)
    expect(doc.servers).to.deep.equal([{ url: 'http://192.168.1.20:8080' }])
    expect(doc.components.parameters.deployment).to.deep.equal({
      name: 'deployment', in: 'path', required: true, description: 'the deployment id', schema: { type: 'string' }
    })
  })

  it('has one path per described function, with its method and a unique operationId', () => {
    expect(Object.keys(doc.paths)).to.deep.equal(['take_image', 'grayscale', 'fibo', 'scale', 'tick']
      .map(fn => `/{deployment}/modules/camera-app/${fn}`))
    expect(op(doc, 'take_image', 'get').operationId).to.equal('take_image')
    expect(op(doc, 'grayscale', 'post').operationId).to.equal('grayscale')
    expect(doc.paths['/{deployment}/modules/camera-app/grayscale'].get).to.equal(undefined)
    const ids = Object.values(doc.paths).map(item => (item.get ?? item.post)?.operationId)
    expect(new Set(ids).size).to.equal(ids.length)
  })

  it('takes the parameters as query parameters with number schemas, 64-bit integers also as strings', () => {
    expect(op(doc, 'fibo', 'get').parameters).to.deep.equal([{
      name: 'param0',
      in: 'query',
      required: true,
      description: 'i64 (may be given as a decimal string)',
      schema: { oneOf: [{ type: 'integer', format: 'int64' }, { type: 'string', pattern: '^-?[0-9]+$' }] }
    }])
    const scale = op(doc, 'scale', 'post').parameters
    expect(scale.map(p => [p.name, p.schema])).to.deep.equal([
      ['x', { type: 'number', format: 'float' }],
      ['k', { type: 'number', format: 'double' }]
    ])
    // a POST without files may carry the arguments as {"args": [...]} instead
    expect(scale.every(p => !p.required)).to.equal(true)
    const body = op(doc, 'scale', 'post').requestBody
    expect(body?.required).to.equal(false)
    expect(body?.content['application/json'].schema).to.have.nested.property('properties.args.type', 'array')
    expect(op(doc, 'grayscale', 'post').parameters.map(p => [p.name, p.in, p.required, p.schema]))
      .to.deep.equal([['param0', 'query', true, { type: 'integer', format: 'int32' }]])
  })

  it('takes each execution-stage mount as a required multipart part', () => {
    expect(op(doc, 'grayscale', 'post').requestBody).to.deep.equal({
      required: true,
      content: {
        'multipart/form-data': {
          schema: { type: 'object', properties: { 'img.png': { type: 'string', format: 'binary' } }, required: ['img.png'] },
          encoding: { 'img.png': { contentType: 'image/png' } }
        }
      }
    })
    // deployment-stage files are not part of a call
    expect(op(doc, 'grayscale', 'post').description).to.match(/model\.bin/)
    expect(op(doc, 'take_image', 'get').requestBody).to.equal(undefined)
  })

  it('answers the output mount\'s file with its media type', () => {
    expect(op(doc, 'take_image', 'get').responses['200']).to.deep.equal({
      description: 'the file the function wrote',
      content: { 'image/jpeg': { schema: { type: 'string', format: 'binary' } } }
    })
    expect(Object.keys((op(doc, 'grayscale', 'post').responses['200'] as { content: object }).content)).to.deep.equal(['image/png'])
  })

  it('answers a number result as {"result": VALUE}, no result as {"result": null}', () => {
    const fibo = op(doc, 'fibo', 'get').responses['200'] as { content: Record<string, { schema: unknown }> }
    expect(fibo.content['application/json'].schema).to.deep.equal({
      type: 'object',
      properties: { result: { oneOf: [{ type: 'integer', format: 'int64' }, { type: 'string', pattern: '^-?[0-9]+$' }] } },
      required: ['result']
    })
    const scale = op(doc, 'scale', 'post').responses['200'] as { content: Record<string, { schema: unknown }> }
    expect(scale.content['application/json'].schema).to.have.deep.nested.property('properties.result', { type: 'number', format: 'float' })
    const tick = op(doc, 'tick', 'get').responses['200'] as { content: Record<string, { schema: unknown }> }
    expect(tick.content['application/json'].schema).to.have.nested.property('properties.result.nullable', true)
  })

  it('gives SPEC\'s error answers, sharing one Error schema', () => {
    const responses = op(doc, 'fibo', 'get').responses
    expect(Object.keys(responses)).to.deep.equal(['200', '400', '404', '500', '504'])
    expect(responses['404']).to.deep.equal({ $ref: '#/components/responses/NotFound' })
    expect(doc.components.responses.NotFound.content['application/json'].schema).to.deep.equal({ $ref: '#/components/schemas/Error' })
    expect(doc.components.schemas.Error).to.have.deep.nested.property('required', ['error'])
    expect(doc.components.schemas.Error).to.have.deep.nested.property('properties.error.required', ['code', 'message'])
    expect(doc.components.schemas.Error).to.have.nested.property('properties.error.properties.code.enum').that.includes('timeout')
  })

  it('without a description: every number-callable export is a GET with arg0, arg1...', async () => {
    const plain = moduleOpenApi({ name: CID, cid: CID, info: INFO })
    await expectValid(plain)
    expect(plain.servers).to.equal(undefined)
    // v128 and multi-value functions cannot be called over HTTP
    expect(Object.keys(plain.paths).map(p => p.split('/').pop()))
      .to.deep.equal(['take_image', 'grayscale', 'fibo', 'scale', 'tick'])
    const scale = op(plain, 'scale', 'get', CID)
    expect(scale.parameters.map(p => [p.name, p.required, p.schema])).to.deep.equal([
      ['arg0', true, { type: 'number', format: 'float' }],
      ['arg1', true, { type: 'number', format: 'double' }]
    ])
    expect(scale.requestBody).to.equal(undefined)
  })

  it('encodes names as path segments and keeps operationIds unique', async () => {
    const info = moduleInfo({ 'a-b': [[], ['i32']], a_b: [[], ['i32']], '1st': [[], []], 'x/{y}': [[], []] })
    const odd = moduleOpenApi({ name: 'my app', cid: CID, info })
    await expectValid(odd)
    expect(Object.keys(odd.paths)).to.deep.equal([
      '/{deployment}/modules/my%20app/a-b',
      '/{deployment}/modules/my%20app/a_b',
      '/{deployment}/modules/my%20app/1st',
      '/{deployment}/modules/my%20app/x%2F%7By%7D'
    ])
    const ids = Object.values(odd.paths).map(item => item.get?.operationId)
    expect(ids).to.deep.equal(['a_b', 'a_b_2', 'fn_1st', 'x__y_'])
  })

  it('the validator is really checking (negative controls)', async () => {
    const broken = structuredClone(doc) as unknown as Record<string, any>
    broken.paths['/{deployment}/modules/camera-app/fibo'].get.parameters[0].in = 'body'
    expect((await validate(broken)).valid).to.equal(false)

    const badSchema = structuredClone(doc) as unknown as Record<string, any>
    badSchema.paths['/{deployment}/modules/camera-app/fibo'].get.parameters[0].schema = { type: 'int64' }
    expect((await validate(badSchema)).valid).to.equal(false)

    const noResponses = structuredClone(doc) as unknown as Record<string, any>
    delete noResponses.paths['/{deployment}/modules/camera-app/tick'].get.responses
    expect((await validate(noResponses)).valid).to.equal(false)

    const dangling = structuredClone(doc) as unknown as Record<string, any>
    dangling.paths['/{deployment}/modules/camera-app/fibo'].get.responses['404'] = { $ref: '#/components/responses/Nope' }
    expect((await validate(dangling)).valid).to.equal(false)

    const noTitle = structuredClone(doc) as unknown as Record<string, any>
    delete noTitle.info.title
    expect((await validate(noTitle)).valid).to.equal(false)
  })
})
