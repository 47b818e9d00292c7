/**
 * MinMaxPass in both workgroup shapes (src/gpu/workgroupShape.ts), each forced on its own device, on maps that reach
 * what minMax.wgsl's first walk relies on: integer keys made from the values' bits (a negative float's other bits
 * flipped) stand for the floats, so the maps put every sign case at the extremes (all negative, all positive, mixed,
 * zeros of both signs, subnormals), and non-finite values inside the four-quad loop steps and in their remainder. The GPU shape also runs with 2 workgroups, so that its blocks are long enough for four-quad steps at
 * 256 threads (with 1024 workgroups a small map gives each thread one quad).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMapStatsBuffer, MinMaxPass, readMapStats, type MapStats } from '../../src/compute/minMax.ts';
import { minMaxCpu } from '../../src/compute/minMax.cpu.ts';
import { fullCrop, type Crop } from '../../src/compute/region.ts';
import { HARDWARE_SHAPE, setWorkgroupShape, SOFTWARE_SHAPE, type WorkgroupShape } from '../../src/gpu/workgroupShape.ts';
import { requestNodeAdapter } from '../../src/node/dawn.ts';
import { readShaderSources } from '../../src/node/shaderFiles.ts';
import { makeRandom, randomValues, uploadValues } from './support.ts';

const SHAPES: Record<string, WorkgroupShape> = {
  'GPU shape': HARDWARE_SHAPE,
  'GPU shape, 2 workgroups': { ...HARDWARE_SHAPE, reductionWorkgroups: 2 },
  'software shape': SOFTWARE_SHAPE,
};

const ROWS = 37;
const COLS = 301; // odd: a crop's rows start and end mid-quad
const REGIONS: Crop[] = [fullCrop(ROWS, COLS), { rowStart: 2, rowEnd: 35, colStart: 3, colEnd: 298 }];

/** Maps named by what they test; each value's place is chosen so that the extremes fall in quads and singles alike. */
function maps(): Record<string, Float32Array> {
  const count = ROWS * COLS;
  const random = makeRandom(31);
  const negative = randomValues(count, random, -3, -1);
  const positive = randomValues(count, random, 1, 3);
  const mixed = randomValues(count, random, -2, 2);
  const zeros = Float32Array.from({ length: count }, (_, index) => (index % 3 === 0 ? -0 : 0));
  // Largest value -0 among negatives; smallest value +0 among positives; the smallest subnormals of both signs.
  const negativeWithZero = negative.slice();
  negativeWithZero[count - 700] = -0;
  const positiveWithZero = positive.slice();
  positiveWithZero[650] = 0;
  const subnormals = Float32Array.from({ length: count }, (_, index) => (index % 5 === 0 ? -1e-45 : index % 5 === 1 ? 1e-45 : 0));
  const nonFinite: Record<string, Float32Array> = {};
  for (const [name, value] of [['NaN', NaN], ['+inf', Infinity], ['-inf', -Infinity], ['-NaN', -NaN]] as const) {
    const map = mixed.slice();
    // -NaN: a NaN with the sign bit set, which reads as a large unsigned integer and a negative signed one.
    const bits = new Uint32Array(map.buffer);
    for (const index of [5 * COLS + 40, 20 * COLS + 151, count - 3]) {
      map[index] = value;
      if (name === '-NaN') bits[index] = 0xffc00001;
    }
    nonFinite[`mixed with ${name}`] = map;
  }
  return { negative, positive, mixed, zeros, 'negative with -0': negativeWithZero, 'positive with +0': positiveWithZero, subnormals, ...nonFinite };
}

for (const [name, shape] of Object.entries(SHAPES)) {
  describe(`MinMaxPass, ${name}`, () => {
    let device: GPUDevice;
    let minMax: MinMaxPass;
    beforeAll(async () => {
      device = await (await requestNodeAdapter()).requestDevice({ label: `minMaxShapes.${name}` });
      setWorkgroupShape(device, shape);
      minMax = new MinMaxPass(device, readShaderSources());
      await minMax.ready('float32');
    });
    afterAll(() => {
      minMax?.destroy();
      device?.destroy();
    });

    async function statsOf(values: Float32Array, region: Crop): Promise<MapStats> {
      const input = uploadValues(device, 'test.map', values, 'float32');
      const stats = createMapStatsBuffer(device, 'test.stats');
      try {
        device.pushErrorScope('validation');
        const encoder = device.createCommandEncoder({ label: 'test.encoder' });
        minMax.encode(encoder, { input, rows: ROWS, cols: COLS, region }, stats);
        device.queue.submit([encoder.finish()]);
        const read = await readMapStats(device, stats);
        expect((await device.popErrorScope())?.message).toBeUndefined();
        return read;
      } finally {
        input.buffer.destroy();
        stats.destroy();
      }
    }

    it('min, max and counts equal the reference for every sign case, zeros of both signs and non-finite values', async () => {
      for (const [mapName, values] of Object.entries(maps())) {
        for (const region of REGIONS) {
          // toEqual tells -0 from +0, so a zero of the wrong sign fails too.
          expect({ map: mapName, region, ...(await statsOf(values, region)) }).toEqual({ map: mapName, region, ...minMaxCpu(values, ROWS, COLS, region) });
        }
      }
    });
  });
}
