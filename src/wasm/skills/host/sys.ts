import type { HostFunctions, SkillHostContext } from './context.ts'
import { readBytes } from './guest-memory.ts'

const NEWLINE = new Uint8Array([0x0a])
const encoder = new TextEncoder()

/**
 * `sys`, as the wasmiot supervisor offers it. Output goes to the call's stdout as the guest's
 * bytes, undecoded. printInt writes the signed decimal with no newline, as wasmiot's does
 * (`print(number, end="")`).
 */
export function sysImports (ctx: SkillHostContext): HostFunctions {
  return {
    // i32 wraps after ~24.8 days; wasmiot's epoch milliseconds wrapped from the start
    millis: () => Math.floor(ctx.millis()) | 0,
    // an unsigned count, as guests declare it (`delay(ms: u32)`)
    delay: (ms: number) => { ctx.sleep(ms >>> 0); return undefined },
    print: (ptr: number, len: number) => {
      ctx.stdout(readBytes(ctx.memory(), ptr, len, 'sys.print', 'the text'))
      return undefined
    },
    println: (ptr: number, len: number) => {
      const text = readBytes(ctx.memory(), ptr, len, 'sys.println', 'the text')
      // one write, so the line never interleaves with other output
      const line = new Uint8Array(text.length + 1)
      line.set(text)
      line.set(NEWLINE, text.length)
      ctx.stdout(line)
      return undefined
    },
    printInt: (n: number) => { ctx.stdout(encoder.encode(String(n | 0))); return undefined }
  }
}
