/**
 * PNG bytes in Node: RGBA pixels encoded with pngjs (the raster inside a figure), and the pHYs chunk that tells
 * image viewers and word processors the print resolution (--dpi), which neither pngjs nor resvg writes.
 */
import { crc32 } from 'node:zlib';
import { PNG } from 'pngjs';

/** width x height RGBA pixels (rows top first, as renderToPixels returns them) as a PNG file. */
export function encodeRgbaPng(pixels: Uint8Array, width: number, height: number): Buffer {
  if (pixels.length !== width * height * 4) throw new RangeError(`encodeRgbaPng: ${pixels.length} bytes are not ${width} x ${height} RGBA pixels`);
  const png = new PNG({ width, height, colorType: 6, inputColorType: 6, inputHasAlpha: true });
  png.data = Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength);
  return PNG.sync.write(png, { colorType: 6, inputColorType: 6, inputHasAlpha: true });
}

/** The PNG as a data URL, for an SVG <image>. */
export function pngDataUrl(png: Uint8Array): string {
  return `data:image/png;base64,${Buffer.from(png).toString('base64')}`;
}

const PNG_SIGNATURE_BYTES = 8;
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
  const body = Buffer.alloc(4 + 9);
  body.write('pHYs', 0, 'latin1');
  body.writeUInt32BE(pixelsPerMetre, 4);
  body.writeUInt32BE(pixelsPerMetre, 8);
  body.writeUInt8(1, 12); // unit: metre
  const chunk = Buffer.alloc(4 + body.length + 4);
  chunk.writeUInt32BE(9, 0);
  body.copy(chunk, 4);
  chunk.writeUInt32BE(crc32(body), 4 + body.length);
  const head = PNG_SIGNATURE_BYTES + IHDR_CHUNK_BYTES;
  const rest: Buffer[] = [];
  for (let at = head; at < bytes.length; ) {
    const length = bytes.readUInt32BE(at);
    const end = at + 12 + length;
    if (bytes.toString('latin1', at + 4, at + 8) !== 'pHYs') rest.push(bytes.subarray(at, end));
    at = end;
  }
  return Buffer.concat([bytes.subarray(0, head), chunk, ...rest]);
}
