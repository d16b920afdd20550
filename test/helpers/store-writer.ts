/**
 * A process that adds modules to a node's disk store as fast as it can, printing each CID once
 * it is stored, until killed. The kill -9 test restarts a node on its data dir.
 * Usage: node test/helpers/store-writer.ts DATA_DIR
 */
import { MemoryLan, memoryParts } from '../../sim/memory-lan.ts'
import { WasmeshNode } from '../../src/node/node.ts'
import { diskStores } from '../../src/node/stores.ts'
import { bigModule } from './fixtures.ts'

const dir = process.argv[2]
const node = await WasmeshNode.create({ name: 'writer', http: false, parts: { ...(await memoryParts(new MemoryLan())), stores: diskStores(dir) } })
await node.start()
process.stdout.write('ready\n')
for (let i = 0; ; i++) {
  // Sizes differ, so every module is new; some span several blocks.
  const record = await node.modules.add(bigModule(64 * 1024 + i * 97_001 % (3 * 1024 * 1024)), { name: `m${i}` })
  process.stdout.write(`added ${record.cid}\n`)
}
