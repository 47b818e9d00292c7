import { describe, expect, it } from 'vitest';
import { makeMemorySource } from '../../src/data/byteSource.ts';
import { openSafetensors, parseAttentionMetadata, readSafetensorsHeader } from '../../src/data/safetensors.ts';
import { countingSource, fixtureSource, formulaRange, makeSafetensors } from '../helpers/tensorFixtures.ts';
import { expectInputError } from '../helpers/inputErrors.ts';

const MAP = 7 * 5;
const STEVE_METADATA = { spf: 320, sampleRate: 16000, model: 'whisper-tiny' };

/** A hand-made file with one F32 tensor of shape `shape` at data_offsets `offsets` over `dataBytes` bytes. */
function oneTensor(shape: number[], offsets: [number, number], dataBytes: number, dtype = 'F32'): Uint8Array {
  return makeSafetensors({ attention: { dtype, shape, data_offsets: offsets } }, new Uint8Array(dataBytes));
}

describe('openSafetensors', () => {
  it.each([
    ['st_stacked_f32.safetensors', 'float32'],
    ['st_stacked_f16.safetensors', 'float16'],
    ['st_stacked_bf16.safetensors', 'bfloat16'],
    ['st_stacked_f64.safetensors', 'float64'],
  ])('reads %s exactly, with its metadata', async (name, dtype) => {
    const attention = await openSafetensors(fixtureSource(name));
    expect(attention.fileName).toBe(name);
    expect(attention.dtype).toBe(dtype);
    expect(attention.shape).toEqual({ layers: 2, heads: 3, rows: 7, cols: 5 });
    expect(attention.metadata).toEqual(STEVE_METADATA);
    for (let layer = 0; layer < 2; layer++) {
      for (let head = 0; head < 3; head++) expect(await attention.readHead(layer, head)).toEqual(formulaRange((layer * 3 + head) * MAP, MAP));
      expect(await attention.readLayer(layer)).toEqual(formulaRange(layer * 3 * MAP, 3 * MAP));
    }
  });

  it('stacks one tensor per layer in numeric order (layer.2 before layer.10)', async () => {
    const attention = await openSafetensors(fixtureSource('st_layers12_f16.safetensors'));
    expect(attention.shape).toEqual({ layers: 12, heads: 2, rows: 3, cols: 4 });
    expect(attention.metadata).toEqual({ spf: 160.5 });
    for (let layer = 0; layer < 12; layer++) {
      for (let head = 0; head < 2; head++) expect(await attention.readHead(layer, head)).toEqual(formulaRange((layer * 2 + head) * 12, 12));
    }
  });

  it('reads a file without __metadata__', async () => {
    const attention = await openSafetensors(fixtureSource('st_nometa_f32.safetensors'));
    expect(attention.metadata).toEqual({});
    expect(attention.shape).toEqual({ layers: 1, heads: 3, rows: 7, cols: 5 });
  });

  it('reads the header with sorted keys and space padding as written', async () => {
    const header = await readSafetensorsHeader(fixtureSource('st_stacked_f32.safetensors'));
    expect(header.metadata).toEqual({ model: 'whisper-tiny', sample_rate: '16000', spf: '320' });
    expect(header.tensors).toEqual([{ name: 'attention', dtype: 'F32', shape: [2, 1, 3, 7, 5], begin: 160, end: 1000 }]);
  });

  it('reads the header and then only the requested map', async () => {
    const source = countingSource(fixtureSource('st_layers12_f16.safetensors'));
    const attention = await openSafetensors(source);
    const afterOpen = source.bytesRead();
    await attention.readHead(7, 1);
    expect(source.bytesRead() - afterOpen).toBe(12 * 2);
  });

  it('refuses a header that claims a 5.8 GB tensor on a small file, at once', async () => {
    const bytes = oneTensor([32, 1, 20, 1500, 1500], [0, 5_760_000_000], 1024);
    const source = countingSource(makeMemorySource('large_v3.safetensors', bytes));
    await expectInputError(openSafetensors(source), 'truncated', /^large_v3\.safetensors: \.safetensors tensor 'attention' needs bytes \d+\.\.\d+ but the file has \d+$/);
    expect(Math.max(...source.reads.map((r) => r.length))).toBeLessThan(200);
  });

  it.each([
    ['a byte length that does not match the shape', oneTensor([2, 7, 5], [0, 200], 280), 'bad-header', /^bad\.safetensors: \.safetensors tensor 'attention' \(F32, shape \(2, 7, 5\)\) needs 280 bytes but its data_offsets span 200$/],
    ['offsets past the end', oneTensor([2, 7, 5], [100, 380], 280), 'truncated', /^bad\.safetensors: \.safetensors tensor 'attention' needs bytes \d+\.\.\d+ but the file has \d+$/],
    ['reversed offsets', oneTensor([0], [8, 0], 8), 'bad-header', /data_offsets \[8,0\]; expected \[begin, end\] with 0 <= begin <= end/],
    ['an unknown dtype', oneTensor([2], [0, 8], 8, 'F7'), 'unsupported-dtype', /^bad\.safetensors: \.safetensors tensor 'attention' has unknown dtype 'F7'$/],
    ['an integer attention tensor', oneTensor([7, 5], [0, 140], 140, 'I32'), 'unsupported-dtype', /^bad\.safetensors: \.safetensors tensor 'attention' has dtype I32; attention must be F16, BF16, F32 or F64$/],
    [
      'overlapping tensors',
      makeSafetensors({ layer_0: { dtype: 'F32', shape: [7, 5], data_offsets: [0, 140] }, layer_1: { dtype: 'F32', shape: [7, 5], data_offsets: [100, 240] } }, new Uint8Array(240)),
      'bad-header',
      /^bad\.safetensors: \.safetensors tensors 'layer_0' and 'layer_1' overlap$/,
    ],
    ['a JSON array', makeSafetensors([1, 2]), 'bad-header', /^bad\.safetensors: \.safetensors header is not a JSON object$/],
    ['non-string metadata', makeSafetensors({ __metadata__: { spf: 320 } }), 'bad-header', /^bad\.safetensors: \.safetensors __metadata__ must map strings to strings$/],
    ['no tensors', makeSafetensors({ __metadata__: { spf: '320' } }), 'unsupported-layout', /^bad\.safetensors: \.safetensors file holds no tensors$/],
  ] as const)('refuses %s', async (_, bytes, kind, message) => {
    await expectInputError(openSafetensors(makeMemorySource('bad.safetensors', bytes)), kind, message);
  });

  it('refuses a header length beyond the file and beyond 100 MB', async () => {
    const long = new Uint8Array(16);
    new DataView(long.buffer).setBigUint64(0, 9n, true);
    await expectInputError(openSafetensors(makeMemorySource('long.safetensors', long)), 'truncated', /^long\.safetensors: \.safetensors header claims 9 bytes but the file has 8 after the length field$/);
    new DataView(long.buffer).setBigUint64(0, 10n ** 12n, true);
    await expectInputError(openSafetensors(makeMemorySource('long.safetensors', long)), 'bad-header', /^long\.safetensors: \.safetensors header claims 1000000000000 bytes; expected at most 100000000$/);
  });

  it('refuses malformed JSON', () => {
    const bytes = makeSafetensors({ a: 1 });
    bytes[8 + 6] = 0x5b; // {"a":1} becomes {"a":[}
    return expectInputError(openSafetensors(makeMemorySource('json.safetensors', bytes)), 'bad-header', /^json\.safetensors: \.safetensors header is not valid UTF-8 JSON/);
  });

  it('refuses per-layer tensors of different dtypes', async () => {
    const bytes = makeSafetensors({ layer_0: { dtype: 'F32', shape: [7, 5], data_offsets: [0, 140] }, layer_1: { dtype: 'F16', shape: [7, 5], data_offsets: [140, 210] } }, new Uint8Array(210));
    await expectInputError(openSafetensors(makeMemorySource('mixed.safetensors', bytes)), 'unsupported-dtype', /^mixed\.safetensors: per-layer tensors must share one dtype: 'layer_0' is F32 but 'layer_1' is F16$/);
  });
});

describe('parseAttentionMetadata', () => {
  it('parses numbers and accepts sampling_rate', () => {
    expect(parseAttentionMetadata({ spf: ' 320 ', sampling_rate: '16000', model: 'm', other: 'x' }, 'f')).toEqual({ spf: 320, sampleRate: 16000, model: 'm' });
    expect(parseAttentionMetadata({ spf: '1e2' }, 'f')).toEqual({ spf: 100 });
  });

  it.each(['abc', '', '-5', '0', 'Infinity'])('refuses spf %j', (spf) => {
    expect(() => parseAttentionMetadata({ spf }, 'm.safetensors')).toThrow(/^m\.safetensors: __metadata__ spf is '.*'; expected a positive number$/);
  });
});
