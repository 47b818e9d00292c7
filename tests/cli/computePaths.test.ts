/**
 * STEVE_COMPUTE: `steve export` and `steve render` give the same numbers and figures on the GPU path and on the host
 * path (src/compute/cpu/hostKinds.ts), as a user runs them, for the kinds the host path computes; a value it does
 * not know is one line and exit 1.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseNpyHeader } from '../../src/data/npy.ts';
import { expectClose } from '../gpu/support.ts';
import { BIN, SOFTMAXED_F16, TIMIT_WAV, type SteveRun } from './steveProcess.ts';

const VIEW = ['--attention', SOFTMAXED_F16, '--wav', TIMIT_WAV, '--words', '0:3', '--softmax', 'row'];
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'steve-compute-'));
});

function steveWith(compute: string, args: readonly string[]): Promise<SteveRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, STEVE_COMPUTE: compute }, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

/** The float32 values of a .npy written by `steve export`. */
function readNpyValues(path: string): Float32Array {
  const bytes = new Uint8Array(readFileSync(path));
  const header = parseNpyHeader(bytes, path);
  expect(header.descr).toBe('<f4');
  return new Float32Array(bytes.slice(header.dataOffset).buffer);
}

/** The figure's rasters (PNG data URLs) decoded, and the SVG with them taken out. */
function splitSvg(svg: string): { text: string; rasters: Uint8Array[] } {
  const rasters: Uint8Array[] = [];
  const text = svg.replace(/data:image\/png;base64,([A-Za-z0-9+/=]+)/g, (_, data: string) => {
    rasters.push(PNG.sync.read(Buffer.from(data, 'base64')).data);
    return 'RASTER';
  });
  return { text, rasters };
}

describe('STEVE_COMPUTE=gpu and STEVE_COMPUTE=cpu', () => {
  it('export the same matrix (phone pooling of a head mean; each kind is compared in tests/gpu/hostPath.test.ts)', async () => {
    const options = ['--layer', '0', '--head', 'mean', '--pool', 'phones'];
    const runs = await Promise.all(['gpu', 'cpu'].map((compute) => steveWith(compute, ['export', ...VIEW, ...options, '-o', join(dir, `pooled-${compute}.npy`)])));
    for (const run of runs) expect([run.code, run.stderr]).toEqual([0, '']);
    const [gpu, cpu] = ['gpu', 'cpu'].map((compute) => readNpyValues(join(dir, `pooled-${compute}.npy`)));
    expect(gpu.length).toBeGreaterThan(1);
    expectClose(cpu, gpu, 1e-5, 1e-12);
  });

  it('render the same figure: the same SVG and the same raster pixels', async () => {
    const options = [...VIEW, '--layer', '1', '--head', '0', '--size', '200'];
    const runs = await Promise.all(['gpu', 'cpu'].map((compute) => steveWith(compute, ['render', ...options, '-o', join(dir, `map-${compute}.svg`)])));
    for (const run of runs) expect([run.code, run.stderr]).toEqual([0, '']);
    const [gpu, cpu] = ['gpu', 'cpu'].map((compute) => splitSvg(readFileSync(join(dir, `map-${compute}.svg`), 'utf8')));
    expect(cpu.text).toBe(gpu.text);
    // The map's raster and the colour bar's.
    expect(cpu.rasters.length).toBe(2);
    expect(cpu.rasters.map((raster) => Buffer.from(raster).toString('base64'))).toEqual(gpu.rasters.map((raster) => Buffer.from(raster).toString('base64')));
  });

  it('refuses a value it does not know, in one line', async () => {
    const run = await steveWith('fast', ['export', ...VIEW, '-o', join(dir, 'never.npy')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('steve: STEVE_COMPUTE must be gpu, cpu or auto, got "fast"\n');
  });
});
