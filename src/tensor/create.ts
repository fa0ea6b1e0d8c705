/** Creating tensors: from JS data and host tensors (always copied), constants, ranges and random values. */
import type { HostTensor } from '../io/host-tensor.js';
import { dtypeCode, type DType, type NativeDType } from './dtype.js';
import { checkDevice, type Device } from './device.js';
import { native, type Handle } from './native.js';
import { currentBackend, type TensorBackend } from './backend.js';
import { Tensor } from './tensor.js';

export interface TensorOptions {
  dtype?: DType;
  device?: Device;
  requiresGrad?: boolean;
}

export type TensorData = ArrayLike<number> | Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | number;

function finish(h: Handle, opts: TensorOptions | undefined, b: TensorBackend): Tensor {
  const t = new Tensor(h, b);
  if (opts?.requiresGrad) t.requiresGrad_(true);
  return t;
}

function device(opts: TensorOptions | undefined): string {
  return opts?.device === undefined ? 'cpu' : checkDevice(opts.device);
}

function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/** The source bytes and their dtype: typed arrays as they are, plain numbers as float64 (exact). */
function source(data: TensorData): { bytes: Uint8Array; dtype: NativeDType; length: number; defaultDtype: DType } {
  if (typeof data === 'number') return { bytes: bytesOf(new Float64Array([data])), dtype: 'float64', length: 1, defaultDtype: 'float32' };
  if (data instanceof Float32Array) return { bytes: bytesOf(data), dtype: 'float32', length: data.length, defaultDtype: 'float32' };
  if (data instanceof Float64Array) return { bytes: bytesOf(data), dtype: 'float64', length: data.length, defaultDtype: 'float64' };
  if (data instanceof Int32Array) return { bytes: bytesOf(data), dtype: 'int32', length: data.length, defaultDtype: 'int32' };
  if (data instanceof BigInt64Array) return { bytes: bytesOf(data), dtype: 'int64', length: data.length, defaultDtype: 'int64' };
  if (data instanceof Uint8Array) return { bytes: bytesOf(data), dtype: 'uint8', length: data.length, defaultDtype: 'uint8' };
  if (data instanceof Int8Array) return { bytes: bytesOf(data), dtype: 'int8', length: data.length, defaultDtype: 'int8' };
  const values = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (typeof v !== 'number') {
      throw new TypeError(`tensor: data[${i}] is ${Array.isArray(v) ? 'an array' : typeof v}, expected a number (pass flat data and opts.shape)`);
    }
    values[i] = v;
  }
  return { bytes: bytesOf(values), dtype: 'float64', length: data.length, defaultDtype: 'float32' };
}

/**
 * A tensor holding a copy of `data`. Default dtype: a typed array's own (Float32Array -> float32, Int32Array ->
 * int32, BigInt64Array -> int64, Uint8Array -> uint8, ...); plain numbers -> float32 (PyTorch's default float).
 * Conversion to another dtype rounds as PyTorch does (float64 -> bfloat16 goes through float32, as in torch).
 * Default shape: [length] (a bare number gives a 0-dim tensor).
 */
export function tensor(data: TensorData, opts?: TensorOptions & { shape?: number[] }): Tensor {
  const src = source(data);
  const shape = opts?.shape ?? (typeof data === 'number' ? [] : [src.length]);
  if (product(shape) !== src.length) throw new RangeError(`tensor: shape [${shape.join(', ')}] needs ${product(shape)} values, got ${src.length}`);
  const dtype = opts?.dtype ?? src.defaultDtype;
  const b = currentBackend();
  return finish(b.fromBytes(src.bytes, dtypeCode(src.dtype), shape, dtypeCode(dtype), device(opts)), opts, b);
}

/** A tensor holding a copy of a host tensor (e.g. from a safetensors/npy reader). int16 defaults to int32. */
export function fromHost(h: HostTensor, opts?: { dtype?: DType; device?: Device }): Tensor {
  const dtype: DType = opts?.dtype ?? (h.dtype === 'int16' ? 'int32' : h.dtype);
  const b = currentBackend();
  return new Tensor(b.fromBytes(h.data, dtypeCode(h.dtype), h.shape, dtypeCode(dtype), device(opts)), b);
}

export function zeros(shape: number[], opts?: TensorOptions): Tensor {
  const b = currentBackend();
  return finish(b.zeros(shape, dtypeCode(opts?.dtype ?? 'float32'), device(opts)), opts, b);
}
export function ones(shape: number[], opts?: TensorOptions): Tensor {
  const b = currentBackend();
  return finish(b.ones(shape, dtypeCode(opts?.dtype ?? 'float32'), device(opts)), opts, b);
}
/** Uninitialised memory. */
export function empty(shape: number[], opts?: TensorOptions): Tensor {
  const b = currentBackend();
  return finish(b.empty(shape, dtypeCode(opts?.dtype ?? 'float32'), device(opts)), opts, b);
}
/** Filled with `value`; float32 unless opts.dtype says otherwise (JS cannot tell 1 from 1.0, so no int inference). */
export function full(shape: number[], value: number, opts?: TensorOptions): Tensor {
  const b = currentBackend();
  return finish(b.full(shape, value, dtypeCode(opts?.dtype ?? 'float32'), device(opts)), opts, b);
}
/**
 * torch.arange: [start, end) by step; arange(n) = [0, n). Default dtype as in PyTorch: int64 when start, end and
 * step are all integers, else float32.
 */
export function arange(start: number, end?: number, step = 1, opts?: TensorOptions): Tensor {
  const [from, to] = end === undefined ? [0, start] : [start, end];
  const integral = Number.isInteger(from) && Number.isInteger(to) && Number.isInteger(step);
  const dtype = opts?.dtype ?? (integral ? 'int64' : 'float32');
  const b = currentBackend();
  return finish(b.arange(from, to, step, dtypeCode(dtype), device(opts)), opts, b);
}
/** Standard normal samples from libtorch's generator (seeded by manualSeed: same stream as torch.manual_seed). */
export function randn(shape: number[], opts?: TensorOptions): Tensor {
  const b = currentBackend();
  return finish(b.randn(shape, dtypeCode(opts?.dtype ?? 'float32'), device(opts)), opts, b);
}
/** Uniform samples in [0, 1). */
export function rand(shape: number[], opts?: TensorOptions): Tensor {
  const b = currentBackend();
  return finish(b.rand(shape, dtypeCode(opts?.dtype ?? 'float32'), device(opts)), opts, b);
}
/** Integers uniform in [low, high); int64 by default. */
export function randint(low: number, high: number, shape: number[], opts?: TensorOptions): Tensor {
  const b = currentBackend();
  return finish(b.randint(low, high, shape, dtypeCode(opts?.dtype ?? 'int64'), device(opts)), opts, b);
}
/** Seeds libtorch's default generators (CPU and CUDA), like torch.manual_seed. */
export function manualSeed(seed: number): void {
  native().manualSeed(seed);
}

/** The backend of a list op: its first tensor's (every other must share it); the current one for an empty list. */
function listBackend(ts: Tensor[]): TensorBackend {
  return ts.length === 0 ? currentBackend() : ts[0]!.backend;
}
export function cat(ts: Tensor[], dim = 0): Tensor {
  const b = listBackend(ts);
  return new Tensor(b.cat(ts.map((t) => t.handleIn(b)), dim), b);
}
export function stack(ts: Tensor[], dim = 0): Tensor {
  const b = listBackend(ts);
  return new Tensor(b.stack(ts.map((t) => t.handleIn(b)), dim), b);
}
