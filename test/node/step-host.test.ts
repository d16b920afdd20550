import { expect } from 'chai'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { answerOf, nextInput, StepHost } from '../../src/node/deployments/step-host.ts'
import type { StepHostInit } from '../../src/node/deployments/step-host.ts'
import type { CallAnswer, CallFile } from '../../src/protocols/call/messages.ts'
import type { FunctionDescription, MountDescription } from '../../src/wasm/describe/description.ts'
import { WasmRuntime } from '../../src/wasm/runtime/index.ts'
import type { GuestOutcome } from '../../src/wasm/runtime/index.ts'
import { wat } from '../helpers/fixtures.ts'
import { rejection } from '../helpers/rejection.ts'

const bytesOf = (text: string): Uint8Array => new TextEncoder().encode(text)
const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)
const file = (mount: string, content: string): CallFile => ({ mount, mediaType: 'text/plain', bytes: bytesOf(content) })

function described (mounts: Array<Omit<MountDescription, 'mediaType'> & { mediaType?: string }>, result: FunctionDescription['result'] = null): FunctionDescription {
  return { method: 'post', parameters: [], result, mounts: mounts.map(m => ({ mediaType: 'text/plain', ...m })) }
}

const UPPER = described([{ name: 'input', stage: 'execution' }, { name: 'output', stage: 'output' }], { mediaType: 'text/plain' })
const MODEL = new Uint8Array([1, 2, 3, 250])

