import { parentPort } from 'node:worker_threads'
import { ComponentExit, instantiateComponent } from '../../src/wasm/component/instantiate.ts'
import type { TranspiledComponent } from '../../src/wasm/component/transpile.ts'
import { recordingCompile, testComponentHost } from './component-host.ts'

/** a guest thread in miniature: instantiates the component it is sent, says hello, exits */
parentPort!.once('message', async ({ component, args }: { component: TranspiledComponent, args: string[] }) => {
  const host = testComponentHost({ args })
  const { functions } = await instantiateComponent(component, recordingCompile(), host)
  functions.get('hello')!()
  let exitCode = -1
  try {
    functions.get('quit')!(false)
  } catch (err) {
    if (err instanceof ComponentExit) exitCode = err.code + 2
  }
  parentPort!.postMessage({ stdout: host.text(), exitCode, argCount: functions.get('arg-count')!() })
})
