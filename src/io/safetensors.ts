/**
 * The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian header length N,
 * N bytes of JSON `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {..}}`, then the data area.
 * Reading is streamed: only the header is parsed up front and each tensor is read at its offset on demand, so a
 * multi-GB checkpoint never sits in the heap twice. Validation mirrors the reference Rust implementation so that
 * a file it rejects is rejected here too, with one line naming the file and the tensor.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { InputError } from '../errors.js';
import { writeFileAtomicSync, type FileRecord } from '../util/fs.js';
import { BYTES_PER_ELEMENT, numel, type HostDType, type HostTensor, type StoredTensor } from './host-tensor.js';

const DTYPE_FROM_CODE: Record<string, HostDType> = {
  F32: 'float32', F16: 'float16', BF16: 'bfloat16', F64: 'float64',
  I64: 'int64', I32: 'int32', I16: 'int16', I8: 'int8', U8: 'uint8', BOOL: 'bool',
};
const CODE_FROM_DTYPE: Record<HostDType, string> = {
  float32: 'F32', float16: 'F16', bfloat16: 'BF16', float64: 'F64',
  int64: 'I64', int32: 'I32', int16: 'I16', int8: 'I8', uint8: 'U8', bool: 'BOOL',
};
/**
 * Rank of each dtype in the reference implementation's `Dtype` enum order. Its writer lays tensors out by this
 * rank descending, then by name, so that every tensor starts at a multiple of its element size; we do the same
 * so our files are byte-identical to Python's `safetensors.torch.save_file`.
 */
const REFERENCE_DTYPE_RANK: Record<HostDType, number> = {
  bool: 0, uint8: 1, int8: 2, int16: 3, float16: 4, bfloat16: 5, int32: 6, float32: 7, float64: 8, int64: 9,
};
/** The reference reader refuses headers above 100 MB; a larger value means a corrupt or foreign file. */
const MAX_HEADER_BYTES = 100_000_000;

export interface SafetensorsInfo {
  dtype: HostDType;
  shape: number[];
}

export interface SafetensorsFile {
  readonly path: string;
  /** The `__metadata__` string map (empty when absent). */
  readonly metadata: Record<string, string>;
  /** Tensor names in file (data) order. */
  keys(): string[];
  info(key: string): SafetensorsInfo;
  /** Reads one tensor from disk (a fresh buffer each call). */
  get(key: string): HostTensor;
  /** One tensor, read from disk when asked (into a caller's buffer when given one). */
  stored(key: string): StoredTensor;
}

interface Entry extends SafetensorsInfo {
  /** Absolute byte range in the file. */
  begin: number;
  end: number;
}

/** Opens a .safetensors file, parsing and validating its header; tensors are read lazily by `get`. */
export function openSafetensors(path: string): SafetensorsFile {
  const fd = openOrThrow(path);
  let entries: Map<string, Entry>;
  let metadata: Record<string, string>;
  try {
    ({ entries, metadata } = readHeader(fd, path));
  } finally {
    closeSync(fd);
  }
  const order = [...entries.keys()];
  const entryOf = (key: string): Entry => {
    const e = entries.get(key);
    if (!e) throw new InputError(path, undefined, `no tensor named '${key}' (the file has ${entries.size} tensors)`);
    return e;
  };
  return {
    path,
    metadata,
    keys: () => [...order],
    info: (key) => {
      const e = entryOf(key);
      return { dtype: e.dtype, shape: [...e.shape] };
    },
    get: (key) => read(key),
    stored: (key) => {
      const e = entryOf(key);
      return {
        dtype: e.dtype, shape: [...e.shape], byteLength: e.end - e.begin, file: path, read: (into) => read(key, into),
        stream: (buffer, sink) => {
          const fd = openOrThrow(path);
          try {
            for (let off = 0; off < e.end - e.begin; off += buffer.byteLength) {
              const piece = buffer.subarray(0, Math.min(buffer.byteLength, e.end - e.begin - off));
              readFully(fd, piece, e.begin + off, path, key);
              sink(piece, off);
            }
          } finally {
            closeSync(fd);
          }
        },
      };
    },
  };

  function read(key: string, into?: Uint8Array): HostTensor {
    const e = entryOf(key);
    const n = e.end - e.begin;
    const fd = openOrThrow(path);
    try {
      const data = into && into.byteLength >= n ? into.subarray(0, n) : new Uint8Array(n);
      readFully(fd, data, e.begin, path, key);
      return { dtype: e.dtype, shape: [...e.shape], data };
    } finally {
      closeSync(fd);
    }
  }
}

