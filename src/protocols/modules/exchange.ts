import { withBitswap } from '@helia/bitswap'
import { unixfs } from '@helia/unixfs'
import * as jsonCodec from 'multiformats/codecs/json'
import { BITSWAP_OPTIONS } from './constants.ts'
import { createHeliaLight } from './helia-light.ts'
import { holdersRouter } from './holders-router.ts'
import type { Holder } from './holders-router.ts'
import type { HeliaWithLibp2p } from '@helia/libp2p'
import type { UnixFS } from '@helia/unixfs'
import type { Helia } from '@helia/interface'
import type { Libp2p } from '@libp2p/interface'
import type { Blockstore } from 'interface-blockstore'
import type { Datastore } from 'interface-datastore'

export interface ModuleExchangeInit {
  /** The node's own libp2p: bitswap runs on its connections. */
  libp2p: Libp2p
  blockstore: Blockstore
  datastore: Datastore
  /** Peers that announced they hold a CID. */
  findHolders: (cid: string) => Holder[]
}

export interface ModuleExchange {
  helia: Helia
  fs: UnixFS
  start: () => Promise<void>
  stop: () => Promise<void>
}

/**
 * Helia on the node's own libp2p: the block store (verified: a block whose bytes do not hash to
 * its CID is refused), pins, garbage collection and bitswap. Helia's `withLibp2p` would create a
 * second libp2p node; here the mixin is given the running one instead.
 */
export function moduleExchange (init: ModuleExchangeInit): ModuleExchange {
  const helia = createHeliaLight({
    blockstore: init.blockstore,
    datastore: init.datastore,
    // Descriptions are JSON blocks: pinning walks them.
    codecs: [jsonCodec],
    routers: [holdersRouter(init.findHolders, init.libp2p.peerStore)]
  })
  Object.defineProperty(helia, 'libp2p', { value: init.libp2p, enumerable: true })
  withBitswap(helia as unknown as HeliaWithLibp2p, BITSWAP_OPTIONS)
  return {
    helia,
    fs: unixfs(helia),
    start: async () => { await helia.start() },
    stop: async () => { await helia.stop() }
  }
}
