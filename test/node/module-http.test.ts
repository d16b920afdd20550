import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Validator } from '@seriousme/openapi-schema-validator'
import { expect } from 'chai'
import { runWasmesh } from '../helpers/cli.ts'
import type { Run } from '../helpers/cli.ts'
import { deploymentFiles } from '../../src/wasm/describe/mounts.ts'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { MemoryLan, memoryParts } from '../../sim/memory-lan.ts'
import { formatModule, formatModuleList, parseMountFlag } from '../../src/node/cli/module-command.ts'
import { buildHttpApp } from '../../src/node/http/server.ts'
import { WasmeshNode } from '../../src/node/node.ts'
import { memoryStores } from '../../src/node/stores.ts'
import { bigModule, calcComponent, wat } from '../helpers/fixtures.ts'
import { multipartBody } from '../helpers/multipart.ts'
import type { Part } from '../helpers/multipart.ts'
import type { NodeOptions } from '../../src/node/node.ts'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'


/** The module size limit of the nodes here: small, so "too large" needs no big upload. */
const LIMIT = 64 * 1024
/** How long a node here looks for a module on peers (there are none) before answering 404. */
const FETCH_TIMEOUT_MS = 300

/** The camera-app description in wasmiot's shape: an output file and a deployment-stage file. */
const CAMERA_FUNCTIONS = {
  take_image: {
    method: 'GET',
    output: 'image/jpeg',
    mounts: [
      { name: 'out.jpg', stage: 'output', mediaType: 'image/jpeg' },
      { name: 'model.bin', stage: 'deployment' }
    ]
  }
}

interface ErrorBody { error: { code: string, message: string } }

/** The CID of a module up to 1 MiB: one raw block, named by the sha-256 of its bytes. */
async function rawCid (bytes: Uint8Array): Promise<string> {
  return CID.createV1(raw.code, await sha256.digest(bytes)).toString()
}

async function startNode (opts: Partial<NodeOptions> = {}): Promise<WasmeshNode> {
  const node = await WasmeshNode.create({
    name: 'modules',
    http: false,
    heartbeatMs: 300,
    limits: { maxModuleBytes: LIMIT },
    fetchTimeoutMs: FETCH_TIMEOUT_MS,
    ...opts,
    parts: await memoryParts(new MemoryLan(), { stores: memoryStores() })
  })
  await node.start()
  return node
}

interface Api { node: WasmeshNode, app: FastifyInstance }

/** A fresh node (no peers) and its HTTP app for the enclosing `describe`. */
function useApi (): Api {
  const api = {} as Api
  before(async () => {
    api.node = await startNode()
    api.app = buildHttpApp(api.node)
    await api.app.ready()
  })
  after(async () => {
    await api.app?.close()
    await api.node?.stop()
  })
  return api
}

async function postWasm (app: FastifyInstance, bytes: Uint8Array, name?: string): Promise<LightMyRequestResponse> {
  return await app.inject({
    method: 'POST',
    url: name === undefined ? '/modules' : `/modules?name=${encodeURIComponent(name)}`,
    payload: Buffer.from(bytes),
    headers: { 'content-type': 'application/wasm' }
  })
}

async function postForm (app: FastifyInstance, url: string, parts: Record<string, Part> | Array<[string, Part]>): Promise<LightMyRequestResponse> {
  const { payload, headers } = await multipartBody(parts)
  return await app.inject({ method: 'POST', url, payload, headers })
}

/** Adds a module over HTTP, failing the test unless it is stored; returns its view. */
async function added (app: FastifyInstance, bytes: Uint8Array, name?: string): Promise<Record<string, any>> {
  const res = await postWasm(app, bytes, name)
  expect(res.statusCode, res.body).to.equal(201)
  return res.json()
}

function expectError (res: LightMyRequestResponse, status: number, code: string, message?: RegExp): ErrorBody['error'] {
  expect(res.statusCode, res.body).to.equal(status)
  expect(res.headers['content-type']).to.match(/^application\/json/)
  const { error } = res.json() as ErrorBody
  expect(error.code, error.message).to.equal(code)
  expect(error.message).to.be.a('string').and.not.equal('')
  if (message !== undefined) expect(error.message).to.match(message)
  return error
}

/** Runs `action` and checks that neither GET /modules nor the store changed. */
async function expectStoreUnchanged (api: Api, action: () => Promise<void>): Promise<void> {
  const before = await api.app.inject({ method: 'GET', url: '/modules' })
  const count = api.node.modules.list().length
  await action()
  const after = await api.app.inject({ method: 'GET', url: '/modules' })
  expect(after.body).to.equal(before.body)
  expect(api.node.modules.list().length).to.equal(count)
}

async function validateOpenApi (doc: unknown): Promise<void> {
  const res = await new Validator().validate(structuredClone(doc) as Record<string, unknown>)
  expect(res.errors, JSON.stringify(res.errors, null, 2)).to.equal(undefined)
  expect(res.valid).to.equal(true)
}

