import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemoryBlockstore } from 'blockstore-core/memory'
import { FsBlockstore } from 'blockstore-fs'
import { MemoryDatastore } from 'datastore-core/memory'
import { LevelDatastore } from 'datastore-level'
import type { Blockstore } from 'interface-blockstore'
import type { Datastore } from 'interface-datastore'

/**
 * Where a node keeps blocks (module bytes, files, descriptions: content-addressed) and
 * records (the module index, pins). Disk on a device, memory in the simulator.
 */
export interface NodeStores {
  blockstore: Blockstore
  datastore: Datastore
  /** where hosted deployment steps get their folders (the files their guests see) */
  stepsDir: string
  open: () => Promise<void>
  close: () => Promise<void>
}

/**
 * Blocks as files under DATA/blocks (each written to a temporary file, then renamed: a kill
 * never leaves half a block), records in LevelDB under DATA/index (atomic batches).
 */
export function diskStores (dataDir: string): NodeStores {
  const blockstore = new FsBlockstore(join(dataDir, 'blocks'))
  const datastore = new LevelDatastore(join(dataDir, 'index'))
  return {
    blockstore,
    datastore,
    stepsDir: join(dataDir, 'steps'),
    open: async () => {
      await blockstore.open()
      await datastore.open()
    },
    close: async () => {
      await datastore.close()
      await blockstore.close()
    }
  }
}

export function memoryStores (): NodeStores {
  return {
    blockstore: new MemoryBlockstore(),
    datastore: new MemoryDatastore(),
    stepsDir: join(tmpdir(), `wasmesh-steps-${process.pid}-${randomBytes(6).toString('hex')}`),
    open: async () => {},
    close: async () => {}
  }
}
