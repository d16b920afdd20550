import { WasmeshError } from '../../../errors.ts'
import type { HostFunctions, SkillHostContext } from './context.ts'
import { checkRange, readU32, writeBytes, writeU32 } from './guest-memory.ts'

const DYNAMIC = 'camera.takeImageDynamicSize'
const STATIC = 'camera.takeImageStaticSize'

/**
 * `camera`, wasmiot-compatible. The out-pointers are checked before the camera is read, so a
 * guest with bad pointers neither waits for a picture nor gets its `alloc` called.
 */
export function cameraImports (ctx: SkillHostContext): HostFunctions {
  return {
    takeImageDynamicSize: (outPtrPtr: number, outSizePtr: number) => {
      checkRange(ctx.memory(), outPtrPtr, 4, DYNAMIC, 'outPtrPtr')
      checkRange(ctx.memory(), outSizePtr, 4, DYNAMIC, 'outSizePtr')
      const image = takeImage(ctx, DYNAMIC)
      const ptr = guestAlloc(ctx, image.length)
      // alloc may have grown memory: memory() again
      writeBytes(ctx.memory(), ptr, image, DYNAMIC, `the image at the pointer alloc(${image.length}) returned`)
      writeU32(ctx.memory(), outPtrPtr, ptr, DYNAMIC, 'outPtrPtr')
      writeU32(ctx.memory(), outSizePtr, image.length, DYNAMIC, 'outSizePtr')
      return undefined
    },
    takeImageStaticSize: (outPtr: number, sizePtr: number) => {
      const room = readU32(ctx.memory(), sizePtr, STATIC, 'sizePtr')
      const image = takeImage(ctx, STATIC)
      const written = Math.min(room, image.length)
      writeBytes(ctx.memory(), outPtr, image.subarray(0, written), STATIC, 'outPtr')
      writeU32(ctx.memory(), sizePtr, written, STATIC, 'sizePtr')
      return undefined
    }
  }
}

function takeImage (ctx: SkillHostContext, where: string): Uint8Array {
  const image = ctx.read('camera', 'image')
  if (!(image instanceof Uint8Array)) throw new WasmeshError('internal', `${where}: the camera provider gave a ${typeof image}, not image bytes`)
  return image
}

/** the guest's `alloc(size) -> ptr`, called; 0 means it could not allocate, as malloc's NULL */
function guestAlloc (ctx: SkillHostContext, size: number): number {
  const alloc = ctx.guestExport('alloc')
  if (typeof alloc !== 'function') {
    throw new WasmeshError('trap', `${DYNAMIC}: the guest exports no function "alloc(size: i32) -> i32" to receive the image`)
  }
  const ptr: unknown = alloc(size)
  if (typeof ptr !== 'number') throw new WasmeshError('trap', `${DYNAMIC}: the guest's alloc(${size}) returned ${typeof ptr}, not an i32 pointer`)
  if (ptr === 0 && size > 0) throw new WasmeshError('trap', `${DYNAMIC}: the guest's alloc(${size}) returned 0 (out of memory?)`)
  return ptr >>> 0
}