function openOrThrow(path: string): number {
  try {
    return openSync(path, 'r');
  } catch (e) {
    throw new InputError(path, undefined, `cannot open safetensors file: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

function readFully(fd: number, into: Uint8Array, position: number, path: string, key: string): void {
  let done = 0;
  while (done < into.byteLength) {
    const n = readSync(fd, into, done, into.byteLength - done, position + done);
    if (n === 0) {
      throw new InputError(path, undefined, `tensor '${key}': file ended after ${position + done} bytes while reading bytes ${position}..${position + into.byteLength} (truncated or changed since opened)`);
    }
    done += n;
  }
}

function readHeader(fd: number, path: string): { entries: Map<string, Entry>; metadata: Record<string, string> } {
  const fileSize = fstatSync(fd).size;
  const fail = (problem: string): never => {
    throw new InputError(path, undefined, problem);
  };
  if (fileSize < 8) fail(`not a safetensors file: ${fileSize} bytes, too short for the 8-byte header length`);
  const lenBuf = Buffer.alloc(8);
  readSync(fd, lenBuf, 0, 8, 0);
  const headerLen = lenBuf.readBigUInt64LE(0);
  if (headerLen > BigInt(fileSize - 8)) {
    fail(`header length ${headerLen} exceeds the ${fileSize - 8} bytes after the length field (truncated or not a safetensors file)`);
  }
  if (headerLen > BigInt(MAX_HEADER_BYTES)) fail(`header length ${headerLen} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const n = Number(headerLen);
  const headerBuf = Buffer.alloc(n);
  let got = 0;
  while (got < n) {
    const r = readSync(fd, headerBuf, got, n - got, 8 + got);
    if (r === 0) fail('file ended inside the header');
    got += r;
  }
  if (n === 0 || headerBuf[0] !== 0x7b) fail('header does not start with "{" (not a safetensors file)');
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBuf));
  } catch (e) {
    fail(`header is not valid UTF-8 JSON: ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('header is not a JSON object');
  const dataStart = 8 + n;
  const dataLen = fileSize - dataStart;

  const metadata: Record<string, string> = {};
  const parsed: Array<{ key: string; dtype: HostDType; shape: number[]; begin: number; end: number }> = [];
  for (const [key, value] of Object.entries(json as Record<string, unknown>)) {
    if (key === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('__metadata__ is not an object of strings');
      for (const [mk, mv] of Object.entries(value as Record<string, unknown>)) {
        if (typeof mv !== 'string') fail(`__metadata__.${mk} is not a string`);
        metadata[mk] = mv as string;
      }
      continue;
    }
    const tfail = (problem: string): never => fail(`tensor '${key}': ${problem}`);
    if (typeof value !== 'object' || value === null) tfail('header entry is not an object');
    const v = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof v.dtype !== 'string') tfail('missing "dtype"');
    const dtype = DTYPE_FROM_CODE[v.dtype as string];
    if (!dtype) tfail(`unsupported dtype "${String(v.dtype)}" (expected one of ${Object.keys(DTYPE_FROM_CODE).join(', ')})`);
    if (!Array.isArray(v.shape) || !v.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      tfail(`"shape" must be an array of non-negative integers, got ${JSON.stringify(v.shape)}`);
    }
    const offs = v.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      tfail(`"data_offsets" must be [begin, end] non-negative integers, got ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    const shape = v.shape as number[];
    if (end < begin) tfail(`data_offsets [${begin}, ${end}] end before they begin`);
    const expected = numel(shape) * BYTES_PER_ELEMENT[dtype!];
    if (end - begin !== expected) {
      tfail(`data_offsets [${begin}, ${end}] span ${end - begin} bytes but ${v.dtype} [${shape.join(', ')}] needs ${expected}`);
    }
    parsed.push({ key, dtype: dtype!, shape, begin, end });
  }

  // The reference requires the tensors to tile the data area exactly: sorted by offset, each begins where the
  // previous ended, and the last ends at the end of the file.
  parsed.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const p of parsed) {
    if (p.begin < cursor) fail(`tensor '${p.key}': data_offsets [${p.begin}, ${p.end}] overlap the previous tensor, which ends at ${cursor}`);
    if (p.begin > cursor) fail(`tensor '${p.key}': data_offsets [${p.begin}, ${p.end}] leave a gap after offset ${cursor} (offsets must be contiguous)`);
    if (p.end > dataLen) {
      fail(`tensor '${p.key}': data_offsets [${p.begin}, ${p.end}] reach past the data area of ${dataLen} bytes (file truncated?)`);
    }
    cursor = p.end;
  }
  if (cursor !== dataLen) fail(`data area is ${dataLen} bytes but the tensors cover ${cursor} (trailing bytes or lying offsets)`);

  const entries = new Map<string, Entry>();
  for (const p of parsed) {
    entries.set(p.key, { dtype: p.dtype, shape: p.shape, begin: dataStart + p.begin, end: dataStart + p.end });
  }
  return { entries, metadata };
}

