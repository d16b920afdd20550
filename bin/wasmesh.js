#!/usr/bin/env node
// The wasmesh command. wasmesh needs Node >= 22 with TypeScript type stripping (libp2p 3
// needs Node 22; the sources are .ts). Where the Node that runs this is older (Node 20 is
// still common on devices), it re-runs itself on the Node 24 that `npm install` brought
// (the npm package `node`). Plain JavaScript, so that any Node can read it.
import { spawn } from 'node:child_process'
import { constants } from 'node:os'
import module, { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'node', 'cli', 'index.ts')

if (process.features.typescript) {
  // V8's code cache for our modules and libp2p's: start-up is most of the time to join a mesh.
  module.enableCompileCache?.()
  await import(cli)
} else {
  let nodeBin
  try {
    nodeBin = join(dirname(createRequire(import.meta.url).resolve('node/package.json')), 'bin', 'node')
  } catch {
    process.stderr.write(`wasmesh: needs Node >= 22.18 (this is ${process.version}) and its bundled Node 24 is missing: run "npm install" in ${join(dirname(cli), '..', '..', '..')}\n`)
    process.exit(1)
  }
  const child = spawn(nodeBin, [cli, ...process.argv.slice(2)], { stdio: 'inherit' })
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => { child.kill(signal) })
  }
  child.on('exit', (code, signal) => {
    // As a shell reports it: a child killed by a signal exits 128 + its number.
    process.exitCode = code ?? (signal === null ? 1 : 128 + (constants.signals[signal] ?? 0))
  })
}