describe('module HTTP API: add, list, show, bytes', function () {
  const api = useApi()

  it('POST raw wasm: 201 with cid, name, size, imports and exports with signatures, required skills', async () => {
    const bytes = await wat('camera-app')
    const res = await postWasm(api.app, bytes, 'camera-app')
    expect(res.statusCode, res.body).to.equal(201)
    const body = res.json()
    expect(body).to.include.keys('cid', 'name', 'size', 'imports', 'exports', 'requires')
    expect(body.cid).to.equal(await rawCid(bytes))
    expect(body.name).to.equal('camera-app')
    expect(body.size).to.equal(bytes.byteLength)
    expect(body.kind).to.equal('core')
    expect(body.requires).to.deep.equal(['camera', 'sys'])
    expect(body.imports).to.deep.include({ module: 'camera', name: 'takeImageDynamicSize', kind: 'function', signature: { params: ['i32', 'i32'], results: [] } })
    expect(body.imports).to.deep.include({ module: 'sys', name: 'println', kind: 'function', signature: { params: ['i32', 'i32'], results: [] } })
    expect(body.imports).to.deep.include({ module: 'wasi_snapshot_preview1', name: 'fd_write', kind: 'function', signature: { params: ['i32', 'i32', 'i32', 'i32'], results: ['i32'] } })
    expect(body.exports).to.deep.include({ name: 'take_image', kind: 'function', signature: { params: [], results: ['i32'] } })
    expect(body.exports).to.deep.include({ name: 'alloc', kind: 'function', signature: { params: ['i32'], results: ['i32'] } })
    expect(body.exports.map((e: { name: string }) => e.name)).to.have.members(['memory', 'alloc', 'take_image'])
    expect(body.description).to.equal(null)
    expect(api.node.modules.local('camera-app')?.cid).to.equal(body.cid)
  })

  it('multipart add (parts "module" and "name") stores the same bytes under the same CID as a raw add', async () => {
    const bytes = await wat('add')
    const viaForm = await postForm(api.app, '/modules', [['module', { bytes, type: 'application/wasm', filename: 'add.wasm' }], ['name', 'adder']])
    expect(viaForm.statusCode, viaForm.body).to.equal(201)
    expect(viaForm.json().cid).to.equal(await rawCid(bytes))
    expect(viaForm.json().name).to.equal('adder')
    expect(viaForm.json().exports).to.deep.include({ name: 'add', kind: 'function', signature: { params: ['i32', 'i32'], results: ['i32'] } })
    expect(viaForm.json().requires).to.deep.equal([])

    const viaRaw = await postWasm(api.app, bytes)
    expect(viaRaw.statusCode, viaRaw.body).to.equal(201)
    expect(viaRaw.json().cid).to.equal(viaForm.json().cid)
    expect(viaRaw.json().name, 'adding again without a name keeps the name').to.equal('adder')

    const nameFirst = await postForm(api.app, '/modules', { name: 'adder', module: { bytes } })
    expect(nameFirst.statusCode, nameFirst.body).to.equal(201)
    expect(nameFirst.json().cid).to.equal(viaForm.json().cid)
    const cids = (await api.app.inject({ method: 'GET', url: '/modules' })).json().map((m: { cid: string }) => m.cid)
    expect(cids.filter((c: string) => c === viaForm.json().cid)).to.have.length(1)
  })

  it('GET /modules lists the modules; GET /modules/NAME and /modules/CID show the same one', async () => {
    const counter = await added(api.app, await wat('counter'))
    const list = await api.app.inject({ method: 'GET', url: '/modules' })
    expect(list.statusCode).to.equal(200)
    const modules = list.json() as Array<Record<string, any>>
    expect(modules.map(m => m.name)).to.include.members(['camera-app', 'adder', null])
    expect(modules.map(m => m.cid)).to.include(counter.cid)
    expect(modules.length).to.equal(api.node.modules.list().length)

    const byName = await api.app.inject({ method: 'GET', url: '/modules/camera-app' })
    expect(byName.statusCode, byName.body).to.equal(200)
    const byCid = await api.app.inject({ method: 'GET', url: `/modules/${byName.json().cid as string}` })
    expect(byCid.statusCode, byCid.body).to.equal(200)
    expect(byCid.json()).to.deep.equal(byName.json())
    expect(byName.json().requires).to.deep.equal(['camera', 'sys'])
    expect(modules.find(m => m.cid === byName.json().cid)).to.deep.equal(byName.json())

    const nameless = await api.app.inject({ method: 'GET', url: `/modules/${counter.cid as string}` })
    expect(nameless.statusCode).to.equal(200)
    expect(nameless.json().name).to.equal(null)
  })

  it('GET /modules/X/wasm answers the identical bytes as application/wasm, by name and by CID', async () => {
    const bytes = await wat('camera-app')
    for (const ref of ['camera-app', await rawCid(bytes)]) {
      const res = await api.app.inject({ method: 'GET', url: `/modules/${ref}/wasm` })
      expect(res.statusCode, ref).to.equal(200)
      expect(res.headers['content-type']).to.match(/^application\/wasm/)
      expect(Buffer.compare(res.rawPayload, Buffer.from(bytes)), ref).to.equal(0)
      expect(res.headers['content-length']).to.equal(String(bytes.byteLength))
    }
  })

  it('accepts a component: kind "component", requiring the skills its world imports', async () => {
    const bytes = await calcComponent()
    const res = await postWasm(api.app, bytes, 'calc')
    expect(res.statusCode, res.body).to.equal(201)
    const body = res.json()
    expect(body.cid).to.equal(await rawCid(bytes))
    expect(body.kind).to.equal('component')
    expect(body.requires).to.deep.equal(['camera', 'clock'])
    expect(body.component.exports).to.include('add')
    const wasm = await api.app.inject({ method: 'GET', url: '/modules/calc/wasm' })
    expect(Buffer.compare(wasm.rawPayload, Buffer.from(bytes))).to.equal(0)
  })

  it('accepts a module just under the size limit', async () => {
    const bytes = bigModule(LIMIT - 1024)
    const body = await added(api.app, bytes, 'almost-too-big')
    expect(body.size).to.equal(bytes.byteLength)
    expect(body.cid).to.equal(await rawCid(bytes))
  })
})