describe('StepHost: one deployment step hosted on this node', function () {
  let runtime: WasmRuntime
  let root: string
  let n = 0
  const hosts: StepHost[] = []

  async function host (fn: string, init: Partial<StepHostInit> = {}): Promise<StepHost> {
    const opened = await StepHost.open({
      runtime, bytes: await wat('step'), function: fn, dir: join(root, `step-${n++}`), deploymentFiles: [], ...init
    })
    hosts.push(opened)
    return opened
  }

  beforeEach(() => {
    runtime = new WasmRuntime({ limits: { maxMemoryPages: 64 } })
    root = mkdtempSync(join(tmpdir(), 'wasmesh-step-'))
  })
  afterEach(async () => {
    for (const h of hosts.splice(0)) await h.close()
    runtime.close()
    rmSync(root, { recursive: true, force: true })
  })

  it('keeps one instance across calls; two steps on the same module keep separate state', async () => {
    const a = await host('next')
    const b = await host('next')
    const answers: CallAnswer[] = []
    for (let i = 0; i < 3; i++) answers.push(await a.call([], []))
    expect(answers).to.deep.equal([1, 2, 3].map(value => ({ kind: 'value', value })))
    expect(await b.call([], [])).to.deep.equal({ kind: 'value', value: 1 })
    expect(runtime.instances).to.equal(2)
  })

  it('empties the folder first, holds the deployment-stage file before any call, and close removes the folder', async () => {
    const dir = join(root, 'model-step')
    mkdirSync(dir)
    writeFileSync(join(dir, 'stale'), 'from before')
    const step = await host('model_sum', { dir, deploymentFiles: [{ mount: 'model.bin', bytes: MODEL }] })
    expect(readdirSync(dir)).to.deep.equal(['model.bin'])
    expect(new Uint8Array(readFileSync(join(dir, 'model.bin')))).to.deep.equal(MODEL)
    expect(await step.call([], [])).to.deep.equal({ kind: 'value', value: 256 })
    expect(await step.call([], [])).to.deep.equal({ kind: 'value', value: 256 })
    await step.close()
    expect(existsSync(dir)).to.equal(false)
    expect(runtime.instances).to.equal(0)
    expect((await rejection(step.call([], []))).code).to.equal('not-found')
  })

  it('writes execution files for one call, answers with the output file, and leaves only the deployment files', async () => {
    const step = await host('upper', { description: UPPER, deploymentFiles: [{ mount: 'model.bin', bytes: MODEL }] })
    const answer = await step.call([], [file('input', 'hello, mesh')])
    expect(answer.kind).to.equal('file')
    if (answer.kind !== 'file') return
    expect(answer.file.mount).to.equal('output')
    expect(answer.file.mediaType).to.equal('text/plain')
    expect(text(answer.file.bytes)).to.equal('HELLO, MESH')
    expect(readdirSync(step.dir)).to.deep.equal(['model.bin'])
  })

  it('serialises calls with files: concurrent calls each get their own output', async () => {
    const step = await host('upper', { description: UPPER })
    const words = Array.from({ length: 12 }, (_, i) => `word number ${i}`)
    const answers = await Promise.all(words.map(async w => await step.call([], [file('input', w)])))
    expect(answers.map(a => a.kind === 'file' ? text(a.file.bytes) : a.kind)).to.deep.equal(words.map(w => w.toUpperCase()))
    expect(readdirSync(step.dir)).to.deep.equal([])
  })

  it('without a description, takes a file for any plain mount name and answers the export\'s result', async () => {
    const step = await host('input_length')
    expect(await step.call([], [file('input', 'twelve bytes')])).to.deep.equal({ kind: 'value', value: 12 })
    expect(readdirSync(step.dir)).to.deep.equal([])
    // no file: the guest cannot open it and traps
    expect((await rejection(step.call([], []))).code).to.equal('trap')
  })

  it('refuses bad mounts as bad-request naming the mount, without running the guest or writing anything', async () => {
    const counter = await host('next', { description: described([], { type: 'i32' }) })
    const err = await rejection(counter.call([], [file('extra', 'x')]))
    expect(err.code).to.equal('bad-request')
    expect(err.message).to.contain('"extra"')
    expect(await counter.call([], [])).to.deep.equal({ kind: 'value', value: 1 })
    expect(readdirSync(counter.dir)).to.deep.equal([])

    const upper = await host('upper', { description: UPPER })
    const missing = await rejection(upper.call([], []))
    expect(missing.code).to.equal('bad-request')
    expect(missing.message).to.contain('"input"')
    expect((await rejection(upper.call([], [file('input', 'a'), file('input', 'b')]))).code).to.equal('bad-request')
    expect((await rejection(upper.call([], [file('output', 'a')]))).message).to.contain('"output"')
    // arguments the function does not take are refused before the files are written
    expect((await rejection(upper.call([1], [file('input', 'a')]))).code).to.equal('bad-request')

    const loose = await host('next', { deploymentFiles: [{ mount: 'model.bin', bytes: MODEL }] })
    for (const mount of ['../escape', 'a/b', '..', '.', '', 'nul\0byte', 'x'.repeat(256)]) {
      const bad = await rejection(loose.call([], [file(mount, 'x')]))
      expect(bad.code, JSON.stringify(mount)).to.equal('bad-request')
    }
    // a mount holding a deployment-stage file is not overwritten by a call's file
    expect((await rejection(loose.call([], [file('model.bin', 'x')]))).message).to.contain('"model.bin"')
    expect(new Uint8Array(readFileSync(join(loose.dir, 'model.bin')))).to.deep.equal(MODEL)
    expect(await loose.call([], [])).to.deep.equal({ kind: 'value', value: 1 })
    expect(readdirSync(root).sort()).to.deep.equal([0, 1, 2].map(i => `step-${n - 3 + i}`).sort())
  })

  it('answers a trap when the function writes no output file, and too-large past the limit; no files stay', async () => {
    const nothing = await host('nothing', { description: described([{ name: 'output', stage: 'output' }], { mediaType: 'text/plain' }) })
    const err = await rejection(nothing.call([], []))
    expect(err.code).to.equal('trap')
    expect(err.message).to.equal('the function wrote no output file output')

    const small = await host('upper', { description: UPPER, maxOutputBytes: 4 })
    expect(await small.call([], [file('input', 'abcd')])).to.have.property('kind', 'file')
    const large = await rejection(small.call([], [file('input', 'abcde')]))
    expect(large.code).to.equal('too-large')
    expect(readdirSync(small.dir)).to.deep.equal([])

    // the host never reads an output through a link the guest made
    const link = await host('link_output', { description: described([{ name: 'output', stage: 'output' }], { mediaType: 'text/plain' }), deploymentFiles: [{ mount: 'model.bin', bytes: MODEL }] })
    const linked = await rejection(link.call([], []))
    expect(linked.code).to.equal('trap')
    expect(linked.message).to.contain('is a link')
    expect(readdirSync(link.dir)).to.deep.equal(['model.bin'])
  })

  it('answers numbers as the answer carries them: i64 past 2^53 as a decimal string, NaN as a string, none for no result', async () => {
    expect(await (await host('big')).call([], [])).to.deep.equal({ kind: 'value', value: '9007199254740993' })
    expect(await (await host('small64')).call([], [])).to.deep.equal({ kind: 'value', value: -5 })
    expect(await (await host('half')).call(['3'], [])).to.deep.equal({ kind: 'value', value: 1.5 })
    expect(await (await host('not_a_number')).call([], [])).to.deep.equal({ kind: 'value', value: 'NaN' })
    expect(await (await host('nothing')).call([], [])).to.deep.equal({ kind: 'none' })
    // described as answering nothing: its return value is not part of the answer
    expect(await (await host('next', { description: described([]) })).call([], [])).to.deep.equal({ kind: 'none' })
  })

  it('turns an exit with 0 into no answer and any other code into a trap; the step serves on', async () => {
    const step = await host('exit_with')
    expect(await step.call([0], [])).to.deep.equal({ kind: 'none' })
    const err = await rejection(step.call([3], []))
    expect(err.code).to.equal('trap')
    expect(err.message).to.equal('the guest exited with code 3')
    expect(await step.call([0], [])).to.deep.equal({ kind: 'none' })
  })

  it('passes a timeout through as the runtime reports it', async () => {
    const step = await StepHost.open({ runtime, bytes: await wat('runaway'), function: 'spin', dir: join(root, 'spin'), deploymentFiles: [] })
    hosts.push(step)
    expect((await rejection(step.call([], [], 150))).code).to.equal('timeout')
  })

  it('gives the guest the deployment\'s config as its environment', async () => {
    const step = await host('env_to_output', {
      description: described([{ name: 'output', stage: 'output' }], { mediaType: 'text/plain' }),
      env: { MODE: 'fast', LIMIT: '3' }
    })
    const answer = await step.call([], [])
    expect(answer.kind === 'file' ? text(answer.file.bytes).split('\0').filter(s => s !== '').sort() : answer).to.deep.equal(['LIMIT=3', 'MODE=fast'])
  })

  it('refuses at open, leaving no folder behind: an unknown function, several results, a bad mount name, a missing skill', async () => {
    const dir = join(root, 'refused')
    const notFound = await rejection(StepHost.open({ runtime, bytes: await wat('step'), function: 'missing', dir, deploymentFiles: [] }))
    expect(notFound.code).to.equal('not-found')
    expect(existsSync(dir)).to.equal(false)
    expect((await rejection(StepHost.open({ runtime, bytes: await wat('step'), function: 'pair', dir, deploymentFiles: [] }))).code).to.equal('bad-request')
    const badName = await rejection(StepHost.open({ runtime, bytes: await wat('step'), function: 'next', dir, deploymentFiles: [{ mount: '../x', bytes: MODEL }] }))
    expect(badName.code).to.equal('bad-request')
    const outsideOutput = described([{ name: '..', stage: 'output' }], { mediaType: 'text/plain' })
    expect((await rejection(StepHost.open({ runtime, bytes: await wat('step'), function: 'upper', description: outsideOutput, dir, deploymentFiles: [] }))).code).to.equal('bad-request')
    expect(existsSync(root)).to.equal(true)
    expect((await rejection(StepHost.open({ runtime, bytes: await wat('camera-app'), function: 'take_image', dir, deploymentFiles: [] }))).code).to.equal('unsatisfiable')
    expect(existsSync(dir)).to.equal(false)
    expect(runtime.instances).to.equal(0)
  })
})

