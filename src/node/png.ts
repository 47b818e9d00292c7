/**
 * PNG bytes in Node: RGBA pixels encoded as PNG (the raster inside a figure), and the pHYs chunk that tells image
 * viewers and word processors the print resolution (--dpi), which resvg does not write.
 */
import { crc32, deflateSync } from 'node:zlib';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** IHDR colour type of 8-bit RGBA. */
const COLOUR_TYPE_RGBA = 6;
/**
 * zlib level of the raster's IDAT. A colour-mapped raster (runs of a cell's colour, rows repeated where frames are
 * wider than a pixel) compresses to about the same size at every level; measured on a 640 x 640 Whisper map
 * (bench/README.md, "Start-up: ... run 5"): 4 was 15 ms and 105 KB where pngjs's adaptive filters at level 9 took
 * 53-63 ms for 155 KB.
 */
const RASTER_DEFLATE_LEVEL = 4;

/**
 * width x height RGBA pixels (rows top first, as renderToPixels returns them) as a PNG file: every row with filter
 * type 0 (none), one IDAT chunk. Trying the five filters per row, as general encoders do, cost more than it saved
 * on colour-mapped rasters, whose repeats zlib's window finds without a filter.
 */
export function encodeRgbaPng(pixels: Uint8Array, width: number, height: number): Buffer {
  if (pixels.length !== width * height * 4) throw new RangeError(`encodeRgbaPng: ${pixels.length} bytes are not ${width} x ${height} RGBA pixels`);
  const stride = width * 4;
  const filtered = Buffer.allocUnsafe((stride + 1) * height);
  for (let row = 0; row < height; row++) {
    const at = row * (stride + 1);
    filtered[at] = 0;
    filtered.set(pixels.subarray(row * stride, (row + 1) * stride), at + 1);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.writeUInt8(8, 8); // bits per channel
  header.writeUInt8(COLOUR_TYPE_RGBA, 9); // compression, filter method and interlace stay 0
  return Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', header), pngChunk('IDAT', deflateSync(filtered, { level: RASTER_DEFLATE_LEVEL })), pngChunk('IEND', Buffer.alloc(0))]);
}

/** One PNG chunk: length, type, data, CRC of type and data. */
function pngChunk(type: string, data: Uint8Array): Buffer {
  const chunk = Buffer.allocUnsafe(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write(type, 4, 'latin1');
  chunk.set(data, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  return chunk;
}

/** The PNG as a data URL, for an SVG <image>. */
export function pngDataUrl(png: Uint8Array): string {
  return `data:image/png;base64,${Buffer.from(png.buffer, png.byteOffset, png.byteLength).toString('base64')}`;
}

/** Length, type, 13 data bytes and CRC of the IHDR chunk, which always comes first. */
const IHDR_CHUNK_BYTES = 4 + 4 + 13 + 4;

/**
 * The PNG with a pHYs chunk saying `dpi` dots per inch (stored as pixels per metre, rounded), placed right after
 * IHDR as the PNG specification requires (before IDAT); any pHYs already there is dropped.
 */
export function setPngDpi(png: Uint8Array, dpi: number): Buffer {
  const bytes = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  if (bytes.toString('latin1', 12, 16) !== 'IHDR') throw new RangeError('setPngDpi: not a PNG file (no IHDR chunk first)');
  const pixelsPerMetre = Math.round(dpi / 0.0254);
  const body = Buffer.alloc(9);
  body.writeUInt32BE(pixelsPerMetre, 0);
  body.writeUInt32BE(pixelsPerMetre, 4);
  body.writeUInt8(1, 8); // unit: metre
  const chunk = pngChunk('pHYs', body);
  const head = PNG_SIGNATURE.length + IHDR_CHUNK_BYTES;
  const rest: Buffer[] = [];
  for (let at = head; at < bytes.length; ) {
    const length = bytes.readUInt32BE(at);
    const end = at + 12 + length;
    if (bytes.toString('latin1', at + 4, at + 8) !== 'pHYs') rest.push(bytes.subarray(at, end));
    at = end;
  }
  return Buffer.concat([bytes.subarray(0, head), chunk, ...rest]);
}
