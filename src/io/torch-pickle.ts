/**
 * Reads PyTorch `torch.save` checkpoints (`pytorch_model.bin`) without Python: the zip format (PyTorch >= 1.6:
 * `<root>/data.pkl`, `<root>/data/<key>`, `<root>/byteorder`) and the legacy format (consecutive pickles followed
 * by raw storages). The pickle is run by a restricted unpickler that only accepts the globals a state dict needs
 * (OrderedDict, the tensor/parameter rebuild functions and the typed storage classes): loading a checkpoint must
 * never execute code from it.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { InputError } from '../errors.js';
import { BYTES_PER_ELEMENT, inMemory, numel, type HostDType, type HostTensor, type StoredTensor } from './host-tensor.js';
import { PyGlobal, unpickle, type UnpicklerHooks } from './pickle.js';
import { looksLikeZip, ZipReader } from './zip.js';

const STORAGE_DTYPES: Record<string, HostDType> = {
  FloatStorage: 'float32', DoubleStorage: 'float64', HalfStorage: 'float16', BFloat16Storage: 'bfloat16',
  LongStorage: 'int64', IntStorage: 'int32', ShortStorage: 'int16', CharStorage: 'int8', ByteStorage: 'uint8',
  BoolStorage: 'bool',
};
const REBUILD_FUNCTIONS = new Set([
  '_rebuild_tensor', '_rebuild_tensor_v2', '_rebuild_parameter', '_rebuild_parameter_with_state',
]);

/** A storage named by a persistent id; its bytes arrive later (legacy format) or are read on demand (zip). */
interface StorageRef {
  key: string;
  dtype: HostDType;
  numel: number;
  bytes?: Uint8Array;
  /** Legacy format only: this storage is a view into `viewOf` starting at element `viewOffset`. */
  viewOf?: string;
  viewOffset?: number;
}

/** `_rebuild_tensor_v2(storage, storage_offset, size, stride, ...)`, materialized once storages are loaded. */
class PendingTensor {
  constructor(readonly storage: StorageRef, readonly offset: number, readonly shape: number[], readonly stride: number[]) {}
}

/**
 * Reads a `torch.save`d state dict: a (possibly ordered) dict of name -> tensor. Contiguous tensors are views of
 * their storage's bytes, so tensors that shared a storage in PyTorch (tied weights) share bytes here: treat the
 * data as read-only.
 */
export function readTorchStateDict(path: string): Map<string, HostTensor> {
  const sd = openTorchStateDict(path);
  try {
    return new Map([...sd.tensors].map(([k, t]) => [k, t.read()]));
  } finally {
    sd.close();
  }
}

/** An opened checkpoint: its tensors are read one at a time, on demand, until close(). */
export interface OpenedStateDict {
  readonly tensors: ReadonlyMap<string, StoredTensor>;
  close(): void;
}

/**
 * Opens a `torch.save`d state dict without reading its tensors: the pickle and the zip directory are parsed and
 * checked up front, each storage is read (and its CRC-32 checked) when a tensor of it is read. The legacy format,
 * one stream without a directory, is read whole.
 */
export function openTorchStateDict(path: string): OpenedStateDict {
  const head = readHead(path, 4);
  if (looksLikeZip(head)) return openZipCheckpoint(path);
  const all = readLegacyCheckpoint(path, head);
  return { tensors: new Map([...all].map(([k, t]) => [k, inMemory(t, path)])), close: () => {} };
}

