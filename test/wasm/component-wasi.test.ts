import { expect } from 'chai'
import { Worker } from 'node:worker_threads'
import * as filesystem from '@bytecodealliance/preview2-shim/filesystem'
import { transpileComponent, type TranspiledComponent } from '../../src/wasm/component/transpile.ts'
import { ComponentExit, instantiateComponent } from '../../src/wasm/component/instantiate.ts'
import { wasiInterfaces } from '../../src/wasm/component/wasi-imports.ts'
import { helloWasiComponent } from '../helpers/fixtures.ts'
import { recordingCompile, testComponentHost } from '../helpers/component-host.ts'

describe('components with WASI 0.2', function () {
  let hello: TranspiledComponent

  before(async () => {
    hello = await transpileComponent(await helloWasiComponent(), 'hello')
  })

  it('imports WASI interfaces and exports functions', () => {
    expect(hello.imports).to.have.members(['wasi:cli/environment', 'wasi:cli/exit', 'wasi:cli/stdout', 'wasi:io/error', 'wasi:io/streams'])
    expect(hello.exports).to.deep.equal(['arg-count', 'hello', 'quit'])
  })

  it('sends wasi:cli/stdout to the host, not the process', async () => {
    const host = testComponentHost()
    const { functions } = await instantiateComponent(hello, recordingCompile(), host)
    functions.get('hello')!()
    functions.get('hello')!()
    expect(host.text()).to.equal('hello from wasi\nhello from wasi\n')
    expect(host.err).to.have.length(0)
  })

  it('gives the host arguments, and none by default', async () => {
    const withArgs = await instantiateComponent(hello, recordingCompile(), testComponentHost({ args: ['app.wasm', 'x', 'y'] }))
    expect(withArgs.functions.get('arg-count')!()).to.equal(3)
    const without = await instantiateComponent(hello, recordingCompile(), testComponentHost())
    expect(without.functions.get('arg-count')!()).to.equal(0)
  })

  it('throws ComponentExit from wasi:cli/exit instead of ending the process', async () => {
    const { functions } = await instantiateComponent(hello, recordingCompile(), testComponentHost())
    let exit: unknown
    try {
      functions.get('quit')!(false)
    } catch (err) {
      exit = err
    }
    expect(exit).to.be.instanceOf(ComponentExit)
    expect((exit as ComponentExit).code).to.equal(1)
    // still here: the process did not exit
    expect(process.exitCode).to.equal(undefined)
    const again = await instantiateComponent(hello, recordingCompile(), testComponentHost())
    expect(() => again.functions.get('quit')!(true)).to.throw(ComponentExit).with.property('code', 0)
  })

  it('gives the guest no preopens, no host cwd, only the host env, empty stdin, no terminals', () => {
    const wasi = wasiInterfaces({ env: { A: '1' }, stdout: () => {}, stderr: () => {} })
    expect(filesystem.preopens.getDirectories()).to.deep.equal([])
    const environment = wasi.get('cli/environment') as { getEnvironment: () => unknown, initialCwd: () => unknown, getArguments: () => unknown }
    expect(environment.getEnvironment()).to.deep.equal([['A', '1']])
    expect(environment.getArguments()).to.deep.equal([])
    expect(environment.initialCwd()).to.equal(undefined)
    const stdin = (wasi.get('cli/stdin') as { getStdin: () => { blockingRead: (n: bigint) => unknown } }).getStdin()
    expect(() => stdin.blockingRead(10n)).to.throw().that.deep.equals({ tag: 'closed' })
    expect((wasi.get('cli/terminal-stdout') as { getTerminalStdout: () => unknown }).getTerminalStdout()).to.equal(undefined)
    expect(wasi.has('sockets/tcp')).to.equal(false)
  })

  it('runs on a worker thread, given the transpiled component as a message', async () => {
    const worker = new Worker(new URL('../helpers/component-worker.ts', import.meta.url))
    try {
      const reply = await new Promise<{ stdout: string, exitCode: number, argCount: number }>((resolve, reject) => {
        worker.once('message', resolve)
        worker.once('error', reject)
        worker.postMessage({ component: hello, args: ['a', 'b'] })
      })
      expect(reply).to.deep.equal({ stdout: 'hello from wasi\n', exitCode: 3, argCount: 2 })
    } finally {
      await worker.terminate()
    }
  })
})
