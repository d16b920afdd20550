import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { answerError, callArg, callRoute, checkNodeUrl, fileAnswerTarget, formatResult, isValueAnswer, parseCallPath, parseFileFlags, parseTimeoutMs } from '../../src/node/cli/call-command.ts'
import { dispositionValue, multipartBody } from '../../src/node/cli/call-request.ts'
import { formatDeployment, formatDeployments, stepHosts } from '../../src/node/cli/deploy-command.ts'
import type { DeploymentView } from '../../src/node/cli/deploy-command.ts'
import { runWasmesh } from '../helpers/cli.ts'
import type { Run } from '../helpers/cli.ts'

const PEER_A = '12D3KooWAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'
const PEER_B = '12D3KooWBbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'

function view (over: Partial<DeploymentView> = {}): DeploymentView {
  return {
    id: 'dep-1',
    name: 'thermo',
    status: 'active',
    version: 1,
    coordinator: PEER_A,
    steps: [
      { module: 'camera-app', cid: 'bafkreicam', function: 'take_image', replicas: 2, peers: [PEER_A, PEER_B], hosts: [{ peerId: PEER_A, name: 'cam-1' }, { peerId: PEER_B, name: 'cam-2' }] },
      { module: 'bafkreigray', cid: 'bafkreigray', function: 'gray', replicas: 1, peers: [PEER_B], hosts: [] }
    ],
    ...over
  }
}

