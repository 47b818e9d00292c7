/**
 * `npx tsx bench/node/loadBench.ts`: the load path alone (bench/core/io.ts) on the three stored types the engine
 * reads at memory speed or not: a float32 .npy, a float16 .npy and a bfloat16 .safetensors of the same synthetic
 * tensor, each into an engine with float32 and one with float16 storage. Prints one line per step and writes
 * bench/results/<date>-<adapter>-load.json (`load.engineOfMemcpy` is the float32 .npy into float32 storage, the
 * same measurement as the main suite's; `load.engineReloadOfMemcpy` the same file loaded again into the chunk buffers
 * the first load left pooled, the 'engine-reload' step of bench/core/io.ts).
 *
 *   --frames N   rows and columns of each map (default 1500: Whisper base, 72 MB float32 layers)
 *   --layers N   layers of each file (default 6)
 *   --out DIR    results folder (default bench/results)
 *   --types L    comma-separated file types to run (default all: float32-npy,float16-npy,bfloat16-safetensors)
 *   --storage L  comma-separated storage formats (default float32,float16)
 *   --browser    instead, the page's load suite (demo/bench.html?loadOnly through bench/browser.ts, Chromium under
 *                xvfb-run for WebGPU): a float32 .npy of --layers layers picked as a dropped File, read with parallel
 *                Blob.slice reads and with File.stream(); writes <date>-load-browser.json with load.pageEngineOfMemcpy
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { float32ToFloat16Bits } from '../../src/data/float16.ts';
import type { AttentionShape } from '../../src/data/tensor.ts';
import { AttentionEngine } from '../../src/engine.ts';
import type { StorageFormat } from '../../src/gpu/storageFormat.ts';
import { describeAdapter, getNodeGpu, requestNodeAdapter } from '../../src/node/dawn.ts';
import { makeFileSource } from '../../src/node/fileSource.ts';
import { readShaderSources } from '../../src/node/shaderFiles.ts';
import { runThroughputSuite, summarizeLoad, TYPED_ARRAY_SET, type CopyBaseline, type ThroughputResult } from '../core/io.ts';
import { fillSyntheticMap, makeNpyHeader, mapSeed } from '../core/synthetic.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Buffer.copy: Node's memcpy of one Buffer into another. */
export const BUFFER_COPY: CopyBaseline = {
  id: 'buffer-copy',
  label: 'Buffer.copy',
  copy: (source, target) => void Buffer.from(source.buffer, source.byteOffset, source.byteLength).copy(Buffer.from(target.buffer, target.byteOffset, target.byteLength)),
};

/** Stored element types of the load files. */
export type LoadFileType = 'float32-npy' | 'float16-npy' | 'bfloat16-safetensors';

/** The synthetic maps of `shape` stored as `type`, written map by map to `path`. Returns the file size. */
export async function writeLoadFile(path: string, shape: AttentionShape, type: LoadFileType): Promise<number> {
  const mapElements = shape.rows * shape.cols;
  const header = type === 'bfloat16-safetensors' ? safetensorsHeader(shape) : makeNpyHeader(shape, type === 'float16-npy' ? '<f2' : '<f4');
  const file = await open(path, 'w');
  try {
    await file.write(header, 0, header.byteLength, 0);
    let position = header.byteLength;
    const values = new Float32Array(mapElements);
    const bits = new Uint32Array(values.buffer);
    const halves = new Uint16Array(mapElements);
    // Eight distinct maps, repeated: generating values costs more than writing them.
    const distinct = new Map<number, Uint8Array>();
    for (let map = 0; map < shape.layers * shape.heads; map++) {
      let bytes = distinct.get(map % 8);
      if (!bytes) {
        fillSyntheticMap(values, shape.rows, shape.cols, mapSeed(shape, Math.floor(map / shape.heads), map % shape.heads));
        if (type === 'float32-npy') bytes = new Uint8Array(values.buffer.slice(0));
        else {
          for (let index = 0; index < mapElements; index++) halves[index] = type === 'float16-npy' ? float32ToFloat16Bits(values[index]) : bits[index] >>> 16;
          bytes = new Uint8Array(halves.buffer.slice(0));
        }
        distinct.set(map % 8, bytes);
      }
      await file.write(bytes, 0, bytes.byteLength, position);
      position += bytes.byteLength;
    }
    return position;
  } finally {
    await file.close();
  }
}

