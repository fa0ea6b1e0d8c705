/**
 * NumPy .npy files (format versions 1-3), the open format our embedding shards use so that
 * `numpy.load("shard-00000.npy")` reads them directly. Written by hand: it is a 10-line header
 * plus raw little-endian data, and no maintained npm package reads it without copying.
 */
import { readFileSync, openSync, readSync, closeSync, fstatSync } from 'node:fs';
import { InputError } from '../errors.js';
import { writeFileAtomicSync, type FileRecord } from '../util/fs.js';

export type NpyDtype = 'float32' | 'float16' | 'int64' | 'int32' | 'uint8' | 'int8' | 'float64';

const DESCR: Record<NpyDtype, string> = {
  float32: '<f4', float16: '<f2', int64: '<i8', int32: '<i4', uint8: '|u1', int8: '|i1', float64: '<f8',
};
const BYTES: Record<NpyDtype, number> = { float32: 4, float16: 2, int64: 8, int32: 4, uint8: 1, int8: 1, float64: 8 };

export interface NpyHeader {
  dtype: NpyDtype;
  shape: number[];
  /** Byte offset of the data in the file. */
  dataOffset: number;
}

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

export function encodeNpyHeader(dtype: NpyDtype, shape: readonly number[]): Buffer {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Version 1.0: 2-byte header length; total header padded to a multiple of 64 and ending in '\n'.
  const pre = 10;
  const total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  dict = dict.padEnd(total - pre - 1, ' ') + '\n';
  const buf = Buffer.alloc(total);
  MAGIC.copy(buf, 0);
  buf[6] = 1;
  buf[7] = 0;
  buf.writeUInt16LE(total - pre, 8);
  buf.write(dict, pre, 'latin1');
  return buf;
}

export function parseNpyHeader(buf: Uint8Array, file: string): NpyHeader {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.byteLength < 10 || !b.subarray(0, 6).equals(MAGIC)) throw new InputError(file, undefined, 'not a .npy file (bad magic)');
  const major = b[6]!;
  let len: number;
  let pre: number;
  if (major === 1) {
    len = b.readUInt16LE(8);
    pre = 10;
  } else if (major === 2 || major === 3) {
    if (b.byteLength < 12) throw new InputError(file, undefined, '.npy header truncated');
    len = b.readUInt32LE(8);
    pre = 12;
  } else throw new InputError(file, undefined, `unsupported .npy version ${major}`);
  if (b.byteLength < pre + len) throw new InputError(file, undefined, '.npy header truncated');
  const text = b.toString(major === 3 ? 'utf8' : 'latin1', pre, pre + len);
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined)
    throw new InputError(file, undefined, `malformed .npy header: ${text.trim()}`);
  if (fortran === 'True') throw new InputError(file, undefined, 'Fortran-ordered .npy arrays are not supported');
  const norm = descr[0] === '=' ? '<' + descr.slice(1) : descr;
  const dtype = (Object.keys(DESCR) as NpyDtype[]).find((k) => DESCR[k] === norm || (BYTES[k] === 1 && DESCR[k].slice(1) === norm.slice(1)));
  if (!dtype) throw new InputError(file, undefined, `unsupported .npy dtype ${descr} (expected little-endian float32/float16/int64/int32/uint8/int8/float64)`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  if (shape.some((n) => !Number.isInteger(n) || n < 0)) throw new InputError(file, undefined, `bad .npy shape (${shapeText})`);
  return { dtype, shape, dataOffset: pre + len };
}

/** Reads only the header of a .npy file. */
export function readNpyHeader(path: string): NpyHeader {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(4096);
    const n = readSync(fd, head, 0, head.length, 0);
    const h = parseNpyHeader(head.subarray(0, n), path);
    const expected = h.dataOffset + h.shape.reduce((a, b) => a * b, 1) * BYTES[h.dtype];
    const size = fstatSync(fd).size;
    if (size !== expected) throw new InputError(path, undefined, `.npy file is ${size} bytes but its header implies ${expected} (truncated or corrupt)`);
    return h;
  } finally {
    closeSync(fd);
  }
}

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  data: Float32Array | Uint16Array | BigInt64Array | Int32Array | Uint8Array | Int8Array | Float64Array;
}

/** Reads a whole .npy file into memory (copying into an aligned buffer). */
export function readNpy(path: string): NpyArray {
  const buf = readFileSync(path);
  const h = parseNpyHeader(buf, path);
  const count = h.shape.reduce((a, b) => a * b, 1);
  const bytes = count * BYTES[h.dtype];
  if (buf.byteLength !== h.dataOffset + bytes)
    throw new InputError(path, undefined, `.npy file is ${buf.byteLength} bytes but its header implies ${h.dataOffset + bytes} (truncated or corrupt)`);
  const raw = new Uint8Array(bytes);
  raw.set(buf.subarray(h.dataOffset));
  const ab = raw.buffer;
  const data = (() => {
    switch (h.dtype) {
      case 'float32': return new Float32Array(ab);
      case 'float16': return new Uint16Array(ab);
      case 'int64': return new BigInt64Array(ab);
      case 'int32': return new Int32Array(ab);
      case 'uint8': return new Uint8Array(ab);
      case 'int8': return new Int8Array(ab);
      case 'float64': return new Float64Array(ab);
    }
  })();
  return { dtype: h.dtype, shape: h.shape, data };
}

/** Writes a C-ordered array atomically. `data` length must equal the product of `shape`. */
export function writeNpy(path: string, dtype: NpyDtype, shape: readonly number[], data: ArrayBufferView): FileRecord {
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.byteLength !== count * BYTES[dtype]) throw new Error(`writeNpy: ${data.byteLength} bytes for shape [${shape}] ${dtype}`);
  return writeFileAtomicSync(path, [encodeNpyHeader(dtype, shape), new Uint8Array(data.buffer, data.byteOffset, data.byteLength)]);
}