function readHead(path: string, n: number): Uint8Array {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new InputError(path, undefined, `cannot open PyTorch checkpoint: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  try {
    const b = new Uint8Array(n);
    const got = readSync(fd, b, 0, n, 0);
    return b.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

function openZipCheckpoint(path: string): OpenedStateDict {
  const zip = ZipReader.open(path);
  try {
    return { tensors: zipTensors(zip, path), close: () => zip.close() };
  } catch (e) {
    zip.close();
    throw e;
  }
}

function zipTensors(zip: ZipReader, path: string): Map<string, StoredTensor> {
  const pkl = [...zip.entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pkl.length !== 1) {
    throw new InputError(path, undefined, `zip archive is not a PyTorch checkpoint: expected one '<root>/data.pkl' entry, found ${pkl.length}`);
  }
  const root = pkl[0]!.slice(0, -'/data.pkl'.length);
  let bigEndian = false;
  if (zip.entries.has(`${root}/byteorder`)) {
    const order = Buffer.from(zip.read(`${root}/byteorder`)).toString('latin1').trim();
    if (order !== 'little' && order !== 'big') throw new InputError(path, undefined, `${root}/byteorder says '${order}', expected 'little' or 'big'`);
    bigEndian = order === 'big';
  }
  const storages = new Map<string, StorageRef>();
  const persistentLoad = (pid: unknown): StorageRef => {
    const ref = parseStoragePid(pid, path, 5);
    const seen = storages.get(ref.key);
    if (seen) return seen;
    storages.set(ref.key, ref);
    return ref;
  };
  const value = unpickle(zip.read(`${root}/data.pkl`), torchHooks(path, persistentLoad), path).value;
  for (const ref of storages.values()) {
    const name = `${root}/data/${ref.key}`;
    const entry = zip.entries.get(name);
    if (!entry) throw new InputError(path, undefined, `storage '${ref.key}' is referenced but entry '${name}' is missing`);
    const want = ref.numel * BYTES_PER_ELEMENT[ref.dtype];
    if (entry.uncompressedSize < want) {
      throw new InputError(path, undefined, `storage '${ref.key}' holds ${entry.uncompressedSize} bytes but ${ref.numel} ${ref.dtype} elements need ${want}`);
    }
  }
  const out = new Map<string, StoredTensor>();
  for (const [key, t] of pendingTensors(value, path)) {
    checkView(t, key, path, t.storage.numel);
    const name = `${root}/data/${t.storage.key}`;
    const entryBytes = zip.entries.get(name)!.uncompressedSize;
    // A tensor that is its whole storage, little-endian and in C order, streams straight from the archive.
    const whole = !bigEndian && zip.isStored(name) && t.offset === 0 && isContiguous(t.shape, t.stride) &&
      numel(t.shape) * BYTES_PER_ELEMENT[t.storage.dtype] === entryBytes;
    out.set(key, {
      dtype: t.storage.dtype,
      shape: t.shape,
      byteLength: entryBytes,
      file: path,
      ...(whole ? { stream: (buffer: Uint8Array, sink: (piece: Uint8Array, byteOffset: number) => void) => zip.stream(name, buffer, sink) } : {}),
      read: (into) => {
        const es = BYTES_PER_ELEMENT[t.storage.dtype];
        const bytes = zip.read(name, into).subarray(0, t.storage.numel * es);
        // Swapped in place only in our own buffer: a fresh read, or the caller's scratch space.
        const storage = { ...t.storage, bytes: bigEndian ? swapBytes(bytes, es) : bytes };
        return materialize(new PendingTensor(storage, t.offset, t.shape, t.stride), key, path);
      },
    });
  }
  return out;
}

/**
 * Legacy (`_use_new_zipfile_serialization=False`) layout: pickles of the magic number, the protocol version and
 * sys_info, then the object, then the sorted list of storage keys, then for each key an int64 element count and
 * the storage's raw little-endian bytes.
 */
function readLegacyCheckpoint(path: string, head: Uint8Array): Map<string, HostTensor> {
  if (head.byteLength < 2 || head[0] !== 0x80) {
    throw new InputError(path, undefined, 'not a PyTorch checkpoint (neither a zip archive nor a legacy pickle; the pre-0.4 tar format is unsupported)');
  }
  const bytes = readFileSync(path);
  const plain: UnpicklerHooks = {
    findClass: () => undefined,
    reduce: () => undefined,
  };
  const magic = unpickle(bytes, plain, path, 0);
  if (magic.value !== 0x1950a86a20f9469cfc6cn) throw new InputError(path, undefined, 'legacy PyTorch checkpoint: bad magic number');
  const protocol = unpickle(bytes, plain, path, magic.end);
  if (protocol.value !== 1001) throw new InputError(path, undefined, `legacy PyTorch checkpoint: unsupported protocol version ${String(protocol.value)}`);
  const sysInfo = unpickle(bytes, plain, path, protocol.end);
  const storages = new Map<string, StorageRef>();
  const persistentLoad = (pid: unknown): StorageRef => {
    const ref = parseStoragePid(pid, path, 6);
    const existing = storages.get(ref.key);
    if (existing) return existing;
    storages.set(ref.key, ref);
    if (ref.viewOf !== undefined && !storages.has(ref.viewOf)) {
      const baseNumel = (pid as unknown[])[4] as number;
      storages.set(ref.viewOf, { key: ref.viewOf, dtype: ref.dtype, numel: baseNumel });
    }
    return ref;
  };
  const main = unpickle(bytes, torchHooks(path, persistentLoad), path, sysInfo.end);
  const keysPickle = unpickle(bytes, plain, path, main.end);
  const keys = keysPickle.value;
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) {
    throw new InputError(path, undefined, 'legacy PyTorch checkpoint: storage key list is not a list of strings');
  }
  let pos = keysPickle.end;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const key of keys as string[]) {
    const ref = storages.get(key);
    if (ref?.viewOf !== undefined) throw new InputError(path, undefined, `legacy PyTorch checkpoint: storage '${key}' is both a view and stored`);
    if (!ref) throw new InputError(path, undefined, `legacy PyTorch checkpoint: storage '${key}' is stored but never referenced`);
    if (pos + 8 > bytes.byteLength) throw new InputError(path, undefined, `storage '${key}': file ends before its size field (truncated)`);
    const n = Number(dv.getBigInt64(pos, true));
    if (!Number.isSafeInteger(n) || n < 0) throw new InputError(path, undefined, `storage '${key}': size field ${n} is not an element count (corrupt)`);
    pos += 8;
    const len = n * BYTES_PER_ELEMENT[ref.dtype];
    if (pos + len > bytes.byteLength) {
      throw new InputError(path, undefined, `storage '${key}': needs ${len} bytes at offset ${pos} but the file has ${bytes.byteLength} (truncated)`);
    }
    // A copy, so every tensor's bytes start on an aligned offset (typed-array views need that).
    ref.bytes = new Uint8Array(bytes.subarray(pos, pos + len));
    ref.numel = n;
    pos += len;
  }
  for (const ref of storages.values()) {
    if (ref.viewOf === undefined) continue;
    const base = storages.get(ref.viewOf);
    if (!base?.bytes) throw new InputError(path, undefined, `storage view '${ref.key}' refers to missing storage '${ref.viewOf}'`);
    const es = BYTES_PER_ELEMENT[ref.dtype];
    const begin = ref.viewOffset! * es;
    if (begin + ref.numel * es > base.bytes.byteLength) throw new InputError(path, undefined, `storage view '${ref.key}' reaches past its base storage`);
    ref.bytes = base.bytes.subarray(begin, begin + ref.numel * es);
  }
  return toStateDict(main.value, path);
}

/** ('storage', storage_type, key, location, numel[, view_metadata]) -> StorageRef. */
function parseStoragePid(pid: unknown, path: string, arity: number): StorageRef {
  const bad = (why: string): never => {
    throw new InputError(path, undefined, `unsupported persistent id ${describe(pid)}: ${why}`);
  };
  if (!Array.isArray(pid) || pid.length !== arity || pid[0] !== 'storage') bad(`expected a ${arity}-tuple starting with 'storage'`);
  const [, type, key, , count, view] = pid as unknown[];
  if (!(type instanceof PyGlobal) || !(type.name in STORAGE_DTYPES)) bad('unknown storage type');
  if (typeof key !== 'string') bad('storage key is not a string');
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) bad('storage size is not a non-negative integer');
  const ref: StorageRef = { key: key as string, dtype: STORAGE_DTYPES[(type as PyGlobal).name]!, numel: count as number };
  if (arity === 6 && view !== null) {
    if (!Array.isArray(view) || view.length !== 3 || typeof view[0] !== 'string' || typeof view[1] !== 'number' || typeof view[2] !== 'number') {
      bad('malformed view metadata');
    }
    const [viewKey, offset, size] = view as [string, number, number];
    return { key: viewKey, dtype: ref.dtype, numel: size, viewOf: ref.key, viewOffset: offset };
  }
  return ref;
}

function torchHooks(path: string, persistentLoad: (pid: unknown) => StorageRef): UnpicklerHooks {
  return {
    findClass(module, name) {
      if (module === 'collections' && name === 'OrderedDict') return new PyGlobal(module, name);
      if (module === 'torch._utils' && REBUILD_FUNCTIONS.has(name)) return new PyGlobal(module, name);
      if (module === 'torch' && name in STORAGE_DTYPES) return new PyGlobal(module, name);
      return undefined;
    },
    reduce(fn, args) {
      const bad = (why: string): never => {
        throw new InputError(path, undefined, `${fn.qualifiedName}${describe(args)}: ${why}`);
      };
      switch (fn.name) {
        case 'OrderedDict': {
          const m = new Map<unknown, unknown>();
          if (args.length === 0) return m;
          if (args.length === 1 && Array.isArray(args[0])) {
            for (const pair of args[0] as unknown[]) {
              if (!Array.isArray(pair) || pair.length !== 2) bad('items are not pairs');
              m.set((pair as unknown[])[0], (pair as unknown[])[1]);
            }
            return m;
          }
          return bad('unexpected arguments');
        }
        case '_rebuild_tensor':
        case '_rebuild_tensor_v2': {
          const [storage, offset, size, stride] = args;
          if (!isStorageRef(storage)) bad('first argument is not a storage');
          if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) bad('bad storage offset');
          if (!isIntArray(size) || !isIntArray(stride) || size.length !== stride.length) bad('bad size/stride');
          return new PendingTensor(storage as StorageRef, offset as number, [...(size as number[])], [...(stride as number[])]);
        }
        case '_rebuild_parameter':
        case '_rebuild_parameter_with_state':
          if (!(args[0] instanceof PendingTensor)) bad('first argument is not a tensor');
          return args[0];
        default:
          return bad('cannot be called');
      }
    },
    persistentLoad,
    build(obj, state) {
      // OrderedDict state dicts carry a `_metadata` attribute (per-module versions); it holds no weights.
      if (obj instanceof Map && (state === null || state instanceof Map)) return obj;
      throw new InputError(path, undefined, `unsupported object state on ${describe(obj)}`);
    },
  };
}

function toStateDict(value: unknown, path: string): Map<string, HostTensor> {
  return new Map([...pendingTensors(value, path)].map(([k, t]) => [k, materialize(t, k, path)]));
}

/** The state dict's entries, checked to be name -> tensor. */
function pendingTensors(value: unknown, path: string): Map<string, PendingTensor> {
  if (!(value instanceof Map)) throw new InputError(path, undefined, `checkpoint holds ${describe(value)}, expected a state dict (a dict of tensors)`);
  const out = new Map<string, PendingTensor>();
  for (const [k, v] of value) {
    if (typeof k !== 'string') throw new InputError(path, undefined, `state dict key ${describe(k)} is not a string`);
    if (!(v instanceof PendingTensor)) {
      throw new InputError(path, undefined, `state dict entry '${k}' is ${describe(v)}, not a tensor (a nested checkpoint? extract its state dict first)`);
    }
    out.set(k, v);
  }
  return out;
}

function checkView(t: PendingTensor, key: string, path: string, storageNumel: number): void {
  const { offset, shape, stride } = t;
  if (numel(shape) === 0) return;
  let last = offset;
  for (let d = 0; d < shape.length; d++) last += (shape[d]! - 1) * stride[d]!;
  if (stride.some((s) => s < 0) || last >= storageNumel) {
    throw new InputError(path, undefined, `tensor '${key}': view (offset ${offset}, shape [${shape}], stride [${stride}]) reaches outside its storage of ${storageNumel} elements`);
  }
}

/** Copies a strided view out of its storage in C order (a zero-copy subarray when it is already contiguous). */
function materialize(t: PendingTensor, key: string, path: string): HostTensor {
  const { storage, offset, shape, stride } = t;
  const es = BYTES_PER_ELEMENT[storage.dtype];
  const n = numel(shape);
  const bytes = storage.bytes!;
  checkView(t, key, path, bytes.byteLength / es);
  if (isContiguous(shape, stride)) {
    return { dtype: storage.dtype, shape, data: bytes.subarray(offset * es, (offset + n) * es) };
  }
  const out = new Uint8Array(n * es);
  const index = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    let src = offset;
    for (let d = 0; d < shape.length; d++) src += index[d]! * stride[d]!;
    out.set(bytes.subarray(src * es, src * es + es), i * es);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++index[d]! < shape[d]!) break;
      index[d] = 0;
    }
  }
  return { dtype: storage.dtype, shape, data: out };
}

function isContiguous(shape: number[], stride: number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expected) return false;
    expected *= shape[d]!;
  }
  return true;
}

function swapBytes(b: Uint8Array, width: number): Uint8Array {
  if (width > 1) for (let i = 0; i < b.byteLength; i += width) b.subarray(i, i + width).reverse();
  return b;
}

function isStorageRef(x: unknown): x is StorageRef {
  return typeof x === 'object' && x !== null && 'key' in x && 'dtype' in x && 'numel' in x;
}

function isIntArray(x: unknown): x is number[] {
  return Array.isArray(x) && x.every((v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0);
}

function describe(x: unknown): string {
  if (x instanceof Map) return 'a dict';
  if (x instanceof PyGlobal) return x.qualifiedName;
  if (x instanceof PendingTensor) return 'a tensor';
  if (Array.isArray(x)) return `(${x.map(describe).join(', ')})`;
  if (typeof x === 'string') return `'${x.length > 40 ? `${x.slice(0, 40)}...` : x}'`;
  if (x === null) return 'None';
  if (x instanceof Uint8Array) return `bytes[${x.byteLength}]`;
  return String(x);
}