/** A safetensors header for one stacked BF16 tensor of `shape` (layers x heads x rows x cols). */
function safetensorsHeader(shape: AttentionShape): Uint8Array {
  const dims = [shape.layers, shape.heads, shape.rows, shape.cols];
  const bytes = dims.reduce((product, size) => product * size, 2);
  let json = JSON.stringify({ attention: { dtype: 'BF16', shape: dims, data_offsets: [0, bytes] } });
  while (json.length % 8 !== 0) json += ' ';
  const out = new Uint8Array(8 + json.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  for (let index = 0; index < json.length; index++) out[8 + index] = json.charCodeAt(index);
  return out;
}

/** One file read into one engine. */
export interface LoadRun extends ThroughputResult {
  readonly fileType: LoadFileType;
  readonly storage: StorageFormat;
}

async function main(): Promise<void> {
  const { values: flags } = parseArgs({
    options: { frames: { type: 'string', default: '1500' }, layers: { type: 'string', default: '6' }, out: { type: 'string' }, browser: { type: 'boolean', default: false }, types: { type: 'string' }, storage: { type: 'string' } },
    allowPositionals: false,
  });
  const frames = Number(flags.frames);
  const layers = Number(flags.layers);
  if (!(Number.isInteger(frames) && frames >= 2 && Number.isInteger(layers) && layers >= 1)) throw new Error('--frames and --layers must be positive integers');
  const shape: AttentionShape = { layers, heads: 8, rows: frames, cols: frames };
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const outDir = flags.out ?? join(ROOT, 'bench/results');
  if (flags.browser) {
    const { runBrowserBench } = await import('../browser.ts');
    const result = await runBrowserBench({ root: ROOT, query: `loadOnly&frames=${frames}&reps=1`, files: [shape], log, timeoutMs: 20 * 60_000 });
    mkdirSync(outDir, { recursive: true });
    const outPath = join(outDir, `${result.date.replace(/[:.]/g, '-').slice(0, 19)}-load-browser.json`);
    writeFileSync(outPath, `${JSON.stringify(result, null, 2)}\n`);
    for (const file of result.throughput) {
      const best = Math.max(...file.memcpy.map((step) => step.mbPerSec));
      log(`page ${file.file} (memcpy ${best.toFixed(0)} MB/s, first touch ${file.firstTouch?.mbPerSec.toFixed(0)} MB/s): ` + file.steps.map((step) => `${step.id} ${step.mbPerSec.toFixed(0)} MB/s (${((step.shareOfMemcpy ?? 0) * 100).toFixed(1)}%)`).join(', '));
    }
    log(`load = ${JSON.stringify(result.load)}; wrote ${outPath}`);
    return;
  }
  const shaders = readShaderSources(join(ROOT, 'shaders'));
  const adapter = await requestNodeAdapter({ powerPreference: 'high-performance' });
  const adapterDescription = describeAdapter(adapter);
  const gpu = getNodeGpu();
  const dataDir = mkdtempSync(join(tmpdir(), 'steve-load-bench-'));
  const loadStart = loadavg()[0];
  const runs: LoadRun[] = [];
  try {
    const allTypes: readonly LoadFileType[] = ['float32-npy', 'float16-npy', 'bfloat16-safetensors'];
    const types = flags.types ? allTypes.filter((type) => flags.types!.split(',').includes(type)) : allTypes;
    const storages = (['float32', 'float16'] as const).filter((format) => !flags.storage || flags.storage.split(',').includes(format));
    for (const fileType of types) {
      const path = join(dataDir, `${fileType}.${fileType.endsWith('npy') ? 'npy' : 'safetensors'}`);
      const fileBytes = await writeLoadFile(path, shape, fileType);
      log(`${fileType}: ${(fileBytes / 1e6).toFixed(1)} MB`);
      for (const storage of storages) {
        const engine = await AttentionEngine.create({ gpu, shaders, storage, budgetBytes: 1024 ** 3 });
        const source = await makeFileSource(path);
        try {
          const result = await runThroughputSuite(engine, source, [TYPED_ARRAY_SET, BUFFER_COPY], { layers, copyReps: 5 });
          runs.push({ ...result, fileType, storage });
          const best = Math.max(...result.memcpy.map((step) => step.mbPerSec));
          log(`  ${storage} storage (memcpy ${best.toFixed(0)} MB/s, first touch ${result.firstTouch?.mbPerSec.toFixed(0)} MB/s): ` + result.steps.map((step) => `${step.id} ${step.mbPerSec.toFixed(0)} MB/s (${((step.shareOfMemcpy ?? 0) * 100).toFixed(1)}%)`).join(', '));
        } finally {
          await source.close();
          engine.destroy();
        }
      }
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  const headline = runs.find((run) => run.fileType === 'float32-npy' && run.storage === 'float32');
  const load = summarizeLoad(headline ? [headline] : [], 'node');
  const result = {
    suite: 'load',
    date: new Date().toISOString(),
    adapter: adapterDescription,
    loadAverage: { start: loadStart, end: loadavg()[0] },
    shape,
    load,
    runs,
  };
  mkdirSync(outDir, { recursive: true });
  const stamp = result.date.replace(/[:.]/g, '-').slice(0, 19);
  const outPath = join(outDir, `${stamp}-load.json`);
  writeFileSync(outPath, `${JSON.stringify(result, null, 2)}\n`);
  log(`load = ${JSON.stringify(load)}; wrote ${outPath}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
