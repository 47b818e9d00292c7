/**
 * pytorch_model.bin as torch.save writes it (since torch 1.6): a zip holding `<archive>/data.pkl`, a pickle of the
 * state dict, and one `<archive>/data/<key>` entry per storage, the tensors' raw little-endian bytes.
 *
 * A pickle is a program: unpickling one with Python runs whatever callables it names. This reader runs none. It
 * interprets only the opcodes a state dict uses (protocols 2 to 5) and recognises only these names: collections
 * OrderedDict (an empty dict), torch._utils _rebuild_tensor_v2 / _rebuild_parameter (a tensor's storage, offset,
 * shape and strides) and torch's typed storage classes (the dtype). Any other name, opcode, or a file past the
 * limits below is an InputError, so hostile bytes can do nothing but fail. Tensor data is never read here: each
 * tensor becomes a byte range of its storage entry, read later like a safetensors tensor.
 */
import type { ByteSource } from '../data/byteSource.ts';
import { InputError, check } from '../data/inputError.ts';
import { readBytes } from '../data/safeRead.ts';
import { listZipEntries, openZipEntry, type InflateCache } from '../data/zip.ts';
import { printable } from './untrustedText.ts';

/** A tensor found in the pickle, located in its storage entry (offsets relative to that entry's ByteSource). */
export interface PickledTensor {
  readonly name: string;
  /** safetensors' dtype names: 'F32', 'F16', 'BF16', 'F64', 'I64', ... */
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly source: ByteSource;
  readonly begin: number;
  readonly end: number;
}

/** A state dict's pickle is ~100 bytes per tensor; 64 MiB is far beyond any model's. */
const MAX_PICKLE_BYTES = 1 << 26;
const MAX_MEMO_ENTRIES = 1 << 22;

const STORAGE_DTYPES: Readonly<Record<string, { dtype: string; bytes: number }>> = {
  FloatStorage: { dtype: 'F32', bytes: 4 },
  HalfStorage: { dtype: 'F16', bytes: 2 },
  BFloat16Storage: { dtype: 'BF16', bytes: 2 },
  DoubleStorage: { dtype: 'F64', bytes: 8 },
  LongStorage: { dtype: 'I64', bytes: 8 },
  IntStorage: { dtype: 'I32', bytes: 4 },
  ShortStorage: { dtype: 'I16', bytes: 2 },
  CharStorage: { dtype: 'I8', bytes: 1 },
  ByteStorage: { dtype: 'U8', bytes: 1 },
  BoolStorage: { dtype: 'BOOL', bytes: 1 },
};

/** Values the interpreter builds: plain data, and markers for the few torch objects it recognises. */
type Value = null | boolean | number | string | Value[] | Dict | Global | Storage | Tensor | typeof MARK;
type Dict = Map<Value, Value>;
interface Global {
  readonly kind: 'global';
  readonly module: string;
  readonly name: string;
}
interface Storage {
  readonly kind: 'storage';
  readonly dtype: string;
  readonly bytes: number;
  readonly key: string;
  readonly elements: number;
}
interface Tensor {
  readonly kind: 'tensor';
  readonly storage: Storage;
  readonly offset: number;
  readonly shape: number[];
}
const MARK = Symbol('mark');

const ALLOWED_GLOBALS = new Set(['collections OrderedDict', 'torch._utils _rebuild_tensor_v2', 'torch._utils _rebuild_parameter', ...Object.keys(STORAGE_DTYPES).map((s) => `torch ${s}`)]);

