/**
 * `npx tsx bench/node/uploadPaths.ts`: ways of putting one file layer's bytes (float32, stored = storage words) into a
 * GPU buffer, timed against each other in the same run, alternating, several rounds. What src/gpu/storedUpload.ts
 * chooses between (bench/README.md "Load at memory speed", fourth round):
 *   write-P        read P MiB pieces into a reused host buffer, queue.writeBuffer each (two in flight)
 *   stage-PxN      read P MiB pieces straight into N reused MAP_WRITE|COPY_SRC staging buffers (getMappedRange of a
 *                  buffer mapped again with mapAsync), copyBufferToBuffer + one submit per piece
 *   atcreation     a new buffer made with mappedAtCreation, the file read into its mapped range (new buffers only)
 * Each into a buffer that already exists and was written before ('recycled') and into a new buffer ('new'), plus the
 * CPU-only baselines: memcpy into touched memory, a copy into new memory (first touch), a read into held memory.
 *
 *   --frames N  rows and columns of each map (default 1000; 8 heads per layer)   --rounds N  (default 3)
 *   --only a,b  only these paths (ids as printed; 'memcpy' is the baseline of the shares). A path that makes new
 *               buffers hands freed memory to the next one: time those one per process (bench/README.md, fourth round).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { requestNodeAdapter } from '../../src/node/dawn.ts';
import { makeFileSource } from '../../src/node/fileSource.ts';
import { openAttention } from '../../src/data/openAttention.ts';
import { uploadStoredChunk } from '../../src/gpu/storedUpload.ts';
import { mbPerSec, now } from '../core/stats.ts';
import { writeLoadFile } from './loadBench.ts';

const MiB = 1 << 20;
const USAGE = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;

async function main(): Promise<void> {
  const { values: flags } = parseArgs({ options: { frames: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '3' }, only: { type: 'string' } } });
  const frames = Number(flags.frames);
  const rounds = Number(flags.rounds);
  const shape = { layers: 2, heads: 8, rows: frames, cols: frames };
  const log = (line: string) => process.stderr.write(`${line}\n`);
  // Dawn's instance (getNodeGpu) is kept by src/node/dawn.ts for the whole run.
  const adapter = await requestNodeAdapter();
  const device = await adapter.requestDevice({ requiredLimits: { maxBufferSize: adapter.limits.maxBufferSize, maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize } });
  const dir = mkdtempSync(join(tmpdir(), 'steve-upload-paths-'));
  const path = join(dir, 'f32.npy');
  try {
    const fileBytes = await writeLoadFile(path, shape, 'float32-npy');
    const source = await makeFileSource(path);
    const layerBytes = shape.heads * shape.rows * shape.cols * 4;
    const offset = fileBytes - layerBytes; // the last layer
    log(`layer ${(layerBytes / 1e6).toFixed(1)} MB, load average ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
    // Warm the page cache.
    await source.readInto!(offset, new Uint8Array(layerBytes));

    const recycled = device.createBuffer({ label: 'recycled', size: layerBytes, usage: USAGE() });
    device.queue.writeBuffer(recycled, 0, new Uint8Array(layerBytes));
    await device.queue.onSubmittedWorkDone();

    const hosts = new Map<number, Uint8Array[]>();
    const hostPair = (bytes: number) => {
      let pair = hosts.get(bytes);
      if (!pair) hosts.set(bytes, (pair = [new Uint8Array(bytes), new Uint8Array(bytes)]));
      return pair;
    };
    const writePath = async (target: GPUBuffer, pieceBytes: number) => {
      const pair = hostPair(pieceBytes);
      let next = 0;
      await Promise.all(
        pair.map(async (host) => {
          while (next < layerBytes) {
            const start = next;
            const bytes = Math.min(pieceBytes, layerBytes - start);
            next = start + bytes;
            await source.readInto!(offset + start, host.subarray(0, bytes));
            device.queue.writeBuffer(target, start, host.buffer, 0, bytes);
          }
        }),
      );
    };
    const stagings = new Map<string, GPUBuffer[]>();
    const stagingSet = async (pieceBytes: number, count: number) => {
      const key = `${pieceBytes}x${count}`;
      let set = stagings.get(key);
      if (!set) {
        set = Array.from({ length: count }, () => device.createBuffer({ label: 'staging', size: pieceBytes, usage: GPUBufferUsage.MAP_WRITE | GPUBufferUsage.COPY_SRC, mappedAtCreation: true }));
        // Touch them once (as a reused pool would have): fill, copy, map again.
        for (const buffer of set) {
          new Uint8Array(buffer.getMappedRange()).fill(1);
          buffer.unmap();
          mapped.set(buffer, buffer.mapAsync(GPUMapMode.WRITE));
        }
        stagings.set(key, set);
      }
      return set;
    };
    const mapped = new Map<GPUBuffer, Promise<void>>();
    const stagePath = async (target: GPUBuffer, pieceBytes: number, count: number) => {
      const set = await stagingSet(pieceBytes, count);
      let next = 0;
      await Promise.all(
        set.map(async (staging) => {
          while (next < layerBytes) {
            const start = next;
            const bytes = Math.min(pieceBytes, layerBytes - start);
            next = start + bytes;
            await mapped.get(staging);
            await source.readInto!(offset + start, new Uint8Array(staging.getMappedRange(0, bytes)));
            staging.unmap();
            const encoder = device.createCommandEncoder();
            encoder.copyBufferToBuffer(staging, 0, target, start, bytes);
            device.queue.submit([encoder.finish()]);
            // Map again right away: resolves once the copy is done; the next piece waits for it.
            mapped.set(staging, staging.mapAsync(GPUMapMode.WRITE));
          }
        }),
      );
    };
    const atCreationPath = async () => {
      const buffer = device.createBuffer({ label: 'atcreation', size: layerBytes, usage: USAGE(), mappedAtCreation: true });
      await source.readInto!(offset, new Uint8Array(buffer.getMappedRange()));
      buffer.unmap();
      return buffer;
    };

    type Path = { id: string; run: () => Promise<GPUBuffer | void> };
    const paths: Path[] = [];
    const from = new Uint8Array(layerBytes).fill(3);
    const heldTarget = new Uint8Array(layerBytes);
    paths.push({ id: 'memcpy', run: async () => void heldTarget.set(from) });
    paths.push({ id: 'first-touch', run: async () => void new Uint8Array(layerBytes).set(from) });
    paths.push({ id: 'read-into-held', run: () => source.readInto!(offset, heldTarget) });
    for (const piece of [1, 4, 16]) paths.push({ id: `recycled-write-${piece}`, run: () => writePath(recycled, piece * MiB) });
    for (const [piece, count] of [[1, 2], [1, 4], [2, 8], [4, 2], [4, 4], [4, 8], [8, 2], [8, 4], [8, 8], [16, 2], [16, 4]]) paths.push({ id: `recycled-stage-${piece}x${count}`, run: () => stagePath(recycled, piece * MiB, count) });
    // The GPU copy alone, from a touched staging buffer of the whole layer: SwiftShader's copyBufferToBuffer rate.
    const whole = device.createBuffer({ label: 'whole', size: layerBytes, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(whole, 0, from);
    paths.push({ id: 'gpu-copy', run: async () => { const e = device.createCommandEncoder(); e.copyBufferToBuffer(whole, 0, recycled, 0, layerBytes); device.queue.submit([e.finish()]); } });
    // The code the engine runs (src/gpu/storedUpload.ts), both ways, into the recycled buffer.
    const attention = await openAttention(source);
    const chunk = { layer: shape.layers - 1, firstHead: 0, headCount: shape.heads, byteLength: layerBytes };
    for (const words of ['staging', 'writeBuffer'] as const) {
      paths.push({ id: `recycled-code-${words}`, run: async () => void (await uploadStoredChunk(device, 'code', chunk, attention.shape, attention.stored!, 'float32', () => false, undefined, undefined, recycled, words)) });
    }
    paths.push({ id: 'new-write-1', run: async () => { const b = device.createBuffer({ size: layerBytes, usage: USAGE() }); await writePath(b, MiB); return b; } });
    paths.push({ id: 'new-stage-4x4', run: async () => { const b = device.createBuffer({ size: layerBytes, usage: USAGE() }); await stagePath(b, 4 * MiB, 4); return b; } });
    paths.push({ id: 'new-atcreation', run: atCreationPath });
    // Whether memory from mappedAtCreation is fresh: a plain fill of it, no file read.
    paths.push({ id: 'new-atcreation-fill', run: async () => { const b = device.createBuffer({ size: layerBytes, usage: USAGE(), mappedAtCreation: true }); new Uint8Array(b.getMappedRange()).set(from); b.unmap(); return b; } });
    // Whether a MAP_WRITE buffer's memory is fresh and whether Dawn's writeBuffer staging is: fill only, no GPU copy.
    paths.push({ id: 'new-mapwrite-fill', run: async () => { const b = device.createBuffer({ size: layerBytes, usage: GPUBufferUsage.MAP_WRITE | GPUBufferUsage.COPY_SRC, mappedAtCreation: true }); new Uint8Array(b.getMappedRange()).set(from); b.unmap(); return b; } });
    paths.push({ id: 'new-create-only', run: async () => device.createBuffer({ size: layerBytes, usage: USAGE() }) });
    const only = flags.only?.split(',');
    const chosen = only ? paths.filter((p) => only.includes(p.id)) : paths;

    const samples = new Map<string, number[]>();
    for (let round = 0; round <= rounds; round++) {
      for (const path of round % 2 ? chosen : [...chosen].reverse()) {
        const start = now();
        const made = await path.run();
        await device.queue.onSubmittedWorkDone();
        const ms = now() - start;
        if (made) made.destroy();
        if (round === 0) continue; // warm-up
        let list = samples.get(path.id);
        if (!list) samples.set(path.id, (list = []));
        list.push(ms);
      }
      log(`round ${round} done, load ${loadavg()[0].toFixed(2)}`);
    }
    const memcpyMs = median(samples.get('memcpy') ?? [NaN]);
    for (const path of chosen) {
      const list = samples.get(path.id)!;
      const ms = median(list);
      const best = Math.min(...list);
      log(`${path.id.padEnd(26)} median ${ms.toFixed(1).padStart(7)} ms ${mbPerSec(layerBytes, ms).toFixed(0).padStart(6)} MB/s ${(memcpyMs / ms).toFixed(3)} of memcpy; best ${best.toFixed(1)} ms ${(Math.min(...(samples.get('memcpy') ?? [NaN])) / best).toFixed(3)} of best memcpy  [${list.map((v) => v.toFixed(0)).join(' ')}]`);
    }
    log(`load average at end ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
    await source.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
    device.destroy();
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

await main();
