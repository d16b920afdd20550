import { WasmeshError } from '../../errors.ts'
import { joinParts } from './framing.ts'
import type { FileHead } from './framing.ts'
import type { CallFile } from './messages.ts'

/**
 * Collects the chunks of a call's files, in order, against the sizes its header declared. Holds
 * only what has arrived (a declared size reserves nothing), and joins each file once, when whole.
 */
export class FileReceiver {
  readonly #heads: FileHead[]
  readonly #files: CallFile[] = []
  #parts: Uint8Array[] = []
  #got = 0

  constructor (heads: FileHead[]) {
    this.#heads = heads
    this.#completeEmpty()
  }

  get done (): boolean {
    return this.#files.length === this.#heads.length
  }

  /** The files, once `done`. */
  get files (): CallFile[] {
    return this.#files
  }

  /** Adds one chunk; a chunk running past its file's declared size is a `bad-request`. */
  add (parts: Uint8Array[], length: number): void {
    if (this.done) throw new WasmeshError('bad-request', 'malformed call: a chunk after the last file')
    const head = this.#heads[this.#files.length]
    if (this.#got + length > head.size) {
      throw new WasmeshError('bad-request', `malformed call: chunks of file ${this.#files.length} run past its declared ${head.size} bytes`)
    }
    for (const part of parts) this.#parts.push(part)
    this.#got += length
    if (this.#got === head.size) {
      this.#files.push({ mount: head.mount, mediaType: head.mediaType, bytes: joinParts(this.#parts, head.size) })
      this.#parts = []
      this.#got = 0
      this.#completeEmpty()
    }
  }

  #completeEmpty (): void {
    while (!this.done && this.#heads[this.#files.length].size === 0) {
      const head = this.#heads[this.#files.length]
      this.#files.push({ mount: head.mount, mediaType: head.mediaType, bytes: new Uint8Array(0) })
    }
  }
}
