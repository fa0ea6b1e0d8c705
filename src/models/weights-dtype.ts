/**
 * The one place that decides which dtype a model's weights are stored in. Storage is separate from compute:
 * bf16 weights with fp32 compute are widened layer by layer as they are used (half the memory, results within
 * bf16 rounding of the weights), with bf16 compute (autocast) they are used as they are (no cast per call).
 * fp16-stored checkpoints (the published GTR ones) become bf16 or fp32 here: never fp16 weights.
 */
import { availableMemory } from 'node:process';
import { UsageError } from '../errors.js';
import type { Device } from '../tensor/index.js';

export type WeightsDtype = 'fp32' | 'bf16' | 'auto';
export const WEIGHTS_DTYPES: readonly WeightsDtype[] = ['fp32', 'bf16', 'auto'];

export interface WeightsDtypeChoice {
  dtype: 'float32' | 'bfloat16';
  /** One line for the log: what was chosen and why. */
  reason: string;
}

/** fp32 weights fit when they, a fifth more for activations and allocator slack, and 1 GiB to spare are available. */
export function fp32Fits(fp32Bytes: number, availableBytes: number): boolean {
  return fp32Bytes * 1.2 + 2 ** 30 <= availableBytes;
}

export interface WeightsDtypeRequest {
  requested: WeightsDtype;
  /** The compute precision (EncoderOptions.dtype). */
  compute: 'fp32' | 'bf16' | 'fp16' | 'int8';
  /** The model's parameters in float32. */
  fp32Bytes: number;
  device: Device;
  /** Memory the weights may take; default: what the OS says is available (CPU). Unknown for CUDA devices. */
  availableBytes?: number;
}

/**
 * auto: bf16 when the compute is bf16 anyway (autocast would round every weight to bf16 on every call), or when
 * fp32 weights would not fit in memory; else fp32, the exact choice. Explicit fp32 / bf16 are taken as asked.
 */
export function chooseWeightsDtype(r: WeightsDtypeRequest): WeightsDtypeChoice {
  const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;
  const sizes = `fp32 ${gib(r.fp32Bytes)}, bf16 ${gib(r.fp32Bytes / 2)}`;
  if (!WEIGHTS_DTYPES.includes(r.requested)) throw new UsageError(`weights dtype must be one of ${WEIGHTS_DTYPES.join('|')}, got '${r.requested}'`);
  if (r.requested === 'fp32') return { dtype: 'float32', reason: `weights fp32 (as asked; ${sizes})` };
  if (r.requested === 'bf16') return { dtype: 'bfloat16', reason: `weights bf16 (as asked; ${sizes})` };
  if (r.compute === 'bf16') return { dtype: 'bfloat16', reason: `weights bf16 (auto: compute is bf16; ${sizes})` };
  const available = r.availableBytes ?? (r.device === 'cpu' ? availableMemory() : undefined);
  if (available !== undefined && !fp32Fits(r.fp32Bytes, available))
    return { dtype: 'bfloat16', reason: `weights bf16 (auto: fp32 would not fit in the ${gib(available)} available; ${sizes})` };
  return { dtype: 'float32', reason: `weights fp32 (auto: exact, and it fits; ${sizes})` };
}
