import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { makeMemorySource } from '../../src/data/byteSource.ts';
import { loadEncoderWeights, selectModelFiles } from '../../src/model/checkpoint.ts';
import { readPytorchBinTensors, unpickle } from '../../src/model/pytorchBin.ts';
import { expectInputError, inputErrorOf } from '../helpers/inputErrors.ts';
import { MODEL_FIXTURES, folderSources, maxAbsDifference } from './modelFixtures.ts';

const BIN = resolve(MODEL_FIXTURES, 'hubert_bin/pytorch_model.bin');

/** Pickle opcodes spelled out, so the test pickles below read as programs. */
function pickle(...parts: (string | number[])[]): Uint8Array {
  const bytes: number[] = [];
  for (const part of parts) bytes.push(...(typeof part === 'string' ? Array.from(part, (c) => c.charCodeAt(0)) : part));
  return Uint8Array.from(bytes);
}

/** A torch.save-like zip (stored entries) with the given data.pkl and storages. */
function torchZip(dataPkl: Uint8Array, storages: Record<string, Uint8Array> = {}): Uint8Array {
  const files: Record<string, [Uint8Array, { level: 0 }]> = { 'archive/data.pkl': [dataPkl, { level: 0 }] };
  for (const [key, bytes] of Object.entries(storages)) files[`archive/data/${key}`] = [bytes, { level: 0 }];
  return zipSync(files);
}

/** {'w': _rebuild_tensor_v2(('storage', FloatStorage, '0', 'cpu', 6), 0, shape, stride, False, OrderedDict())} */
function stateDictPickle(shape: number[], stride: number[]): Uint8Array {
  const ints = (values: number[]) => ['(', ...values.map((v) => ['K', [v]] as const).flat(), 't'] as (string | number[])[];
  return pickle(
    [0x80, 2],
    '}', // EMPTY_DICT
    '(', // MARK
    'X', [1, 0, 0, 0], 'w',
    'ctorch._utils\n_rebuild_tensor_v2\n',
    '(',
    '(', 'X', [7, 0, 0, 0], 'storage', 'ctorch\nFloatStorage\n', 'X', [1, 0, 0, 0], '0', 'X', [3, 0, 0, 0], 'cpu', 'K', [6], 't',
    'Q', // BINPERSID
    'K', [0],
    ...ints(shape),
    ...ints(stride),
    [0x89], // NEWFALSE
    'ccollections\nOrderedDict\n', ')', 'R',
    't',
    'R',
    'u', // SETITEMS
    '.',
  );
}

describe('pytorch_model.bin', () => {
  it('reads the same tensors as the safetensors file, every one a view at its own offset of one storage', async () => {
    const fromBin = await loadEncoderWeights(selectModelFiles(folderSources('hubert_bin'), `${MODEL_FIXTURES}/hubert_bin`));
    const fromSafetensors = await loadEncoderWeights(selectModelFiles(folderSources('hubert'), `${MODEL_FIXTURES}/hubert`));
    expect(fromBin.storedDtype).toBe('BF16');
    expect([...fromBin.tensors.keys()]).toEqual([...fromSafetensors.tensors.keys()]);
    for (const [name, tensor] of fromSafetensors.tensors) {
      expect(fromBin.tensors.get(name)!.shape, name).toEqual(tensor.shape);
      expect(maxAbsDifference(fromBin.tensors.get(name)!.data, tensor.data), name).toBe(0);
    }
    const listed = await readPytorchBinTensors(makeMemorySource(BIN, readFileSync(BIN)));
    expect(new Set(listed.map((t) => t.source.name)).size).toBe(1);
    expect(listed.filter((t) => t.begin > 0).length).toBe(listed.length - 1);
  });

  it('reads a hand-written state dict and locates its tensor', async () => {
    const storage = new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer);
    const tensors = await readPytorchBinTensors(makeMemorySource('m/pytorch_model.bin', torchZip(stateDictPickle([2, 3], [3, 1]), { '0': storage })));
    expect(tensors.map(({ name, dtype, shape, begin, end }) => ({ name, dtype, shape, begin, end }))).toEqual([{ name: 'w', dtype: 'F32', shape: [2, 3], begin: 0, end: 24 }]);
  });

  it('runs nothing: a pickle that names any other callable is refused, naming it', () => {
    const hostile = pickle([0x80, 2], 'cos\nsystem\n', 'X', [2, 0, 0, 0], 'ls', [0x85], 'R', '.');
    const error = inputErrorOf(() => unpickle(hostile, 'evil.bin'));
    expect(error.kind).toBe('unsupported-layout');
    expect(error.message).toMatch(/^evil\.bin: data\.pkl at byte \d+: it calls os\.system, which STEVE does not run/);
    const builtins = pickle([0x80, 4], [0x8c, 8], 'builtins', [0x8c, 4], 'eval', [0x93], '.');
    expect(inputErrorOf(() => unpickle(builtins, 'evil.bin')).message).toMatch(/it calls builtins\.eval/);
    // INST (0x69) and OBJ would build arbitrary objects: not opcodes a state dict uses.
    expect(inputErrorOf(() => unpickle(pickle('ios\nsystem\n', '.'), 'evil.bin')).message).toMatch(/opcode 0x69 is not one a state dict uses/);
  });

  it('refuses truncated pickles, strided tensors and archives that are not torch.save zips', async () => {
    expect(inputErrorOf(() => unpickle(pickle([0x80, 2], 'X', [9, 0, 0, 0], 'ab'), 'cut.bin')).message).toMatch(/ends in the middle of an instruction/);
    expect(inputErrorOf(() => unpickle(pickle('K', [1], 'K', [2], '.'), 'two.bin')).message).toMatch(/STOP with more than one value/);
    // A list of 300 000 items appended at once is data, not a stack overflow.
    const many = new Uint8Array(2 + 300_000 * 2 + 2);
    many.set([0x5d, 0x28]); // EMPTY_LIST, MARK
    for (let i = 0; i < 300_000; i++) many.set([0x4b, 7], 2 + 2 * i); // BININT1 7
    many.set([0x65, 0x2e], many.length - 2); // APPENDS, STOP
    expect((unpickle(many, 'many.bin') as number[]).length).toBe(300_000);
    const storage = new Uint8Array(24);
    await expectInputError(readPytorchBinTensors(makeMemorySource('t.bin', torchZip(stateDictPickle([2, 3], [1, 2]), { '0': storage }))), 'unsupported-layout', /not contiguous/);
    await expectInputError(readPytorchBinTensors(makeMemorySource('t.bin', torchZip(stateDictPickle([2, 3], [3, 1])))), 'unsupported-layout', /refers to storage 0, which the archive does not hold/);
    await expectInputError(readPytorchBinTensors(makeMemorySource('t.bin', torchZip(stateDictPickle([4, 3], [3, 1]), { '0': storage }))), 'truncated', /tensor w needs bytes 0\.\.48 of storage 0/);
    const legacy = makeMemorySource('old/pytorch_model.bin', pickle([0x80, 2], 'K', [1], '.'));
    await expectInputError(readPytorchBinTensors(legacy), 'unsupported-layout', /is not a torch\.save zip archive/);
  });

  it('adds how to convert when the checkpoint cannot be read', async () => {
    const files = selectModelFiles([...folderSources('hubert').filter((s) => !s.name.endsWith('.safetensors')), makeMemorySource('m/pytorch_model.bin', pickle('K', [1], '.'))], 'm');
    await expectInputError(loadEncoderWeights(files), 'unsupported-layout', /^m\/pytorch_model\.bin: is not a torch\.save zip archive .* convert the folder with python: .*safe_serialization=True/);
  });
});