/**
 * Writes tensors as .safetensors, atomically, byte-identical to Python's `safetensors.torch.save_file`:
 * compact JSON header with `__metadata__` first (default {"format": "pt"}, which transformers requires),
 * tensors ordered by dtype rank then name, header padded with spaces to a multiple of 8 bytes.
 */
export function writeSafetensors(
  path: string,
  tensors: Record<string, TensorToWrite> | Map<string, TensorToWrite>,
  metadata: Record<string, string> = { format: 'pt' },
): FileRecord {
  return writeFileAtomicSync(path, safetensorsChunks(tensors, metadata, path));
}

/**
 * A tensor to write: a HostTensor, or one whose bytes are made only when the writer reaches it (so a multi-GB
 * checkpoint, e.g. the random GTR-XXL of bench:gtr-sizes, is written without ever being in memory whole).
 */
export interface TensorToWrite {
  dtype: HostDType;
  shape: number[];
  data: Uint8Array | (() => Uint8Array);
}

/** The file's bytes as chunks (header, then each tensor's data) so the data is never copied. */
export function encodeSafetensors(
  tensors: Record<string, TensorToWrite> | Map<string, TensorToWrite>,
  metadata: Record<string, string> = { format: 'pt' },
  pathForErrors = '<safetensors>',
): Uint8Array[] {
  return [...safetensorsChunks(tensors, metadata, pathForErrors)];
}

/** The same chunks, each tensor's data made only when the writer reaches it. */
function* safetensorsChunks(
  tensors: Record<string, TensorToWrite> | Map<string, TensorToWrite>,
  metadata: Record<string, string> = { format: 'pt' },
  pathForErrors = '<safetensors>',
): Generator<Uint8Array> {
  const list = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const bytesOf = (key: string, t: TensorToWrite): number => numel(t.shape) * BYTES_PER_ELEMENT[t.dtype];
  const check = (key: string, t: TensorToWrite, data: Uint8Array): Uint8Array => {
    if (data.byteLength !== bytesOf(key, t)) {
      throw new InputError(pathForErrors, undefined, `tensor '${key}': ${data.byteLength} data bytes for ${t.dtype} [${t.shape.join(', ')}], expected ${bytesOf(key, t)}`);
    }
    return data;
  };
  for (const [key, t] of list) {
    if (key === '__metadata__') throw new InputError(pathForErrors, undefined, 'a tensor may not be named "__metadata__"');
    if (typeof t.data !== 'function') check(key, t, t.data);
  }
  list.sort(([ka, a], [kb, b]) => REFERENCE_DTYPE_RANK[b.dtype] - REFERENCE_DTYPE_RANK[a.dtype] || compareUtf8(ka, kb));

  // Built by hand rather than with JSON.stringify(object): JS objects enumerate integer-like keys ("0", "12")
  // first, which would reorder a tensor named "0" relative to the reference's layout.
  const fields: string[] = [];
  const metaKeys = Object.keys(metadata).sort(compareUtf8);
  if (metaKeys.length > 0) {
    fields.push(`"__metadata__":{${metaKeys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(metadata[k])}`).join(',')}}`);
  }
  let offset = 0;
  for (const [key, t] of list) {
    const info = { dtype: CODE_FROM_DTYPE[t.dtype], shape: t.shape, data_offsets: [offset, offset + bytesOf(key, t)] };
    fields.push(`${JSON.stringify(key)}:${JSON.stringify(info)}`);
    offset += bytesOf(key, t);
  }
  let headerBytes = Buffer.from(`{${fields.join(',')}}`, 'utf8');
  const padded = Math.ceil(headerBytes.byteLength / 8) * 8;
  headerBytes = Buffer.concat([headerBytes, Buffer.alloc(padded - headerBytes.byteLength, 0x20)]);
  const lenBytes = Buffer.alloc(8);
  lenBytes.writeBigUInt64LE(BigInt(headerBytes.byteLength));
  yield lenBytes;
  yield headerBytes;
  for (const [key, t] of list) yield typeof t.data === 'function' ? check(key, t, t.data()) : t.data;
}

/** Rust sorts strings by UTF-8 bytes; JS `<` compares UTF-16 units, which differs above U+FFFF. */
function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