describe('StepHost decisions', () => {
  const outcome = (fields: Partial<GuestOutcome>): GuestOutcome => ({ stdout: new Uint8Array(0), stderr: new Uint8Array(0), truncated: false, ...fields })
  const out: CallFile = { mount: 'result.png', mediaType: 'image/png', bytes: new Uint8Array([1, 2]) }

  it('nextInput: a value is the only argument, a file goes to the first execution mount (or keeps its name), none gives nothing', () => {
    expect(nextInput({ kind: 'value', value: 7 }, undefined)).to.deep.equal({ args: [7], files: [] })
    expect(nextInput({ kind: 'value', value: '9007199254740993' }, described([]))).to.deep.equal({ args: ['9007199254740993'], files: [] })
    const next = described([{ name: 'model', stage: 'deployment' }, { name: 'image', stage: 'execution' }, { name: 'mask', stage: 'execution' }])
    expect(nextInput({ kind: 'file', file: out }, next)).to.deep.equal({ args: [], files: [{ ...out, mount: 'image' }] })
    expect(nextInput({ kind: 'file', file: out }, described([{ name: 'model', stage: 'deployment' }]))).to.deep.equal({ args: [], files: [out] })
    expect(nextInput({ kind: 'file', file: out }, undefined)).to.deep.equal({ args: [], files: [out] })
    expect(nextInput({ kind: 'none' }, next)).to.deep.equal({ args: [], files: [] })
  })

  it('answerOf: by the description, else by the export\'s result types', () => {
    expect(answerOf(outcome({ value: 2n ** 53n }), 'f', undefined, ['i64'])).to.deep.equal({ kind: 'value', value: '9007199254740992' })
    expect(answerOf(outcome({ value: -(2n ** 53n) + 1n }), 'f', undefined, ['i64'])).to.deep.equal({ kind: 'value', value: -(2 ** 53) + 1 })
    expect(answerOf(outcome({ value: -Infinity }), 'f', undefined, ['f64'])).to.deep.equal({ kind: 'value', value: '-Infinity' })
    expect(answerOf(outcome({ value: undefined }), 'f', undefined, [])).to.deep.equal({ kind: 'none' })
    expect(answerOf(outcome({ value: 4 }), 'f', described([]), ['i32'])).to.deep.equal({ kind: 'none' })
    const withOutput = described([{ name: 'out', stage: 'output', mediaType: 'image/png' }], { mediaType: 'image/png' })
    expect(answerOf(outcome({ exitCode: 0 }), 'f', withOutput, [], out.bytes)).to.deep.equal({ kind: 'file', file: { mount: 'out', mediaType: 'image/png', bytes: out.bytes } })
    expect(() => answerOf(outcome({ value: undefined }), 'f', withOutput, [])).to.throw('the function wrote no output file out')
    expect(() => answerOf(outcome({ exitCode: 1 }), 'f', withOutput, [], out.bytes)).to.throw('the guest exited with code 1')
    expect(() => answerOf(outcome({ value: 'text' }), 'f', undefined, undefined)).to.throw(/answered a string/)
  })
})
