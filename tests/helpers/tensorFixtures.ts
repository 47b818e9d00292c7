/**
 * Helpers for the attention-reader tests: fixture files from tests/fixtures/tensors (written by numpy, see
 * make_fixtures.py there), the value formula those files follow, and a ByteSource wrapper that records reads.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { makeMemorySource, type ByteSource } from '../../src/data/byteSource.ts';

/** Absolute path of a fixture file. */
export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`../fixtures/tensors/${name}`, import.meta.url));
}

/** A fixture's bytes. */
export function fixtureBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(fixturePath(name)));
}

/** A fixture as an in-memory ByteSource named after the file. */
export function fixtureSource(name: string): ByteSource {
  return makeMemorySource(name, fixtureBytes(name));
}

/** reference.json, written by make_fixtures.py from numpy. */
export function fixtureReference(): {
  random_head_sums: Record<string, number[]>;
  float16: {
    widen_all_sha256: string;
    narrow_sweep_sha256: string;
    narrow_ties_sha256: string;
    narrow_cases: [number, number][];
    pack_input: number[];
    pack_words: number[];
  };
} {
  return JSON.parse(readFileSync(fixturePath('reference.json'), 'utf8'));
}

/** The fixtures' value at flat C-order index i of the stacked tensor: ((i % 61) - 30) * 0.25. */
export function formulaValue(i: number): number {
  return ((i % 61) - 30) * 0.25;
}

/** `count` formula values starting at flat index `start`. */
export function formulaRange(start: number, count: number): Float32Array {
  return Float32Array.from({ length: count }, (_, k) => formulaValue(start + k));
}

/** A ByteSource that records every read, to prove readers read slices and not whole files. */
export interface CountingSource extends ByteSource {
  readonly reads: { offset: number; length: number }[];
  bytesRead(): number;
}

/** Wraps `inner` so that its reads are recorded. */
export function countingSource(inner: ByteSource): CountingSource {
  const reads: { offset: number; length: number }[] = [];
  return {
    name: inner.name,
    byteLength: inner.byteLength,
    reads,
    bytesRead: () => reads.reduce((sum, r) => sum + r.length, 0),
    read(offset, length) {
      reads.push({ offset, length });
      return inner.read(offset, length);
    },
  };
}

/** Builds a .npy file from a header dict literal and data bytes (for hand-made bad headers), version 1.0. */
export function makeNpy(dict: string, data: Uint8Array = new Uint8Array(0), version = 1): Uint8Array {
  const preamble = version === 1 ? 10 : 12;
  let header = dict;
  while ((preamble + header.length + 1) % 64 !== 0) header += ' ';
  header += '\n';
  const headerBytes = new TextEncoder().encode(header);
  const out = new Uint8Array(preamble + headerBytes.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, headerBytes.length, true);
  else view.setUint32(8, headerBytes.length, true);
  out.set(headerBytes, preamble);
  out.set(data, preamble + headerBytes.length);
  return out;
}

/** Builds a .safetensors file from a header object and data bytes (for hand-made bad headers). */
export function makeSafetensors(header: unknown, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  let json = JSON.stringify(header);
  while (json.length % 8 !== 0) json += ' ';
  const jsonBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + jsonBytes.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(jsonBytes.length), true);
  out.set(jsonBytes, 8);
  out.set(data, 8 + jsonBytes.length);
  return out;
}