/** Lists the tensors of a torch.save zip (reads the zip directory and data.pkl only). */
export async function readPytorchBinTensors(source: ByteSource): Promise<PickledTensor[]> {
  const fail = (reason: string): never => {
    throw new InputError(source.name, 'unsupported-layout', reason);
  };
  let entries;
  try {
    entries = await listZipEntries(source);
  } catch (error) {
    if (error instanceof InputError) fail(`is not a torch.save zip archive (${error.reason}); old-style (pre-1.6) pickles are not read`);
    throw error;
  }
  const pickleEntry = entries.find((e) => /^[^/]+\/data\.pkl$/.test(e.name));
  if (!pickleEntry) return fail('holds no <archive>/data.pkl: not a torch.save archive');
  const archive = pickleEntry.name.slice(0, -'/data.pkl'.length);
  const cache: InflateCache = {};
  const byteorder = entries.find((e) => e.name === `${archive}/byteorder`);
  if (byteorder) {
    const orderSource = await openZipEntry(source, byteorder, cache);
    const order = new TextDecoder().decode(await readBytes(orderSource, 0, Math.min(orderSource.byteLength, 16), 'byteorder'));
    check(order.trim() === 'little', source.name, 'unsupported-dtype', () => `tensors are stored ${JSON.stringify(order.slice(0, 16))}-endian; only little-endian is read`);
  }
  check(pickleEntry.uncompressedSize <= MAX_PICKLE_BYTES, source.name, 'bad-header', () => `data.pkl has ${pickleEntry.uncompressedSize} bytes; at most ${MAX_PICKLE_BYTES} are read`);
  const pickleSource = await openZipEntry(source, pickleEntry, cache);
  const root = unpickle(await readBytes(pickleSource, 0, pickleSource.byteLength, 'data.pkl'), source.name);
  check(root instanceof Map, source.name, 'unsupported-layout', () => 'data.pkl does not hold a state dict (a dict of tensors)');

  const storages = new Map<string, ByteSource>();
  const tensors: PickledTensor[] = [];
  for (const [name, value] of root) {
    if (typeof name !== 'string' || !isTensor(value)) continue;
    const { storage, offset, shape } = value;
    let storageSource = storages.get(storage.key);
    if (!storageSource) {
      const entry = entries.find((e) => e.name === `${archive}/data/${storage.key}`);
      if (!entry) return fail(`tensor ${printable(name)} refers to storage ${printable(storage.key)}, which the archive does not hold`);
      storageSource = await openZipEntry(source, entry, cache);
      storages.set(storage.key, storageSource);
    }
    const count = shape.reduce((a, b) => a * b, 1);
    const begin = offset * storage.bytes;
    const end = begin + count * storage.bytes;
    check(
      end <= storageSource.byteLength && end <= storage.elements * storage.bytes,
      source.name,
      'truncated',
      () => `tensor ${printable(name)} needs bytes ${begin}..${end} of storage ${printable(storage.key)}, which has ${storageSource!.byteLength}`,
    );
    tensors.push({ name, dtype: storage.dtype, shape, source: storageSource, begin, end });
  }
  return tensors;
}

function isTensor(value: Value): value is Tensor {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Map) && value.kind === 'tensor';
}

