import type { Helia } from '@helia/interface'
import type { HeliaInit } from 'helia'

type HeliaClass = new (init: HeliaInit & { name: string, version: string }) => Helia

/**
 * Helia's class without its index: `import 'helia'` also loads the defaults of `createHelia`
 * (@helia/libp2p, @helia/http: auto-TLS, axios, node-forge), about 0.4 s of every node's
 * start-up for code wasmesh never runs. `createHeliaLight` is just this constructor.
 */
const { Helia: HeliaImpl } = await import(import.meta.resolve('helia').replace(/index\.js$/, 'helia.js')) as { Helia: HeliaClass }

export function createHeliaLight (init: HeliaInit): Helia {
  return new HeliaImpl({ name: 'wasmesh-helia', version: '7', ...init })
}
