/**
 * A tensor living in host memory as raw little-endian bytes in C order: what checkpoint readers produce
 * and writers consume. It is independent of the compute backend, so src/io never imports the addon;
 * src/tensor turns a HostTensor into a device tensor (and back).
 */
export type HostDType =
  | 'float32' | 'float16' | 'bfloat16' | 'float64'
  | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

export interface HostTensor {
  dtype: HostDType;
  shape: number[];
  /** Raw little-endian bytes, C order; byteLength = product(shape) * bytesPerElement(dtype). */
  data: Uint8Array;
}

/**
 * A tensor of a checkpoint, read only when asked: loaders take one at a time, so a model never sits in memory
 * twice. `read(into)` may place the bytes in `into` (when it holds at least `byteLength` bytes) and return a view
 * of it, valid until `into` is reused; without `into` it returns fresh memory.
 */
export interface StoredTensor {
  readonly dtype: HostDType;
  readonly shape: readonly number[];
  /** The bytes read() needs in `into` (0: it reads into no buffer, e.g. a tensor already in memory). */
  readonly byteLength: number;
  /** The file its bytes come from, for messages (absent for tensors made in memory). */
  readonly file?: string;
  read(into?: Uint8Array): HostTensor;
  /**
   * The C-order bytes a buffer-full at a time (`byteOffset` within the tensor), when the source can read them in
   * place (safetensors, stored zip entries); loaders then need no buffer as large as the tensor.
   */
  stream?(buffer: Uint8Array, sink: (piece: Uint8Array, byteOffset: number) => void): void;
}

/** A HostTensor already in memory, as a StoredTensor. */
export function inMemory(t: HostTensor, file?: string): StoredTensor {
  return { dtype: t.dtype, shape: t.shape, byteLength: 0, ...(file !== undefined ? { file } : {}), read: () => t };
}

export const BYTES_PER_ELEMENT: Record<HostDType, number> = {
  float32: 4, float16: 2, bfloat16: 2, float64: 8, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1,
};

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Decodes a floating HostTensor to float32 values (f16/bf16/f64 converted exactly as PyTorch's .float()). */
export function hostToFloat32(t: HostTensor): Float32Array {
  const n = numel(t.shape);
  const out = new Float32Array(n);
  const dv = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  switch (t.dtype) {
    case 'float32':
      for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
      return out;
    case 'float64':
      for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true);
      return out;
    case 'bfloat16': {
      const u32 = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u32[i] = dv.getUint16(2 * i, true) << 16;
      return out;
    }
    case 'float16':
      for (let i = 0; i < n; i++) out[i] = halfToFloat(dv.getUint16(2 * i, true));
      return out;
    default:
      throw new Error(`hostToFloat32: ${t.dtype} is not a floating dtype`);
  }
}

export function float32ToHost(values: Float32Array, shape: number[]): HostTensor {
  if (values.length !== numel(shape)) throw new Error(`float32ToHost: ${values.length} values for shape [${shape}]`);
  return { dtype: 'float32', shape, data: new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)) };
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}
