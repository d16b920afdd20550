import { expect } from 'chai'
import { engine } from '../../src/wasm/engine.ts'
import { transpileComponent, type TranspiledComponent } from '../../src/wasm/component/transpile.ts'
import { instantiateComponent } from '../../src/wasm/component/instantiate.ts'
import { exportPath, kebab, lowerCamel, skillOfImport, wasiInterface } from '../../src/wasm/component/names.ts'
import { calcComponent, sensorComponent, wat } from '../helpers/fixtures.ts'
import { TEST_IMAGE, recordingCompile, testComponentHost } from '../helpers/component-host.ts'
import { rejection } from '../helpers/rejection.ts'

describe('components', function () {
  let sensor: TranspiledComponent

  before(async () => {
    sensor = await transpileComponent(await sensorComponent(), 'sensor')
  })

  describe('names', () => {
    it('converts between WIT and jco names', () => {
      expect(lowerCamel('get-temperature')).to.equal('getTemperature')
      expect(lowerCamel('print-int')).to.equal('printInt')
      expect(kebab('getTemperature')).to.equal('get-temperature')
      expect(kebab('sha256Sum')).to.equal('sha256-sum')
      expect(kebab(lowerCamel('to-fahrenheit'))).to.equal('to-fahrenheit')
    })

    it('names exported functions by WIT name, interface functions as INTERFACE#FUNCTION', () => {
      expect(exportPath(undefined, 'temperaturePlus')).to.equal('temperature-plus')
      expect(exportPath('local:calc/ops', 'mul')).to.equal('local:calc/ops#mul')
      expect(exportPath('myOps', 'toFahrenheit')).to.equal('my-ops#to-fahrenheit')
    })

    it('maps import specifiers to skills and WASI interfaces', () => {
      expect(skillOfImport('camera')).to.equal('camera')
      expect(skillOfImport('wasmesh:skills/camera@1.0.0')).to.equal('camera')
      expect(skillOfImport('wasmesh:skills/dht')).to.equal('dht')
      expect(skillOfImport('wasi:cli/stdout')).to.equal(undefined)
      expect(wasiInterface('wasi:cli/terminal-stdout@0.2.3')).to.deep.equal({ pkg: 'cli', iface: 'terminal-stdout' })
      expect(wasiInterface('wasi:io/streams')).to.deep.equal({ pkg: 'io', iface: 'streams' })
      expect(wasiInterface('wasmesh:skills/dht')).to.equal(undefined)
    })
  })

  describe('transpile', () => {
    it('gives self-contained sync bindings, the core modules apart, imports and exports', () => {
      expect(sensor.js).to.match(/export function instantiate\(getCoreModule, imports, instantiateCore/)
      // imports nothing, inlines no core module: the runtime compiles them all
      expect(sensor.js).not.to.match(/^\s*import[\s{*]/m)
      expect(sensor.js).not.to.match(/base64|WebAssembly\.compile/)
      expect(Object.keys(sensor.coreModules)).to.include('sensor.core.wasm')
      for (const bytes of Object.values(sensor.coreModules)) expect(engine.validate(bytes)).to.equal(true)
      expect(sensor.imports).to.have.members(['wasmesh:skills/camera', 'wasmesh:skills/dht', 'wasmesh:skills/sys'])
      expect(sensor.exports).to.deep.equal(['add', 'greet', 'image-size', 'local:sensor/convert#to-fahrenheit', 'temperature-plus'])
    })

    it('lists an interface exported under two keys once, by its full name', async () => {
      const calc = await transpileComponent(await calcComponent())
      expect(calc.exports).to.deep.equal(['add', 'local:calc/ops#mul'])
      expect(calc.imports).to.have.members(['camera', 'local:calc/clock', 'wasi:random/insecure'])
      expect(Object.keys(calc.coreModules)).to.deep.equal(['component.core.wasm'])
    })

    it('is plain data a worker can be sent', () => {
      expect(structuredClone(sensor)).to.deep.equal(sensor)
    })

    it('rejects what is not a component as invalid-module', async () => {
      expect((await rejection(transpileComponent(new Uint8Array([1, 2, 3])))).code).to.equal('invalid-module')
      // a core module is no component either
      expect((await rejection(transpileComponent(await wat('add')))).code).to.equal('invalid-module')
    })
  })

  describe('instantiate', () => {
    it('calls a numeric export with u32 semantics', async () => {
      const names: string[] = []
      const { functions } = await instantiateComponent(sensor, recordingCompile(names), testComponentHost())
      expect(names).to.have.members(Object.keys(sensor.coreModules))
      expect([...functions.keys()].sort()).to.deep.equal(sensor.exports)
      const add = functions.get('add')!
      expect(add(2, 3)).to.equal(5)
      expect(add(0xffffffff, 2)).to.equal(1)
      expect(functions.get('local:sensor/convert#to-fahrenheit')!(100)).to.be.closeTo(212, 1e-4)
    })

    it('calls the host skills: dht, camera (a list back into the guest), sys (a string out of it)', async () => {
      const host = testComponentHost()
      const { functions } = await instantiateComponent(sensor, recordingCompile(), host)
      expect(functions.get('temperature-plus')!(1)).to.equal(22.5)
      expect(functions.get('image-size')!()).to.equal(TEST_IMAGE.length)
      expect(functions.get('greet')!()).to.equal(undefined)
      expect(host.text()).to.equal('hello from a component\n')
    })

    it('keeps instances apart', async () => {
      const a = testComponentHost()
      const b = testComponentHost()
      const ia = await instantiateComponent(sensor, recordingCompile(), a)
      await instantiateComponent(sensor, recordingCompile(), b)
      ia.functions.get('greet')!()
      expect(a.out).to.have.length(1)
      expect(b.out).to.have.length(0)
    })

    it('accepts skill functions by WIT name too', async () => {
      const host = testComponentHost()
      const skill = host.skill
      host.skill = name => name === 'dht' ? { 'get-temperature': () => 30, 'get-humidity': () => 50 } : skill(name)
      const { functions } = await instantiateComponent(sensor, recordingCompile(), host)
      expect(functions.get('temperature-plus')!(0.5)).to.equal(30.5)
    })

    it('is unsatisfiable without a skill the component imports, naming the import', async () => {
      const err = await rejection(instantiateComponent(sensor, recordingCompile(), testComponentHost({ skills: ['sys', 'dht'] })))
      expect(err.code).to.equal('unsatisfiable')
      expect(err.message).to.include('wasmesh:skills/camera')
      expect(err.details).to.deep.equal({ skill: 'camera' })
    })

    it('is unsatisfiable when a skill lacks a function the component imports', async () => {
      const host = testComponentHost()
      const skill = host.skill
      host.skill = name => name === 'dht' ? { getHumidity: () => 50 } : skill(name)
      const err = await rejection(instantiateComponent(sensor, recordingCompile(), host))
      expect(err.code).to.equal('unsatisfiable')
      expect(err.message).to.include('wasmesh:skills/dht#get-temperature')
    })

    it('is unsatisfiable for an interface no node offers', async () => {
      const calc = await transpileComponent(await calcComponent())
      const err = await rejection(instantiateComponent(calc, recordingCompile(), testComponentHost({ skills: ['camera'] })))
      expect(err.code).to.equal('unsatisfiable')
      expect(err.message).to.include('local:calc/clock')
    })

    it('is unsatisfiable for WASI interfaces outside the sandbox (sockets)', async () => {
      const t: TranspiledComponent = { ...sensor, imports: [...sensor.imports, 'wasi:sockets/tcp'] }
      const err = await rejection(instantiateComponent(t, recordingCompile(), testComponentHost()))
      expect(err.code).to.equal('unsatisfiable')
      expect(err.message).to.include('wasi:sockets/tcp')
    })
  })
})
