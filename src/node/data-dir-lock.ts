import { unlinkSync } from 'node:fs'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { WasmeshError } from '../errors.ts'

const LOCK_FILE = 'lock'

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Takes the data dir for this process: two nodes on one dir would share a peer id and clobber
 * each other's files. A lock left by a process that is gone (kill -9) is taken over.
 * Returns the release function (synchronous, so that it can run on process exit).
 */
export async function lockDataDir (dataDir: string): Promise<() => void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  const file = join(dataDir, LOCK_FILE)
  const release = (): void => {
    try { unlinkSync(file) } catch {}
  }
  try {
    await writeFile(file, `${process.pid}\n`, { flag: 'wx' })
    return release
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  }
  const holder = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10)
  if (Number.isInteger(holder) && holder !== process.pid && alive(holder)) {
    throw new WasmeshError('unavailable', `data dir ${dataDir} is in use by process ${holder} (another "wasmesh start"? use --data DIR for a second node)`)
  }
  const tmp = `${file}.${process.pid}.tmp`
  await writeFile(tmp, `${process.pid}\n`)
  await rename(tmp, file)
  return release
}