describe('module HTTP API: bad inputs change nothing', function () {
  const api = useApi()
  let good: Uint8Array

  before(async () => {
    good = await wat('add')
    await added(api.app, good, 'adder')
    await added(api.app, await wat('camera-app'))
  })

  it('an empty body: 400 invalid-module (raw and multipart)', async () => {
    await expectStoreUnchanged(api, async () => {
      expectError(await postWasm(api.app, new Uint8Array(0)), 400, 'invalid-module', /empty|0 bytes/)
      expectError(await postForm(api.app, '/modules', { module: { bytes: new Uint8Array(0) } }), 400, 'invalid-module')
    })
  })

  it('refuses a name that is a CID: it could never be looked up by name', async () => {
    const addCid = (await added(api.app, await wat('add'))).cid as string
    await expectStoreUnchanged(api, async () => {
      expectError(await postWasm(api.app, await wat('counter'), addCid), 400, 'bad-request', /name/)
    })
  })

  it('a truncated module: 400 invalid-module with the reason', async () => {
    await expectStoreUnchanged(api, async () => {
      expectError(await postWasm(api.app, good.slice(0, good.length - 3), 'truncated'), 400, 'invalid-module')
      expectError(await postWasm(api.app, good.slice(0, 11)), 400, 'invalid-module')
    })
  })

  it('random bytes: 400 invalid-module', async () => {
    const junk = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) & 0xff)
    await expectStoreUnchanged(api, async () => {
      expectError(await postWasm(api.app, junk, 'junk'), 400, 'invalid-module')
      expectError(await postForm(api.app, '/modules', { module: { bytes: junk }, name: 'junk' }), 400, 'invalid-module')
    })
  })

  it('over the size limit: 413 too-large, raw and multipart', async () => {
    const big = bigModule(LIMIT + 4096)
    await expectStoreUnchanged(api, async () => {
      expectError(await postWasm(api.app, big, 'big'), 413, 'too-large')
      expectError(await postForm(api.app, '/modules', { name: 'big', module: { bytes: big, type: 'application/wasm' } }), 413, 'too-large')
    })
    // and the node keeps serving
    expect((await api.app.inject({ method: 'GET', url: '/modules/adder' })).statusCode).to.equal(200)
  })

  it('a memory minimum over the limit: 400 invalid-module naming the limit', async () => {
    await expectStoreUnchanged(api, async () => {
      expectError(await postWasm(api.app, await wat('big-memory'), 'big-memory'), 400, 'invalid-module', /20000 pages.*limit of 16384 pages/)
    })
  })

  it('a bad name: 400 bad-request, and the bytes are not stored or renamed', async () => {
    await expectStoreUnchanged(api, async () => {
      for (const name of ['9lives', 'has/slash', 'has space', 'x'.repeat(65), 'bafy-looks/like a path']) {
        expectError(await postWasm(api.app, good, name), 400, 'bad-request', /name/)
        expectError(await postWasm(api.app, await wat('counter'), name), 400, 'bad-request', /name/)
      }
      expectError(await postForm(api.app, '/modules', { name: '-dash-first', module: { bytes: good } }), 400, 'bad-request', /name/)
    })
    expect(api.node.modules.local('adder')?.cid).to.equal(await rawCid(good))
  })

  it('multipart with an unknown part, or without "module": 400 bad-request naming it', async () => {
    await expectStoreUnchanged(api, async () => {
      expectError(await postForm(api.app, '/modules', { module: { bytes: await wat('counter') }, extra: 'x' }), 400, 'bad-request', /"extra"/)
      expectError(await postForm(api.app, '/modules', { extra: 'x', module: { bytes: await wat('counter') } }), 400, 'bad-request', /"extra"/)
      expectError(await postForm(api.app, '/modules', { name: 'nothing' }), 400, 'bad-request', /module/)
    })
  })

  it('a CID nobody has: 404 not-found once the fetch gives up (show, bytes, OpenAPI)', async () => {
    const unknown = await rawCid(new TextEncoder().encode(`nobody has this ${Math.random()}`))
    await expectStoreUnchanged(api, async () => {
      for (const suffix of ['', '/wasm', '/openapi']) {
        expectError(await api.app.inject({ method: 'GET', url: `/modules/${unknown}${suffix}` }), 404, 'not-found', new RegExp(unknown))
      }
    })
  })

  it('a name nobody has: 404 not-found', async () => {
    await expectStoreUnchanged(api, async () => {
      for (const suffix of ['', '/wasm', '/openapi']) {
        expectError(await api.app.inject({ method: 'GET', url: `/modules/no-such-module${suffix}` }), 404, 'not-found', /no-such-module/)
      }
      expectError(await api.app.inject({ method: 'DELETE', url: '/modules/no-such-module' }), 404, 'not-found')
    })
  })
})