describe('deploy/call CLI helpers', () => {
  it('parseCallPath takes exactly three non-empty segments; callRoute encodes each', () => {
    expect(parseCallPath('dep-1/camera-app/take_image')).to.deep.equal({ deployment: 'dep-1', module: 'camera-app', function: 'take_image' })
    for (const bad of ['dep/mod', 'dep/mod/fn/x', '/mod/fn', 'dep//fn', 'dep/mod/', '']) {
      expect(() => parseCallPath(bad), bad).to.throw(/is not DEPLOYMENT\/MODULE\/FUNCTION/).with.property('code', 'bad-request')
    }
    expect(callRoute({ deployment: 'my dep', module: 'a?b', function: 'f#1' })).to.equal('/my%20dep/modules/a%3Fb/f%231')
  })

  it('parseFileFlags reads MOUNT=PATH and refuses bad syntax, a repeated mount and the name "args"', () => {
    expect(parseFileFlags(['img=./a.png', 'cfg=dir/x=y.json'])).to.deep.equal([{ mount: 'img', path: './a.png' }, { mount: 'cfg', path: 'dir/x=y.json' }])
    expect(parseFileFlags([])).to.deep.equal([])
    for (const bad of ['img', '=a.png', 'img=']) expect(() => parseFileFlags([bad])).to.throw(/--file: ".*" is not MOUNT=PATH/)
    expect(() => parseFileFlags(['img=a', 'img=b'])).to.throw(/mount "img" given twice/)
    expect(() => parseFileFlags(['args=a'])).to.throw(/"args"/)
  })

  it('callArg sends numbers as numbers, integers beyond 2^53 and non-numbers as strings', () => {
    expect(['42', '-5', '2.5', '+7', '.5', '1e3', '9007199254740991'].map(callArg)).to.deep.equal([42, -5, 2.5, 7, 0.5, 1000, 9007199254740991])
    expect(callArg('9007199254740993')).to.equal('9007199254740993')
    expect(callArg('-9223372036854775808')).to.equal('-9223372036854775808')
    expect(callArg('+18446744073709551615')).to.equal('18446744073709551615')
    for (const s of ['abc', '0x10', 'NaN', 'inf', '1e400', '', '1.2.3']) expect(callArg(s)).to.equal(s)
  })

  it('parseTimeoutMs takes a positive whole number, defaulting to 120 s', () => {
    expect(parseTimeoutMs(undefined)).to.equal(120_000)
    expect(parseTimeoutMs('2500')).to.equal(2500)
    for (const bad of ['0', '-1', '1.5', 'soon', '']) expect(() => parseTimeoutMs(bad), bad).to.throw(/--timeout-ms/)
  })

  it('formatResult prints numbers and strings as is, nothing for null, JSON otherwise; isValueAnswer reads the content type', () => {
    expect(formatResult(42)).to.equal('42')
    expect(formatResult(21.5)).to.equal('21.5')
    expect(formatResult('18446744073709551615')).to.equal('18446744073709551615')
    expect(formatResult(null)).to.equal(null)
    expect(formatResult(undefined)).to.equal(null)
    expect(formatResult([1, 2])).to.equal('[1,2]')
    expect(isValueAnswer('application/json; charset=utf-8')).to.equal(true)
    expect(isValueAnswer('Application/JSON')).to.equal(true)
    expect(isValueAnswer('image/png')).to.equal(false)
    expect(isValueAnswer(null)).to.equal(false)
  })

  it('fileAnswerTarget: --out wins, else stdout unless it is a terminal', () => {
    expect(fileAnswerTarget('x.png', true)).to.deep.equal({ out: 'x.png' })
    expect(fileAnswerTarget(undefined, false)).to.equal('stdout')
    expect(() => fileAnswerTarget(undefined, true)).to.throw(/--out PATH/).with.property('code', 'bad-request')
  })

  it('answerError reads a SPEC error body, else names the status; checkNodeUrl wants http(s)', () => {
    const e = answerError(504, 'Gateway Timeout', '{"error":{"code":"timeout","message":"step 1 ran past 5 s"}}')
    expect(e).to.include({ code: 'timeout', message: 'step 1 ran past 5 s' })
    expect(answerError(502, 'Bad Gateway', '<html>')).to.include({ code: 'internal', message: '502 Bad Gateway' })
    expect(answerError(418, '', '{"error":{"code":"teapot","message":"short and stout"}}')).to.include({ code: 'internal', message: 'short and stout' })
    expect(checkNodeUrl('https://node.local:8443')).to.equal('https://node.local:8443')
    for (const bad of ['nonsense', 'ftp://x', '127.0.0.1:8080']) expect(() => checkNodeUrl(bad), bad).to.throw(/--node: ".*" is not an http\(s\) URL/)
  })

  it('multipartBody lays out fields then files, with the exact length, parsed back by a standard reader', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wasmesh-mp-'))
    try {
      const path = join(dir, 'a"b.bin')
      await writeFile(path, Buffer.from([0, 13, 10, 255]))
      const body = multipartBody([{ name: 'args', value: '[1,"2"]' }], [{ name: 'im\ng', filename: 'a"b.bin', path, size: 4 }], '----b0undary')
      const bytes = Buffer.concat(await Promise.all(body.pieces.map(async p => Buffer.isBuffer(p) ? p : await readFile(p.path))))
      expect(bytes.length).to.equal(body.length)
      const form = await new Response(new Uint8Array(bytes), { headers: { 'content-type': body.contentType } }).formData()
      expect(form.get('args')).to.equal('[1,"2"]')
      // The reader undoes the escapes that keep the part header intact.
      const file = form.get('im\ng') as File
      expect(file.name).to.equal('a"b.bin')
      expect([...new Uint8Array(await file.arrayBuffer())]).to.deep.equal([0, 13, 10, 255])
      expect(dispositionValue('x\r\n"y')).to.equal('x%0D%0A%22y')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('formats a deployment: id first, one line per step with host names or peer ids, status when not active', () => {
    expect(stepHosts(view().steps[0])).to.deep.equal(['cam-1', 'cam-2'])
    expect(stepHosts({ ...view().steps[1], peers: [], hosts: [{ peerId: PEER_A, name: '' }] })).to.deep.equal([PEER_A])
    expect(formatDeployment(view())).to.equal(`dep-1\n  camera-app.take_image -> cam-1, cam-2\n  bafkreigray.gray -> ${PEER_B}`)
    const degraded = view({ status: 'degraded', steps: [{ ...view().steps[1], peers: [] }] })
    expect(formatDeployment(degraded)).to.equal('dep-1\n  bafkreigray.gray -> (no peer)\nstatus degraded')
  })

  it('formats the deployments table, aligned, or says there are none', () => {
    expect(formatDeployments([])).to.equal('no deployments')
    const table = formatDeployments([view(), view({ id: 'dep-22', name: 'x', status: 'degraded', steps: [] })])
    expect(table.split('\n')).to.deep.equal([
      'ID      NAME    STATUS    STEPS',
      'dep-1   thermo  active    camera-app.take_image,bafkreigray.gray',
      'dep-22  x       degraded  -'
    ])
  })
})

interface Recorded { method: string, url: string, contentType: string | undefined, timeoutHeader?: string, body: Buffer }
interface Answer { status?: number, type?: string, body: string | Buffer | object, hold?: boolean }

/** A stand-in node: records each request and answers from a function the test sets. */
class StubNode {
  readonly requests: Recorded[] = []
  answer: (r: Recorded) => Answer = () => ({ status: 500, body: { error: { code: 'internal', message: 'no answer set' } } })
  private server: Server | undefined
  url = ''

  async start (): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const r: Recorded = { method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'], body: Buffer.concat(chunks) }
        const deadline = req.headers['x-wasmesh-timeout-ms']
        if (typeof deadline === 'string') r.timeoutHeader = deadline
        this.requests.push(r)
        const a = this.answer(r)
        if (a.hold === true) return // never answers: the client must give up by itself
        const bytes = typeof a.body === 'string' || Buffer.isBuffer(a.body) ? a.body : JSON.stringify(a.body)
        res.writeHead(a.status ?? 200, { 'content-type': a.type ?? 'application/json' })
        res.end(bytes)
      })
    })
    await new Promise<void>(resolve => this.server?.listen(0, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  async stop (): Promise<void> {
    this.server?.closeAllConnections()
    await new Promise(resolve => this.server?.close(resolve))
  }
}

async function multipart (r: Recorded): Promise<FormData> {
  return await new Response(new Uint8Array(r.body), { headers: { 'content-type': r.contentType ?? '' } }).formData()
}

describe('wasmesh deploy / deployments / undeploy / call (against a stub node)', () => {
  const stub = new StubNode()
  let dir: string

  before(async () => {
    await stub.start()
    dir = await mkdtemp(join(tmpdir(), 'wasmesh-deploy-cli-'))
  })
  after(async () => {
    await stub.stop()
    await rm(dir, { recursive: true, force: true })
  })
  beforeEach(() => { stub.requests.length = 0 })

  async function wasmesh (...args: string[]): Promise<Run> {
    return await runWasmesh([...args, '--node', stub.url], { timeoutMs: 15_000 })
  }

  function expectUsageError (run: Run, message: RegExp): void {
    expect(run.code, run.stderr).to.equal(2)
    expect(run.stderr).to.match(message)
    expect(run.stderr.trimEnd().split('\n')).to.have.length(1)
    expect(run.stdout).to.equal('')
    expect(stub.requests, 'nothing sent').to.deep.equal([])
  }

  it('deploy sends the manifest as written and prints the id and where each step runs', async () => {
    const manifest = join(dir, 'manifest.json')
    const text = '{ "name": "thermo",\n  "steps": [{"module": "camera-app", "function": "take_image", "replicas": 2}, {"module": "bafkreigray", "function": "gray"}] }\n'
    await writeFile(manifest, text)
    stub.answer = () => ({ status: 201, body: view() })
    const run = await wasmesh('deploy', manifest)
    expect(run.code, run.stderr).to.equal(0)
    expect(stub.requests).to.have.length(1)
    expect(stub.requests[0]).to.include({ method: 'POST', url: '/deployments', contentType: 'application/json' })
    expect(stub.requests[0].body.toString()).to.equal(text)
    expect(run.stdout).to.equal(`dep-1\n  camera-app.take_image -> cam-1, cam-2\n  bafkreigray.gray -> ${PEER_B}\n`)

    const json = await wasmesh('deploy', manifest, '--json')
    expect(JSON.parse(json.stdout)).to.deep.equal(view())
  })

  it('deploy refuses a missing or broken manifest with exit 2 before any request; a node error exits 1 with its message', async () => {
    expectUsageError(await wasmesh('deploy', join(dir, 'missing.json')), /manifest .*missing\.json: no such file/)
    const broken = join(dir, 'broken.json')
    await writeFile(broken, '{"name": ')
    expectUsageError(await wasmesh('deploy', broken), /not valid JSON/)

    const manifest = join(dir, 'laser.json')
    await writeFile(manifest, '{"name": "x", "steps": [{"module": "laser-app", "function": "fire"}]}')
    stub.answer = () => ({ status: 409, body: { error: { code: 'unsatisfiable', message: 'step 0 (laser-app.fire): no reachable peer offers skill "laser"' } } })
    const run = await wasmesh('deploy', manifest)
    expect(run.code).to.equal(1)
    expect(run.stderr).to.equal('wasmesh: step 0 (laser-app.fire): no reachable peer offers skill "laser"\n')
    expect(run.stdout).to.equal('')
  })

  it('deployments lists a table (or "no deployments"), shows one by id; undeploy sends DELETE', async () => {
    stub.answer = () => ({ body: [] })
    expect((await wasmesh('deployments')).stdout).to.equal('no deployments\n')
    stub.answer = (r) => ({ body: r.url === '/deployments' ? [view()] : view({ id: 'a b' }) })
    const list = await wasmesh('deployments')
    expect(list.stdout).to.match(/^ID\s+NAME\s+STATUS\s+STEPS\ndep-1\s+thermo\s+active\s+camera-app\.take_image,bafkreigray\.gray\n$/)
    const one = await wasmesh('deployments', 'a b')
    expect(one.stdout.split('\n')[0]).to.equal('a b')
    expect(stub.requests.map(r => `${r.method} ${r.url}`)).to.deep.equal(['GET /deployments', 'GET /deployments', 'GET /deployments/a%20b'])

    stub.requests.length = 0
    stub.answer = () => ({ body: view({ status: 'removed' }) })
    const removed = await wasmesh('undeploy', 'dep-1')
    expect(removed.code, removed.stderr).to.equal(0)
    expect(removed.stdout).to.equal('removed dep-1\n')
    expect(stub.requests.map(r => `${r.method} ${r.url}`)).to.deep.equal(['DELETE /deployments/dep-1'])

    stub.answer = () => ({ status: 404, body: { error: { code: 'not-found', message: 'no deployment "nope"' } } })
    const missing = await wasmesh('undeploy', 'nope')
    expect(missing.code).to.equal(1)
    expect(missing.stderr).to.equal('wasmesh: no deployment "nope"\n')
  })

  it('call sends the arguments as JSON (big integers as strings) and prints the result', async () => {
    stub.answer = () => ({ body: { result: 42 } })
    const run = await wasmesh('call', 'dep-1/camera-app/take_image', '7', '-5', '2.5', '9007199254740993', 'abc')
    expect(run.code, run.stderr).to.equal(0)
    expect(run.stdout).to.equal('42\n')
    expect(stub.requests[0]).to.include({ method: 'POST', url: '/dep-1/modules/camera-app/take_image', contentType: 'application/json' })
    expect(JSON.parse(stub.requests[0].body.toString())).to.deep.equal({ args: [7, -5, 2.5, '9007199254740993', 'abc'] })

    stub.answer = () => ({ body: { result: '18446744073709551615' } })
    expect((await wasmesh('call', 'd/m/f')).stdout).to.equal('18446744073709551615\n')
    expect(JSON.parse(stub.requests[1].body.toString())).to.deep.equal({ args: [] })
    stub.answer = () => ({ body: { result: null } })
    const none = await wasmesh('call', 'd/m/f')
    expect(none.code).to.equal(0)
    expect(none.stdout).to.equal('')
    expect((await wasmesh('call', 'd/m/f', '--json')).stdout).to.equal('{"result":null}\n')
  })

  it('call --file sends multipart: the args field and one part per mount with the file bytes', async () => {
    const image = join(dir, 'in.png')
    const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251))
    await writeFile(image, bytes)
    const cfg = join(dir, 'cfg.txt')
    await writeFile(cfg, 'threshold=3')
    stub.answer = () => ({ body: { result: 1 } })
    const run = await wasmesh('call', 'd/m/f', '--file', `img=${image}`, '3', '--file', `cfg=${cfg}`)
    expect(run.code, run.stderr).to.equal(0)
    expect(run.stdout).to.equal('1\n')
    expect(stub.requests[0].contentType).to.match(/^multipart\/form-data; boundary=/)
    const form = await multipart(stub.requests[0])
    expect([...form.keys()]).to.deep.equal(['args', 'img', 'cfg'])
    expect(JSON.parse(form.get('args') as string)).to.deep.equal([3])
    const img = form.get('img') as File
    expect(img.name).to.equal('in.png')
    expect(Buffer.from(await img.arrayBuffer()).equals(bytes)).to.equal(true)
    expect(await (form.get('cfg') as File).text()).to.equal('threshold=3')
  })

  it('call writes a file answer to --out (or to stdout when piped) and leaves nothing else behind', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255])
    stub.answer = () => ({ type: 'image/png', body: png })
    const outDir = join(dir, 'out')
    await rm(outDir, { recursive: true, force: true })
    await mkdir(outDir)
    const out = join(outDir, 'gray.png')
    const run = await wasmesh('call', 'd/m/gray', '--out', out)
    expect(run.code, run.stderr).to.equal(0)
    expect((await readFile(out)).equals(png)).to.equal(true)
    expect(run.stdout).to.equal(`wrote ${out} (8 bytes, image/png)\n`)
    expect(await readdir(outDir)).to.deep.equal(['gray.png'])

    // runWasmesh reads stdout as text: a text media type shows the bytes pass through unchanged.
    stub.answer = () => ({ type: 'text/csv', body: 'a,b\n1,2\n' })
    const piped = await wasmesh('call', 'd/m/table')
    expect(piped.code, piped.stderr).to.equal(0)
    expect(piped.stdout).to.equal('a,b\n1,2\n')
  })

  it('call: an error answer exits non-zero with the node\'s message; a node that never answers times out', async () => {
    stub.answer = () => ({ status: 500, body: { error: { code: 'trap', message: 'wasm trap: integer divide by zero' } } })
    const trap = await wasmesh('call', 'd/m/f', '1', '0')
    expect(trap.code).to.equal(1)
    expect(trap.stderr).to.equal('wasmesh: wasm trap: integer divide by zero\n')
    expect(trap.stdout).to.equal('')

    stub.answer = () => ({ status: 502, type: 'text/html', body: '<html>bad gateway</html>' })
    const html = await wasmesh('call', 'd/m/f')
    expect(html.code).to.equal(1)
    expect(html.stderr).to.match(/^wasmesh: 502 Bad Gateway\n$/)

    // The deadline goes to the node, which enforces it along the chain; the CLI waits 5 s more for the answer.
    stub.answer = () => ({ body: '', hold: true })
    stub.requests.length = 0
    const slow = await wasmesh('call', 'd/m/f', '--timeout-ms', '300')
    expect(slow.code).to.equal(1)
    expect(slow.stderr).to.match(/no answer from the node within 5\.3 s/)
    expect(stub.requests[0].timeoutHeader).to.equal('300')
  })

  it('call refuses bad usage with exit 2 and one line, before any request', async () => {
    expectUsageError(await wasmesh('call', 'dep/mod'), /"dep\/mod" is not DEPLOYMENT\/MODULE\/FUNCTION/)
    expectUsageError(await wasmesh('call', 'dep//fn'), /is not DEPLOYMENT\/MODULE\/FUNCTION/)
    expectUsageError(await wasmesh('call', 'd/m/f', '--file', 'img'), /--file: "img" is not MOUNT=PATH/)
    expectUsageError(await wasmesh('call', 'd/m/f', '--file', `img=${join(dir, 'nope.png')}`), /--file img .*nope\.png: no such file/)
    expectUsageError(await wasmesh('call', 'd/m/f', '--file', `img=${dir}`), /not a file/)
    expectUsageError(await wasmesh('call', 'd/m/f', '--out', join(dir, 'no-dir', 'x.png')), /--out .*: no such directory/)
    expectUsageError(await wasmesh('call', 'd/m/f', '--timeout-ms', 'soon'), /--timeout-ms: "soon"/)
  })

  it('each command has its own help, with --node', async () => {
    for (const cmd of ['deploy', 'deployments', 'undeploy', 'call']) {
      const run = await runWasmesh([cmd, '--help'])
      expect(run.code, cmd).to.equal(0)
      expect(run.stdout, cmd).to.contain('--node <url>')
    }
  })
})
