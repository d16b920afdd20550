import { crc32, deflateSync } from 'node:zlib'
import { SIMULATED_DEFAULTS } from './options.ts'

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]

/**
 * A PNG test image, the same bytes every time: 8-bit RGB, red rising left to right, green top
 * to bottom, blue constant. Small images only (it deflates synchronously).
 */
export function testImagePng (width: number = SIMULATED_DEFAULTS.imageWidth, height: number = SIMULATED_DEFAULTS.imageHeight): Uint8Array {
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr[8] = 8 // bit depth
  ihdr[9] = 2 // colour type: RGB
  // bytes 10..12: deflate, adaptive filtering, no interlace, all 0
  const stride = 1 + width * 3
  const raw = Buffer.alloc(stride * height)
  for (let y = 0; y < height; y++) {
    raw[y * stride] = 0 // filter: none
    for (let x = 0; x < width; x++) {
      const at = y * stride + 1 + x * 3
      raw[at] = Math.round(x * 255 / Math.max(1, width - 1))
      raw[at + 1] = Math.round(y * 255 / Math.max(1, height - 1))
      raw[at + 2] = 128
    }
  }
  const png = Buffer.concat([
    Buffer.from(SIGNATURE),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0))
  ])
  return new Uint8Array(png.buffer, png.byteOffset, png.length)
}

function chunk (type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt32BE(data.length, 0)
  head.write(type, 4, 'latin1')
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(data, crc32(head.subarray(4))), 0)
  return Buffer.concat([head, data, crc])
}