describe('module HTTP API: descriptions', function () {
  const api = useApi()
  const model = new TextEncoder().encode('model weights, version 1')

  before(async () => {
    await added(api.app, await wat('camera-app'), 'cam')
    await added(api.app, await wat('add'), 'adder')
    await added(api.app, await wat('counter'), 'counter')
  })

  async function show (ref: string): Promise<Record<string, any>> {
    const res = await api.app.inject({ method: 'GET', url: `/modules/${ref}` })
    expect(res.statusCode, res.body).to.equal(200)
    return res.json()
  }

  it('attaches a wasmiot-shaped description with its deployment-stage file; the module shows it with the file\'s CID', async () => {
    const res = await postForm(api.app, '/modules/cam/description', {
      functions: JSON.stringify(CAMERA_FUNCTIONS),
      'model.bin': { bytes: model, type: 'application/x-model', filename: 'weights.bin' }
    })
    expect(res.statusCode, res.body).to.equal(200)
    const expected = {
      functions: {
        take_image: {
          method: 'get',
          parameters: [],
          result: { mediaType: 'image/jpeg' },
          mounts: [
            { name: 'out.jpg', mediaType: 'image/jpeg', stage: 'output' },
            // no media type given: the part's Content-Type, as wasmiot does
            { name: 'model.bin', mediaType: 'application/x-model', stage: 'deployment', cid: await rawCid(model), size: model.byteLength }
          ]
        }
      }
    }
    expect(res.json().description).to.deep.equal(expected)
    const shown = await show('cam')
    expect(shown.description).to.deep.equal(expected)
    expect(shown.descriptionCid).to.be.a('string')
    const stored = deploymentFiles(api.node.modules.local('cam')?.description ?? null)
    expect(stored.map(f => f.cid)).to.deep.equal([await rawCid(model)])
    expect(Buffer.from(await api.node.modules.fileBytes(stored[0])).toString()).to.equal('model weights, version 1')
  })

  it('takes the description as a JSON body too (no files)', async () => {
    const res = await api.app.inject({
      method: 'POST',
      url: '/modules/adder/description',
      payload: { functions: { add: { method: 'get', parameters: [{ name: 'a', type: 'i32' }, { name: 'b', type: 'i32' }] } } }
    })
    expect(res.statusCode, res.body).to.equal(200)
    expect((await show('adder')).description).to.deep.equal({
      functions: { add: { method: 'get', parameters: [{ name: 'a', type: 'i32' }, { name: 'b', type: 'i32' }], result: { type: 'i32' }, mounts: [] } }
    })
  })

  it('bad description JSON: 400 bad-request, description unchanged', async () => {
    const before = await show('cam')
    expectError(await postForm(api.app, '/modules/cam/description', { functions: '{"take_image": {' }), 400, 'bad-request', /functions.*JSON/)
    expectError(await postForm(api.app, '/modules/counter/description', { functions: 'not json' }), 400, 'bad-request', /functions/)
    expectError(await postForm(api.app, '/modules/cam/description', { functions: '[1, 2]' }), 400, 'bad-request')
    expectError(await postForm(api.app, '/modules/cam/description', { 'model.bin': { bytes: model } }), 400, 'bad-request', /functions/)
    expect(await show('cam')).to.deep.equal(before)
    expect((await show('counter')).description).to.equal(null)
  })

  it('a deployment-stage mount without its file: 400 naming the mount; the description stays as it was', async () => {
    const before = await show('cam')
    const changed = {
      take_image: { method: 'GET', mounts: [{ name: 'labels.txt', stage: 'deployment', mediaType: 'text/plain' }] }
    }
    const err = expectError(await postForm(api.app, '/modules/cam/description', { functions: JSON.stringify(changed) }), 400, 'bad-request', /"labels\.txt"/)
    expect(err.message).to.contain('take_image')
    expect(await show('cam')).to.deep.equal(before)

    const counterFns = { next: { mounts: [{ name: 'state.bin', stage: 'deployment' }] } }
    expectError(await postForm(api.app, '/modules/counter/description', { functions: JSON.stringify(counterFns) }), 400, 'bad-request', /"state\.bin"/)
    expect((await show('counter')).description).to.equal(null)
    expect((await show('counter')).descriptionCid).to.equal(null)
  })

  it('a function the module does not export: 400 naming it', async () => {
    const before = await show('cam')
    const fns = { snap_photo: { method: 'GET' } }
    const err = expectError(await postForm(api.app, '/modules/cam/description', { functions: JSON.stringify(fns) }), 400, 'bad-request', /"snap_photo"/)
    expect(err.message).to.contain('take_image') // what it does export
    expect(await show('cam')).to.deep.equal(before)
  })

  it('file parts no mount wants, or a mount given twice: 400; nothing changes', async () => {
    const before = await show('cam')
    expectError(await postForm(api.app, '/modules/cam/description', {
      functions: JSON.stringify(CAMERA_FUNCTIONS),
      'model.bin': { bytes: model },
      'stray.bin': { bytes: model }
    }), 400, 'bad-request', /"stray\.bin"/)
    expectError(await postForm(api.app, '/modules/cam/description', [
      ['functions', JSON.stringify(CAMERA_FUNCTIONS)],
      ['model.bin', { bytes: model }],
      ['model.bin', { bytes: model }]
    ]), 400, 'bad-request', /"model\.bin"/)
    expectError(await postForm(api.app, '/modules/cam/description', {
      functions: JSON.stringify(CAMERA_FUNCTIONS),
      'model.bin': 'a text field, not a file'
    }), 400, 'bad-request', /model\.bin/)
    expect(await show('cam')).to.deep.equal(before)
  })

  it('a deployment-stage file over the size limit: 413 too-large; nothing changes', async () => {
    const before = await show('cam')
    expectError(await postForm(api.app, '/modules/cam/description', {
      functions: JSON.stringify(CAMERA_FUNCTIONS),
      'model.bin': { bytes: new Uint8Array(LIMIT + 1) }
    }), 413, 'too-large')
    expect(await show('cam')).to.deep.equal(before)
  })

  it('describing a module the node does not hold: 404 not-found', async () => {
    expectError(await postForm(api.app, '/modules/nobody/description', { functions: '{}' }), 404, 'not-found', /nobody/)
  })

  it('a new description replaces the old one, with the new file', async () => {
    const v2 = new TextEncoder().encode('model weights, version 2')
    const res = await postForm(api.app, '/modules/cam/description', {
      functions: JSON.stringify(CAMERA_FUNCTIONS),
      'model.bin': { bytes: v2, type: 'application/x-model' }
    })
    expect(res.statusCode, res.body).to.equal(200)
    const mount = (await show('cam')).description.functions.take_image.mounts[1]
    expect(mount).to.include({ name: 'model.bin', cid: await rawCid(v2), size: v2.byteLength })
  })
})