/** Runs the pickle machine over `bytes` with the restrictions described at the top; returns what STOP leaves. */
export function unpickle(bytes: Uint8Array, fileName: string): Value {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: Value[] = [];
  const memo = new Map<number, Value>();
  let position = 0;
  const fail = (reason: string): never => {
    throw new InputError(fileName, 'unsupported-layout', `data.pkl at byte ${position}: ${reason}.`);
  };
  const need = (count: number) => {
    if (position + count > bytes.length) fail('the pickle ends in the middle of an instruction');
  };
  const u8 = () => (need(1), bytes[position++]);
  const u16 = () => (need(2), (position += 2), view.getUint16(position - 2, true));
  const u32 = () => (need(4), (position += 4), view.getUint32(position - 4, true));
  const i32 = () => (need(4), (position += 4), view.getInt32(position - 4, true));
  const u64 = () => {
    need(8);
    const value = view.getBigUint64(position, true);
    position += 8;
    if (value > BigInt(bytes.length)) fail('a length runs past the end of the pickle');
    return Number(value);
  };
  const text = (length: number) => {
    need(length);
    const decoded = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(position, position + length));
    position += length;
    return decoded;
  };
  const line = () => {
    const end = bytes.indexOf(0x0a, position);
    if (end < 0 || end - position > 256) fail('a GLOBAL name is not terminated');
    const value = new TextDecoder('latin1').decode(bytes.subarray(position, end));
    position = end + 1;
    return value;
  };
  const pop = (): Value => (stack.length === 0 ? fail('the stack is empty') : stack.pop()!);
  const popMark = (): Value[] => {
    const index = stack.lastIndexOf(MARK);
    if (index < 0) fail('no MARK on the stack');
    const items = stack.splice(index);
    items.shift();
    return items;
  };
  const top = (): Value => (stack.length === 0 ? fail('the stack is empty') : stack[stack.length - 1]);
  const memoPut = (key: number) => {
    if (memo.size >= MAX_MEMO_ENTRIES) fail('too many memo entries');
    memo.set(key, top());
  };
  const global = (module: string, name: string): Global => {
    const key = `${module} ${name}`;
    if (!ALLOWED_GLOBALS.has(key)) fail(`it calls ${printable(module)}.${printable(name)}, which STEVE does not run (only plain state dicts of tensors are read)`);
    return { kind: 'global', module, name };
  };
  const setItems = (dict: Value, items: Value[]) => {
    if (!(dict instanceof Map) || items.length % 2 !== 0) fail('SETITEMS on something that is not a dict');
    for (let i = 0; i < items.length; i += 2) (dict as Dict).set(items[i], items[i + 1]);
  };

  for (;;) {
    const opcode = u8();
    switch (opcode) {
      case 0x80: // PROTO
        u8();
        break;
      case 0x95: // FRAME: a length hint only
        u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1) fail('STOP with more than one value on the stack');
        return stack[0];
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x29: // EMPTY_TUPLE
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x74: // TUPLE
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x8a: {
        // LONG1: a little-endian two's-complement integer of n bytes
        const n = u8();
        if (n > 8) fail('an integer longer than 8 bytes');
        need(n);
        let value = 0n;
        for (let i = n - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[position + i]);
        if (n > 0 && bytes[position + n - 1] & 0x80) value -= 1n << BigInt(8 * n);
        position += n;
        if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < -BigInt(Number.MAX_SAFE_INTEGER)) fail('an integer beyond 2^53');
        stack.push(Number(value));
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        stack.push(view.getFloat64(position, false));
        position += 8;
        break;
      case 0x58: // BINUNICODE
        stack.push(text(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(u8()));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(text(u64()));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(text(u8()));
        break;
      case 0x54: // BINSTRING
        stack.push(text(u32()));
        break;
      case 0x71: // BINPUT
        memoPut(u8());
        break;
      case 0x72: // LONG_BINPUT
        memoPut(u32());
        break;
      case 0x94: // MEMOIZE
        memoPut(memo.size);
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const key = opcode === 0x68 ? u8() : u32();
        if (!memo.has(key)) fail(`memo entry ${key} is not set`);
        stack.push(memo.get(key)!);
        break;
      }
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        stack.push(global(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL without two strings');
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x51: // BINPERSID: torch's ('storage', StorageType, key, location, numel)
        stack.push(persistentStorage(pop(), fail));
        break;
      case 0x52: {
        // REDUCE
        const args = pop();
        stack.push(call(pop(), args, fail));
        break;
      }
      case 0x62: // BUILD: the state (a state dict's _metadata) is dropped, the object kept
        pop();
        top();
        break;
      case 0x73: {
        // SETITEM
        const value = pop();
        const key = pop();
        setItems(top(), [key, value]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x61: {
        // APPEND
        const value = pop();
        const list = top();
        if (!Array.isArray(list)) fail('APPEND to something that is not a list');
        (list as Value[]).push(value);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        const list = top();
        if (!Array.isArray(list)) fail('APPENDS to something that is not a list');
        // One by one: spreading millions of items into push() would overflow the call stack.
        for (const item of items) (list as Value[]).push(item);
        break;
      }
      default:
        fail(`opcode 0x${opcode.toString(16).padStart(2, '0')} is not one a state dict uses`);
    }
  }
}

function persistentStorage(id: Value, fail: (reason: string) => never): Storage {
  if (!Array.isArray(id) || id.length !== 5 || id[0] !== 'storage') return fail("a persistent id that is not torch's ('storage', type, key, location, numel)");
  const [, type, key, , elements] = id;
  const storageType = typeof type === 'object' && type !== null && !Array.isArray(type) && !(type instanceof Map) && type.kind === 'global' ? type.name : undefined;
  const known = storageType ? STORAGE_DTYPES[storageType] : undefined;
  if (!known || typeof key !== 'string' || typeof elements !== 'number' || !/^[\w.-]{1,64}$/.test(key)) return fail('a storage with an unknown type or a bad key');
  return { kind: 'storage', ...known, key, elements };
}

function call(callable: Value, args: Value, fail: (reason: string) => never): Value {
  if (typeof callable !== 'object' || callable === null || Array.isArray(callable) || callable instanceof Map || callable.kind !== 'global' || !Array.isArray(args)) {
    return fail('REDUCE of something that is not a recognised callable');
  }
  const name = `${callable.module} ${callable.name}`;
  if (name === 'collections OrderedDict') return new Map();
  if (name === 'torch._utils _rebuild_parameter') return isTensor(args[0]) ? args[0] : fail('_rebuild_parameter without a tensor');
  if (name !== 'torch._utils _rebuild_tensor_v2') return fail(`${name.replace(' ', '.')} cannot be called`);
  const [storage, offset, shape, stride] = args;
  const isStorage = typeof storage === 'object' && storage !== null && !Array.isArray(storage) && !(storage instanceof Map) && storage.kind === 'storage';
  const integers = (v: Value): v is number[] => Array.isArray(v) && v.every((d) => Number.isSafeInteger(d) && (d as number) >= 0);
  if (!isStorage || typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0 || !integers(shape) || !integers(stride) || shape.length !== stride.length) {
    return fail('_rebuild_tensor_v2 with arguments other than (storage, offset, shape, stride, ...)');
  }
  // Row-major contiguity: each stride is the product of the later sizes (a dimension of size 1 may have any stride).
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && stride[i] !== expected) return fail('a tensor that is not contiguous (a view with strides)');
    expected *= shape[i];
  }
  return { kind: 'tensor', storage: storage as Storage, offset, shape };
}
