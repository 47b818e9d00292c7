/**
 * Rendering into an offscreen texture and reading the pixels back: what the CLI uses for figures and what tests
 * use to check the picture, since Node has no canvas.
 */

/** copyTextureToBuffer requires bytesPerRow to be a multiple of 256. */
const ROW_ALIGNMENT = 256;

export function paddedBytesPerRow(width: number): number {
  return Math.ceil((width * 4) / ROW_ALIGNMENT) * ROW_ALIGNMENT;
}

/**
 * Renders with `record` into a fresh width x height rgba8unorm texture cleared to `clear`, and returns its pixels as
 * tightly packed RGBA rows (top row first). The texture and staging buffer are destroyed before returning.
 */
export async function renderToPixels(
  device: GPUDevice,
  width: number,
  height: number,
  record: (pass: GPURenderPassEncoder) => void,
  clear: GPUColor = { r: 1, g: 1, b: 1, a: 1 },
): Promise<Uint8Array> {
  const texture = device.createTexture({
    label: 'renderToPixels.target',
    size: [width, height],
    format: 'rgba8unorm',
    usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_SRC,
  });
  const bytesPerRow = paddedBytesPerRow(width);
  const staging = device.createBuffer({
    label: 'renderToPixels.staging',
    size: bytesPerRow * height,
    usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ,
  });
  try {
    const encoder = device.createCommandEncoder({ label: 'renderToPixels.encoder' });
    const pass = encoder.beginRenderPass({
      label: 'renderToPixels.pass',
      colorAttachments: [{ view: texture.createView(), loadOp: 'clear', storeOp: 'store', clearValue: clear }],
    });
    record(pass);
    pass.end();
    encoder.copyTextureToBuffer({ texture }, { buffer: staging, bytesPerRow }, [width, height]);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const padded = new Uint8Array(staging.getMappedRange());
    const pixels = new Uint8Array(width * height * 4);
    for (let row = 0; row < height; row++) {
      pixels.set(padded.subarray(row * bytesPerRow, row * bytesPerRow + width * 4), row * width * 4);
    }
    return pixels;
  } finally {
    staging.destroy();
    texture.destroy();
  }
}