describe('module HTTP API: OpenAPI', function () {
  const api = useApi()
  let counterCid: string

  before(async () => {
    await added(api.app, await wat('camera-app'), 'cam')
    await added(api.app, await wat('add'), 'adder')
    counterCid = (await added(api.app, await wat('counter'))).cid
    const res = await postForm(api.app, '/modules/cam/description', {
      functions: JSON.stringify(CAMERA_FUNCTIONS),
      'model.bin': { bytes: new TextEncoder().encode('weights') }
    })
    expect(res.statusCode, res.body).to.equal(200)
  })

  async function openapi (ref: string): Promise<Record<string, any>> {
    const res = await api.app.inject({ method: 'GET', url: `/modules/${ref}/openapi` })
    expect(res.statusCode, res.body).to.equal(200)
    expect(res.headers['content-type']).to.match(/^application\/json/)
    const doc = res.json()
    await validateOpenApi(doc)
    return doc
  }

  it('a described module: a valid document with /{deployment}/modules/NAME/FUNCTION as described', async () => {
    const doc = await openapi('cam')
    expect(doc.openapi).to.match(/^3\./)
    expect(Object.keys(doc.paths)).to.deep.equal(['/{deployment}/modules/cam/take_image'])
    const item = doc.paths['/{deployment}/modules/cam/take_image']
    expect(item).to.have.property('get')
    expect(item).to.not.have.property('post')
    expect(Object.keys(item.get.responses['200'].content)).to.deep.equal(['image/jpeg'])
    expect(doc.info.version).to.equal(await rawCid(await wat('camera-app')))
  })

  it('an undescribed module: a valid document with a GET per callable export, arguments arg0, arg1...', async () => {
    const doc = await openapi('adder')
    expect(Object.keys(doc.paths)).to.deep.equal(['/{deployment}/modules/adder/add'])
    const get = doc.paths['/{deployment}/modules/adder/add'].get
    expect(get.parameters.map((p: { name: string, in: string }) => `${p.in}:${p.name}`)).to.deep.equal(['query:arg0', 'query:arg1'])

    const byCid = await openapi(await rawCid(await wat('add')))
    expect(Object.keys(byCid.paths)).to.deep.equal(['/{deployment}/modules/adder/add'])
  })

  it('a module without a name: its CID stands in for the name in the paths', async () => {
    const doc = await openapi(counterCid)
    expect(Object.keys(doc.paths)).to.deep.equal([`/{deployment}/modules/${counterCid}/next`])
  })
})

