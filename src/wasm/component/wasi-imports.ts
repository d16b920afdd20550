import * as cli from '@bytecodealliance/preview2-shim/cli'
import * as clocks from '@bytecodealliance/preview2-shim/clocks'
import * as filesystem from '@bytecodealliance/preview2-shim/filesystem'
import * as io from '@bytecodealliance/preview2-shim/io'
import * as random from '@bytecodealliance/preview2-shim/random'
import { ComponentExit } from './component-exit.ts'
import { WasmeshError } from '../../errors.ts'

/**
 * WASI 0.2 for components, from preview2-shim 0.26 but within the node's sandbox:
 *
 * - wasi:cli is built here per instance (arguments, environment, stdio, exit): the shim's own
 *   keeps them in module-level state, defaults to the host's argv/env/cwd and stdio, and its
 *   exit calls process.exit(). Nothing here touches that state, so instances never share it.
 * - wasi:filesystem has no preopens: the shim's preopen list is module-level state, empty by
 *   default in 0.26; it is cleared again when this module loads (once per thread: each guest
 *   runs on its own worker, and nothing in wasmesh ever adds a preopen).
 * - wasi:io, wasi:clocks and wasi:random are the shim's. Its blocking calls (pollables of
 *   clocks) go through an I/O worker it starts on first use, from the guest's thread.
 * - wasi:sockets and wasi:http are not offered: a guest gets no network, as with WASI
 *   preview 1 for core modules; a component importing them is unsatisfiable.
 */

filesystem._clearPreopens()

export interface WasiHost {
  args?: readonly string[]
  env?: Readonly<Record<string, string>>
  stdout: (bytes: Uint8Array) => void
  stderr: (bytes: Uint8Array) => void
}

/** how much a guest may write per `write` call (handed on at once), and the most write-zeroes makes */
const WRITE_BUDGET = 1n << 20n

/*
 * The shim's resource classes, to extend: jco's bindings check `instanceof` them. Their
 * declared constructors are private (guests get instances from the shim's functions), but
 * the classes construct fine and every method used is overridden.
 */
type Base = new () => object
const PollableBase = io.poll.Pollable as unknown as Base
const OutputStreamBase = io.streams.OutputStream as unknown as Base
const InputStreamBase = io.streams.InputStream as unknown as Base

interface ShimInputStream { blockingRead: (len: bigint) => unknown }

/** a pollable that is always ready: the host's streams never block */
class ReadyPollable extends PollableBase {
  ready (): boolean { return true }
  block (): void {}
}

/** a guest's stdout/stderr: every write goes straight to a host callback */
class HostOutputStream extends OutputStreamBase {
  readonly #write: (bytes: Uint8Array) => void

  constructor (write: (bytes: Uint8Array) => void) {
    super()
    this.#write = write
  }

  checkWrite (): bigint { return WRITE_BUDGET }
  write (buf: Uint8Array): void { this.#write(buf) }
  blockingWriteAndFlush (buf: Uint8Array): void { this.#write(buf) }
  flush (): void {}
  blockingFlush (): void {}
  writeZeroes (len: bigint): void { this.#write(zeroes(len)) }
  blockingWriteZeroesAndFlush (len: bigint): void { this.#write(zeroes(len)) }
  splice (src: ShimInputStream, len: bigint): bigint { return this.#splice(src, len) }
  blockingSplice (src: ShimInputStream, len: bigint): bigint { return this.#splice(src, len) }
  subscribe (): ReadyPollable { return new ReadyPollable() }

  #splice (src: ShimInputStream, len: bigint): bigint {
    // splice may move fewer bytes than asked: never more than a write's budget at once
    const bytes = src.blockingRead(len < WRITE_BUDGET ? len : WRITE_BUDGET) as Uint8Array
    this.#write(bytes)
    return BigInt(bytes.length)
  }
}

/**
 * `len` zero bytes, the length being the guest's: above the budget check-write grants it is a
 * broken precondition, which WASI 0.2 says traps (an Error, not a stream-error value, is what
 * jco's bindings let through as a trap), before anything is allocated.
 */
function zeroes (len: bigint): Uint8Array {
  if (len < 0n || len > WRITE_BUDGET) {
    throw new WasmeshError('trap', `write-zeroes of ${len} bytes, above the ${WRITE_BUDGET} that check-write allows`)
  }
  return new Uint8Array(Number(len))
}

/** a guest's stdin: empty, as a call has no input stream (the shim's would read the node's own stdin) */
class EmptyInputStream extends InputStreamBase {
  read (): never { throw { tag: 'closed' } } // eslint-disable-line no-throw-literal -- the WIT stream-error value
  blockingRead (): never { throw { tag: 'closed' } } // eslint-disable-line no-throw-literal
  skip (): never { throw { tag: 'closed' } } // eslint-disable-line no-throw-literal
  blockingSkip (): never { throw { tag: 'closed' } } // eslint-disable-line no-throw-literal
  subscribe (): ReadyPollable { return new ReadyPollable() }
}

const poll = {
  Pollable: io.poll.Pollable,
  poll (list: object[]): Uint32Array {
    // ready ones answer at once (poll may report any non-empty subset); the shim's need its I/O worker
    const ready: number[] = []
    list.forEach((p, i) => { if (p instanceof ReadyPollable) ready.push(i) })
    return ready.length > 0 ? new Uint32Array(ready) : io.poll.poll(list as Parameters<typeof io.poll.poll>[0]) as unknown as Uint32Array
  }
}

/**
 * The WASI 0.2 interfaces for one instance, by `package/interface` (`cli/stdout`), with
 * the JS names jco's bindings look for.
 */
export function wasiInterfaces (host: WasiHost): Map<string, object> {
  const args = [...host.args ?? []]
  const env = Object.entries(host.env ?? {})
  const stdout = new HostOutputStream(host.stdout)
  const stderr = new HostOutputStream(host.stderr)
  const stdin = new EmptyInputStream()
  return new Map<string, object>([
    ['cli/environment', {
      getEnvironment: () => env,
      getArguments: () => args,
      // no working directory: the guest sees no host path
      initialCwd: () => undefined
    }],
    ['cli/exit', {
      exit: (status: { tag: 'ok' | 'err' }) => { throw new ComponentExit(status.tag === 'err' ? 1 : 0) },
      exitWithCode: (code: number) => { throw new ComponentExit(code) }
    }],
    ['cli/stdin', { getStdin: () => stdin }],
    ['cli/stdout', { getStdout: () => stdout }],
    ['cli/stderr', { getStderr: () => stderr }],
    ['cli/terminal-input', cli.terminalInput],
    ['cli/terminal-output', cli.terminalOutput],
    // not terminals: output is captured, input is empty
    ['cli/terminal-stdin', { getTerminalStdin: () => undefined }],
    ['cli/terminal-stdout', { getTerminalStdout: () => undefined }],
    ['cli/terminal-stderr', { getTerminalStderr: () => undefined }],
    ['clocks/monotonic-clock', clocks.monotonicClock],
    ['clocks/wall-clock', clocks.wallClock],
    ['filesystem/types', filesystem.types],
    ['filesystem/preopens', filesystem.preopens],
    ['io/error', io.error],
    ['io/poll', poll],
    ['io/streams', io.streams],
    ['random/random', random.random],
    ['random/insecure', random.insecure],
    ['random/insecure-seed', random.insecureSeed]
  ])
}
