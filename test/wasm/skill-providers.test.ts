import { expect } from 'chai'
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { crc32, inflateSync } from 'node:zlib'
import { WasmeshError } from '../../src/errors.ts'
import { PROVIDER_DEFAULTS, SIMULATED_DEFAULTS, createProvider, createProviders, testImagePng, type ProviderOptions, type SkillProvider } from '../../src/wasm/skills/providers/index.ts'
import type { ConfiguredSkill } from '../../src/wasm/skills/skills-file.ts'
import { waitFor } from '../helpers/wait.ts'
import { rejection } from '../helpers/rejection.ts'

const never = new AbortController().signal

function provider (name: string, provider: ConfiguredSkill['provider'], options?: ProviderOptions): SkillProvider {
  return createProvider({ name, provider }, options)
}

function command (name: string, cmd: string, options?: ProviderOptions): SkillProvider {
  return provider(name, { type: 'command', command: cmd }, options)
}

async function rejectionWith (promise: Promise<unknown>, code: string, pattern: RegExp): Promise<WasmeshError> {
  const err = await rejection(promise)
  expect(err.code).to.equal(code)
  expect(err.message).to.match(pattern)
  return err
}

/** a process is gone once it has no /proc entry or is a zombie waiting for its reaper */
async function alive (pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

async function exists (path: string): Promise<boolean> {
  return await stat(path).then(() => true, () => false)
}

function pngChunks (png: Uint8Array): Array<{ type: string, data: Buffer }> {
  const buf = Buffer.from(png)
  const chunks: Array<{ type: string, data: Buffer }> = []
  let at = 8
  while (at < buf.length) {
    const length = buf.readUInt32BE(at)
    const type = buf.toString('latin1', at + 4, at + 8)
    const data = buf.subarray(at + 8, at + 8 + length)
    expect(buf.readUInt32BE(at + 8 + length), `${type} CRC`).to.equal(crc32(data, crc32(buf.subarray(at + 4, at + 8))))
    chunks.push({ type, data })
    at += 12 + length
  }
  expect(at).to.equal(buf.length)
  return chunks
}

describe('skill providers', () => {
  let dir: string

  before(async () => { dir = await mkdtemp(join(tmpdir(), 'wasmesh-providers-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  describe('simulated', () => {
    it('gives dht 21.5 and 40.0 unless the skills file gives values', async () => {
      const plain = provider('dht', { type: 'simulated' })
      expect(await plain.read('temperature', never)).to.equal(21.5)
      expect(await plain.read('humidity', never)).to.equal(40.0)
      const given = provider('dht', { type: 'simulated', values: { humidity: 77 } })
      expect(await given.read('temperature', never)).to.equal(SIMULATED_DEFAULTS.temperature)
      expect(await given.read('humidity', never)).to.equal(77)
    })

    it('gives camera a valid 64x48 RGB PNG, the same bytes every time', async () => {
      const camera = provider('camera', { type: 'simulated' })
      const first = await camera.read('image', never) as Uint8Array
      expect(first).to.be.instanceOf(Uint8Array)
      expect([...first.subarray(0, 8)]).to.deep.equal([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
      const chunks = pngChunks(first)
      expect(chunks.map(c => c.type)).to.deep.equal(['IHDR', 'IDAT', 'IEND'])
      const ihdr = chunks[0].data
      expect([ihdr.readUInt32BE(0), ihdr.readUInt32BE(4), ihdr[8], ihdr[9], ihdr[10], ihdr[11], ihdr[12]]).to.deep.equal([64, 48, 8, 2, 0, 0, 0])
      const raw = inflateSync(chunks[1].data)
      expect(raw.length).to.equal(48 * (1 + 64 * 3))
      // bottom-right pixel: full red, full green, blue 128
      expect([...raw.subarray(raw.length - 3)]).to.deep.equal([255, 255, 128])

      first.fill(0) // a reader's copy: changing it changes nothing for the next
      expect(await camera.read('image', never)).to.deep.equal(testImagePng())
      expect(testImagePng()).to.deep.equal(testImagePng(64, 48))
    })

    it('refuses a quantity the skill does not have', async () => {
      await rejectionWith(provider('camera', { type: 'simulated' }).read('temperature', never), 'bad-request', /skill "camera" has no quantity "temperature" \(known: image\)/)
      await rejectionWith(provider('dht', { type: 'simulated' }).read('image', never), 'bad-request', /known: temperature, humidity/)
    })
  })

  describe('createProviders', () => {
    it('makes one per configured skill and none for sys', () => {
      const providers = createProviders([
        { name: 'camera', provider: { type: 'simulated' } },
        { name: 'dht', provider: { type: 'file', path: '/nowhere' } }
      ])
      expect([...providers.keys()]).to.deep.equal(['camera', 'dht'])
      expect(createProviders([{ name: 'sys', provider: { type: 'simulated' } }]).size).to.equal(0)
      expect(() => createProvider({ name: 'sys', provider: { type: 'simulated' } })).to.throw(WasmeshError, /takes no provider/)
    })

    it('keeps its defaults in one place', () => {
      expect(PROVIDER_DEFAULTS.commandTimeoutMs).to.equal(5000)
      expect(PROVIDER_DEFAULTS.maxBytes).to.equal(16 * 1024 * 1024)
    })
  })

  describe('command', () => {
    it('parses a number from stdout, told the skill and quantity in the environment', async () => {
      const dht = command('dht', 'test "$WASMESH_SKILL" = dht || exit 9; case "$WASMESH_QUANTITY" in temperature) echo " 23.25 ";; humidity) echo 5e1;; esac')
      expect(await dht.read('temperature', never)).to.equal(23.25)
      expect(await dht.read('humidity', never)).to.equal(50)
    })

    it('takes the quantity from JSON output', async () => {
      const dht = command('dht', 'echo \'{"temperature": -3.5, "humidity": 61}\'')
      expect(await dht.read('temperature', never)).to.equal(-3.5)
      expect(await dht.read('humidity', never)).to.equal(61)
      await rejectionWith(command('dht', 'echo \'{"humidity": 61}\'').read('temperature', never), 'unavailable', /expected a number or JSON \{"temperature": number\}, got "\{\\"humidity\\": 61\}"/)
    })

    it('refuses what is not strictly a number', async () => {
      for (const out of ['21.5C', '0x10', 'Infinity', '', '1 2', '"21"']) {
        await rejectionWith(command('dht', `printf '%s' '${out}'`).read('temperature', never), 'unavailable', /^skill dht: command .* gave no temperature/)
      }
    })

    it('gives the bytes of stdout for an image, run in the given directory', async () => {
      const image = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31) & 0xff)
      await writeFile(join(dir, 'shot.bin'), image)
      const camera = command('camera', 'cat shot.bin', { cwd: dir })
      expect(await camera.read('image', never)).to.deep.equal(image)
      await rejectionWith(command('camera', 'true').read('image', never), 'unavailable', /gave no image \(empty output\)/)
    })

    it('reports a non-zero exit with the tail of stderr', async () => {
      const err = await rejectionWith(command('camera', 'head -c 5000 /dev/zero | tr "\\0" x >&2; echo "no device /dev/video0" >&2; exit 3').read('image', never),
        'unavailable', /^skill camera: command ".*" exited with code 3; stderr: x+no device \/dev\/video0$/)
      expect(err.message.length).to.be.below(PROVIDER_DEFAULTS.stderrTailBytes + 200)
    })

    it('kills a command that runs too long, with what it started', async () => {
      const pidFile = join(dir, 'timeout.pid')
      await rejectionWith(command('dht', `sleep 30 & echo $! > ${pidFile}; wait`, { commandTimeoutMs: 300 }).read('temperature', never),
        'unavailable', /took longer than 300 ms and was killed/)
      const pid = Number(await readFile(pidFile, 'utf8'))
      await waitFor(async () => !(await alive(pid)), 5000, 'the command\'s child to die')
    })

    it('kills a command that prints too much', async () => {
      await rejectionWith(command('camera', 'yes', { maxBytes: 100_000 }).read('image', never), 'unavailable', /printed more than 100000 bytes and was killed/)
    })

    it('kills the command when the read is aborted', async () => {
      const pidFile = join(dir, 'abort.pid')
      const controller = new AbortController()
      const read = command('dht', `echo $$ > ${pidFile}; sleep 30`).read('temperature', controller.signal)
      await waitFor(async () => await readFile(pidFile, 'utf8').then(t => t.endsWith('\n'), () => false), 5000, 'the command to start')
      controller.abort()
      await rejectionWith(read, 'unavailable', /^skill dht: command ".*" was aborted/)
      const pid = Number(await readFile(pidFile, 'utf8'))
      await waitFor(async () => !(await alive(pid)), 5000, 'the command to die')

      // the abort's reason, when it is wasmesh's own, is what the read rejects with
      const timedOut = new AbortController()
      timedOut.abort(new WasmeshError('timeout', 'the call ran past 100 ms'))
      await rejectionWith(command('dht', `touch ${join(dir, 'ran')}`).read('temperature', timedOut.signal), 'timeout', /ran past/)
      expect(await exists(join(dir, 'ran')), 'the command ran').to.equal(false)
    })

    it('says so when the command cannot start', async () => {
      await rejectionWith(command('dht', 'echo 1', { cwd: join(dir, 'no-such-dir') }).read('temperature', never), 'unavailable', /could not start \(\/bin\/sh in .*no-such-dir\)/)
    })

    it('refuses an unknown quantity without running anything', async () => {
      await rejectionWith(command('camera', `touch ${join(dir, 'ran-q')}`).read('humidity', never), 'bad-request', /no quantity "humidity"/)
      expect(await exists(join(dir, 'ran-q')), 'the command ran').to.equal(false)
    })
  })

  describe('file', () => {
    it('gives a file\'s bytes, or its number or JSON, relative paths from cwd', async () => {
      await writeFile(join(dir, 'photo.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]))
      await writeFile(join(dir, 'temp.txt'), '19.75\n')
      await writeFile(join(dir, 'both.json'), '{"temperature": 18, "humidity": 33.5}')
      expect(await provider('camera', { type: 'file', path: 'photo.jpg' }, { cwd: dir }).read('image', never)).to.deep.equal(Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]))
      expect(await provider('dht', { type: 'file', path: join(dir, 'temp.txt') }).read('temperature', never)).to.equal(19.75)
      const both = provider('dht', { type: 'file', path: 'both.json' }, { cwd: dir })
      expect(await both.read('humidity', never)).to.equal(33.5)
      expect(await both.read('temperature', never)).to.equal(18)
    })

    it('gives a directory\'s regular files in name order, one per read, cycling', async () => {
      const frames = join(dir, 'frames')
      await mkdir(join(frames, 'a-subdir'), { recursive: true })
      for (const name of ['b.jpg', 'a.jpg', 'c.jpg']) await writeFile(join(frames, name), name)
      const camera = provider('camera', { type: 'file', path: frames })
      const seen: string[] = []
      for (let i = 0; i < 4; i++) seen.push(Buffer.from(await camera.read('image', never) as Uint8Array).toString())
      expect(seen).to.deep.equal(['a.jpg', 'b.jpg', 'c.jpg', 'a.jpg'])

      const samples = join(dir, 'samples')
      await mkdir(samples)
      await writeFile(join(samples, '1'), '{"temperature": 1, "humidity": 10}')
      await writeFile(join(samples, '2'), '{"temperature": 2, "humidity": 20}')
      const dht = provider('dht', { type: 'file', path: samples })
      // each quantity keeps its own place in the directory
      expect([await dht.read('temperature', never), await dht.read('humidity', never), await dht.read('temperature', never), await dht.read('humidity', never)])
        .to.deep.equal([1, 10, 2, 20])
    })

    it('says clearly when the file is missing, the directory empty or the file too big', async () => {
      await rejectionWith(provider('camera', { type: 'file', path: 'nope.jpg' }, { cwd: dir }).read('image', never), 'unavailable', new RegExp(`^skill camera: file ${join(dir, 'nope.jpg')} does not exist$`))
      await mkdir(join(dir, 'empty'))
      await rejectionWith(provider('camera', { type: 'file', path: join(dir, 'empty') }).read('image', never), 'unavailable', /has no regular files/)
      await writeFile(join(dir, 'big.bin'), new Uint8Array(2000))
      await rejectionWith(provider('camera', { type: 'file', path: join(dir, 'big.bin') }, { maxBytes: 1000 }).read('image', never), 'unavailable', /has 2000 bytes, more than the 1000 allowed/)
      await writeFile(join(dir, 'warm.txt'), 'warm')
      await rejectionWith(provider('dht', { type: 'file', path: join(dir, 'warm.txt') }).read('temperature', never), 'unavailable', /got "warm"/)
    })
  })
})