describe('module HTTP API: remove', function () {
  const api = useApi()

  it('DELETE answers 200 with the module; then GET by name and by CID is 404, and DELETE again is 404', async () => {
    const bytes = await wat('add')
    const cid = (await added(api.app, bytes, 'gone')).cid as string
    const keep = await added(api.app, await wat('counter'), 'keep')

    const res = await api.app.inject({ method: 'DELETE', url: '/modules/gone' })
    expect(res.statusCode, res.body).to.equal(200)
    expect(res.json()).to.include({ cid, name: 'gone' })

    expectError(await api.app.inject({ method: 'GET', url: '/modules/gone' }), 404, 'not-found')
    expectError(await api.app.inject({ method: 'GET', url: `/modules/${cid}` }), 404, 'not-found')
    expectError(await api.app.inject({ method: 'GET', url: `/modules/${cid}/wasm` }), 404, 'not-found')
    expect((await api.app.inject({ method: 'GET', url: '/modules' })).json().map((m: { cid: string }) => m.cid)).to.deep.equal([keep.cid])
    expect(api.node.modules.local(cid)).to.equal(undefined)

    expectError(await api.app.inject({ method: 'DELETE', url: '/modules/gone' }), 404, 'not-found')
    expectError(await api.app.inject({ method: 'DELETE', url: `/modules/${cid}` }), 404, 'not-found')

    // the other module is intact
    const wasm = await api.app.inject({ method: 'GET', url: '/modules/keep/wasm' })
    expect(Buffer.compare(wasm.rawPayload, Buffer.from(await wat('counter')))).to.equal(0)
  })

  it('removes a described module by CID; the same bytes can be added again afterwards', async () => {
    const bytes = await wat('camera-app')
    const cid = (await added(api.app, bytes, 'cam')).cid as string
    const described = await postForm(api.app, '/modules/cam/description', {
      functions: JSON.stringify(CAMERA_FUNCTIONS),
      'model.bin': { bytes: new TextEncoder().encode('weights') }
    })
    expect(described.statusCode, described.body).to.equal(200)
    expect((await api.app.inject({ method: 'DELETE', url: `/modules/${cid}` })).statusCode).to.equal(200)
    expectError(await api.app.inject({ method: 'GET', url: '/modules/cam' }), 404, 'not-found')

    const again = await added(api.app, bytes, 'cam')
    expect(again.cid).to.equal(cid)
    expect(again.description, 'a fresh module, not the old description').to.equal(null)
    const wasm = await api.app.inject({ method: 'GET', url: '/modules/cam/wasm' })
    expect(Buffer.compare(wasm.rawPayload, Buffer.from(bytes))).to.equal(0)
  })
})

/** Runs the CLI in a child process, as a user would, without $WASMESH_NODE. */
async function wasmesh (args: string[], timeoutMs = 20_000): Promise<Run> {
  return await runWasmesh(args, { timeoutMs, env: { ...process.env, WASMESH_NODE: '' } })
}

function expectOneLineError (run: Run, exitCode: number, message: RegExp): void {
  expect(run.code, run.stderr).to.equal(exitCode)
  expect(run.stdout).to.equal('')
  expect(run.stderr).to.match(/^wasmesh: [^\n]+\n$/) // one line
  expect(run.stderr).to.match(message)
  expect(run.stderr).to.not.match(/\bat .+:\d+:\d+/) // no stack
}

describe('wasmesh module (CLI against a node\'s HTTP API)', function () {
  let node: WasmeshNode
  let url: string
  let dir: string
  let camFile: string
  let modelFile: string
  let functionsFile: string
  let camCid: string

  before(async () => {
    node = await startNode({ http: { host: '127.0.0.1', port: 0 } })
    expect(node.httpUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+$/)
    url = node.httpUrl as string
    dir = await mkdtemp(join(tmpdir(), 'wasmesh-module-cli-'))
    const cam = await wat('camera-app')
    camCid = await rawCid(cam)
    camFile = join(dir, 'camera-app.wasm')
    await writeFile(camFile, cam)
    modelFile = join(dir, 'model.bin')
    await writeFile(modelFile, 'the model')
    functionsFile = join(dir, 'functions.json')
    await writeFile(functionsFile, JSON.stringify(CAMERA_FUNCTIONS))
  })
  after(async () => {
    await node?.stop()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it('module add FILE --name x prints the CID, and the node holds it', async () => {
    const run = await wasmesh(['module', 'add', camFile, '--name', 'x', '--node', url])
    expect(run.code, run.stderr).to.equal(0)
    expect(run.stdout).to.equal(`${camCid}\n`)
    expect(run.stderr).to.equal('')
    expect(node.modules.local('x')?.cid).to.equal(camCid)
  })

  it('module ls lists it with its size, kind and required skills', async () => {
    const run = await wasmesh(['module', 'ls', '--node', url])
    expect(run.code, run.stderr).to.equal(0)
    const lines = run.stdout.trimEnd().split('\n')
    expect(lines[0].split(/\s+/)).to.deep.equal(['CID', 'NAME', 'SIZE', 'KIND', 'REQUIRES'])
    expect(lines.slice(1).map(l => l.split(/\s+/))).to.deep.include([camCid, 'x', String(node.modules.local('x')?.size), 'core', 'camera,sys'])

    const json = await wasmesh(['module', 'ls', '--node', url, '--json'])
    expect(JSON.parse(json.stdout).map((m: { cid: string }) => m.cid)).to.deep.equal([camCid])
  })

  it('module show x shows required skills and the signatures of imports and exports', async () => {
    const run = await wasmesh(['module', 'show', 'x', '--node', url])
    expect(run.code, run.stderr).to.equal(0)
    expect(run.stdout).to.contain(`cid       ${camCid}\n`)
    expect(run.stdout).to.match(/^requires {2}camera, sys$/m)
    expect(run.stdout).to.match(/^ {2}camera\.takeImageDynamicSize {2}function \(i32, i32\) -> \(\)$/m)
    expect(run.stdout).to.match(/^ {2}take_image {2}function \(\) -> \(i32\)$/m)
    expect(run.stdout).to.match(/^ {2}alloc {2}function \(i32\) -> \(i32\)$/m)
    expect(run.stdout).to.not.contain('description')

    const byCid = await wasmesh(['module', 'show', camCid, '--node', url, '--json'])
    expect(byCid.code, byCid.stderr).to.equal(0)
    expect(JSON.parse(byCid.stdout)).to.include({ cid: camCid, name: 'x' })
  })

  it('module describe x --functions F --mount NAME=PATH attaches the description and the file', async () => {
    const run = await wasmesh(['module', 'describe', 'x', '--functions', functionsFile, '--mount', `model.bin=${modelFile}`, '--node', url])
    expect(run.code, run.stderr).to.equal(0)
    expect(run.stdout).to.match(/^description$/m)
    expect(run.stdout).to.match(/^ {2}GET take_image\(\) -> \{"mediaType":"image\/jpeg"\}$/m)
    expect(run.stdout).to.match(/^ {4}mount model\.bin \(deployment, [^)]+\)$/m)
    expect(run.stdout).to.match(/^ {4}mount out\.jpg \(output, image\/jpeg\)$/m)
    const mount = node.modules.local('x')?.description?.functions.take_image.mounts.find(m => m.name === 'model.bin')
    expect(mount?.cid).to.equal(await rawCid(new TextEncoder().encode('the model')))
  })

  it('module describe refuses a bad --mount and a missing functions file with exit 2, changing nothing', async () => {
    const before = node.modules.local('x')
    expectOneLineError(await wasmesh(['module', 'describe', 'x', '--functions', functionsFile, '--mount', 'model.bin', '--node', url]), 2, /--mount: "model\.bin" is not NAME=PATH/)
    expectOneLineError(await wasmesh(['module', 'describe', 'x', '--functions', join(dir, 'nope.json'), '--node', url]), 2, /nope\.json: no such file/)
    const badJson = join(dir, 'bad.json')
    await writeFile(badJson, '{"take_image": ')
    expectOneLineError(await wasmesh(['module', 'describe', 'x', '--functions', badJson, '--node', url]), 2, /not valid JSON/)
    // the node's own refusal: the mount's file is missing
    expectOneLineError(await wasmesh(['module', 'describe', 'x', '--functions', functionsFile, '--node', url]), 2, /"model\.bin"/)
    expect(node.modules.local('x')).to.deep.equal(before)
  })

  it('GET /modules/x/openapi over HTTP names the node as the server', async () => {
    const res = await fetch(`${url}/modules/x/openapi`)
    expect(res.status).to.equal(200)
    const doc = await res.json() as Record<string, any>
    await validateOpenApi(doc)
    expect(doc.servers).to.deep.equal([{ url }])
    expect(Object.keys(doc.paths)).to.deep.equal(['/{deployment}/modules/x/take_image'])
  })

  it('module rm x removes it', async () => {
    const run = await wasmesh(['module', 'rm', 'x', '--node', url])
    expect(run.code, run.stderr).to.equal(0)
    expect(run.stdout).to.equal(`removed ${camCid}\n`)
    expect(node.modules.local('x')).to.equal(undefined)
    expect(node.modules.list()).to.deep.equal([])
    const ls = await wasmesh(['module', 'ls', '--node', url])
    expect(ls.stdout).to.equal('no modules\n')
  })

  it('a missing file: exit 2, one line on stderr, no stack, nothing sent', async () => {
    expectOneLineError(await wasmesh(['module', 'add', join(dir, 'missing.wasm'), '--node', url]), 2, /missing\.wasm: no such file/)
    expect(node.modules.list()).to.deep.equal([])
  })

  it('an unknown module: exit 1 with the node\'s message', async () => {
    expectOneLineError(await wasmesh(['module', 'show', 'nosuch', '--node', url]), 1, /no module named "nosuch"/)
    expectOneLineError(await wasmesh(['module', 'rm', 'nosuch', '--node', url]), 1, /no module "nosuch"/)
  })

  it('a module over the node\'s size limit: exit 1 with the node\'s too-large message, nothing stored', async () => {
    const big = join(dir, 'big.wasm')
    await writeFile(big, bigModule(LIMIT + 4096))
    expectOneLineError(await wasmesh(['module', 'add', big, '--name', 'big', '--node', url]), 1, /too large/i)
    expect(node.modules.list()).to.deep.equal([])
  })

  it('bytes that are not WebAssembly: exit 1 with the node\'s reason', async () => {
    const junk = join(dir, 'junk.wasm')
    await writeFile(junk, 'definitely not wasm')
    expectOneLineError(await wasmesh(['module', 'add', junk, '--node', url]), 1, /invalid module/)
    expect(node.modules.list()).to.deep.equal([])
  })
})

describe('module CLI formatting (pure)', function () {
  const cam = {
    cid: 'bafkreiexample',
    name: 'cam',
    size: 321,
    kind: 'core',
    imports: [
      { module: 'camera', name: 'takeImageDynamicSize', kind: 'function', signature: { params: ['i32', 'i32'], results: [] } },
      { module: 'env', name: 'mem', kind: 'memory' }
    ],
    exports: [
      { name: 'memory', kind: 'memory' },
      { name: 'take_image', kind: 'function', signature: { params: [], results: ['i32'] } }
    ],
    requires: ['camera'],
    description: null
  }

  it('parseMountFlag splits NAME=PATH at the first "="', () => {
    expect(parseMountFlag('model.bin=./data/model.bin')).to.deep.equal({ mount: 'model.bin', path: './data/model.bin' })
    expect(parseMountFlag('cfg=a=b.json')).to.deep.equal({ mount: 'cfg', path: 'a=b.json' })
    expect(parseMountFlag('dir/file.txt=/abs/path')).to.deep.equal({ mount: 'dir/file.txt', path: '/abs/path' })
  })

  it('parseMountFlag refuses anything that is not NAME=PATH with a bad-request naming the flag', () => {
    for (const bad of ['model.bin', '=path', 'name=', '', '=']) {
      let err: { code?: string, message?: string } | undefined
      try {
        parseMountFlag(bad)
      } catch (e) {
        err = e as { code: string, message: string }
      }
      expect(err?.code, bad).to.equal('bad-request')
      expect(err?.message, bad).to.contain('--mount')
    }
  })

  it('formatModuleList: "no modules", or aligned columns with "-" for what is missing', () => {
    expect(formatModuleList([])).to.equal('no modules')
    const text = formatModuleList([cam, { ...cam, cid: 'bafkreisecond-longer-cid', name: null, size: 7, requires: [] }])
    const lines = text.split('\n')
    expect(lines).to.have.length(3)
    expect(lines.map(l => l.split(/\s+/))).to.deep.equal([
      ['CID', 'NAME', 'SIZE', 'KIND', 'REQUIRES'],
      ['bafkreiexample', 'cam', '321', 'core', 'camera'],
      ['bafkreisecond-longer-cid', '-', '7', 'core', '-']
    ])
    // columns line up: each column starts at the same offset on every line
    for (const column of ['NAME', 'SIZE', 'KIND', 'REQUIRES']) {
      const at = lines[0].indexOf(column)
      const index = ['CID', 'NAME', 'SIZE', 'KIND', 'REQUIRES'].indexOf(column)
      for (const line of lines.slice(1)) expect(line.slice(at).split(/\s+/)[0], `${column} in ${line}`).to.equal(line.split(/\s+/)[index])
    }
    for (const line of lines) expect(line).to.equal(line.trimEnd())
  })

  it('formatModule: identity, required skills, signatures, and the description when there is one', () => {
    const plain = formatModule(cam).split('\n')
    expect(plain).to.include.members([
      'cid       bafkreiexample',
      'name      cam',
      'size      321 bytes',
      'kind      core',
      'requires  camera',
      '  camera.takeImageDynamicSize  function (i32, i32) -> ()',
      '  env.mem  memory',
      '  memory  memory',
      '  take_image  function () -> (i32)'
    ])
    expect(plain.indexOf('imports')).to.be.below(plain.indexOf('exports'))
    expect(plain).to.not.include('description')

    const described = formatModule({
      ...cam,
      name: null,
      requires: [],
      description: {
        functions: {
          take_image: {
            method: 'get',
            parameters: [{ name: 'quality', type: 'i32' }],
            result: { mediaType: 'image/jpeg' },
            mounts: [{ name: 'out.jpg', stage: 'output', mediaType: 'image/jpeg' }]
          }
        }
      }
    }).split('\n')
    expect(described).to.include.members([
      'name      -',
      'requires  -',
      'description',
      '  GET take_image(quality: i32) -> {"mediaType":"image/jpeg"}',
      '    mount out.jpg (output, image/jpeg)'
    ])
  })
})
