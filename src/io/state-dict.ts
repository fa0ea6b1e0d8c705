/**
 * Loads a model folder's weights the way transformers' `from_pretrained` looks for them: model.safetensors, then
 * sharded safetensors (model.safetensors.index.json), then pytorch_model.bin, then sharded .bin
 * (pytorch_model.bin.index.json). Sharded checkpoints (the published GTR-XL/XXL ones) load tensor by tensor too.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DensekitError, InputError } from '../errors.js';
import { readJsonFileSync } from '../util/lines.js';
import type { HostTensor, StoredTensor } from './host-tensor.js';
import { openSafetensors } from './safetensors.js';
import { openTorchStateDict, type OpenedStateDict } from './torch-pickle.js';

const SAFETENSORS = 'model.safetensors';
const SAFETENSORS_INDEX = 'model.safetensors.index.json';
const PYTORCH = 'pytorch_model.bin';
const PYTORCH_INDEX = 'pytorch_model.bin.index.json';

/** Reads every tensor of one weights file (.safetensors or a torch.save file); NaN or infinite weights are refused. */
export function readWeightsFile(path: string): Map<string, HostTensor> {
  return readAll(openWeightsFile(path));
}

/** Index of the first NaN/Inf element of a floating tensor, -1 if none (a NaN weight makes every output NaN). */
export function firstNonFinite(t: HostTensor): number {
  const { data } = t;
  if (t.dtype === 'float32' || t.dtype === 'float64') {
    const n = data.byteLength / (t.dtype === 'float32' ? 4 : 8);
    const aligned = data.byteOffset % (t.dtype === 'float32' ? 4 : 8) === 0;
    const bytes = aligned ? data : data.slice();
    const v = t.dtype === 'float32' ? new Float32Array(bytes.buffer, bytes.byteOffset, n) : new Float64Array(bytes.buffer, bytes.byteOffset, n);
    for (let i = 0; i < n; i++) if (!Number.isFinite(v[i]!)) return i;
    return -1;
  }
  if (t.dtype === 'float16' || t.dtype === 'bfloat16') {
    // All exponent bits set is Inf or NaN in both formats.
    const mask = t.dtype === 'float16' ? 0x7c00 : 0x7f80;
    for (let i = 0; i + 1 < data.byteLength; i += 2) if (((data[i]! | (data[i + 1]! << 8)) & mask) === mask) return i / 2;
  }
  return -1;
}

/** The weights of the model in `dir` (a Hugging Face model folder or a sentence-transformers module folder). */
export function loadStateDict(dir: string): Map<string, HostTensor> {
  return readAll(openStateDict(dir));
}

function readAll(sd: OpenedStateDict): Map<string, HostTensor> {
  try {
    return new Map([...sd.tensors].map(([k, t]) => [k, checkFinite(t.read(), k, t.file ?? 'state dict')]));
  } finally {
    sd.close();
  }
}

/** A NaN or infinite weight makes every output NaN: refused, naming the tensor and the element. */
export function checkFinite(t: HostTensor, name: string, path: string, elementOffset = 0): HostTensor {
  const at = firstNonFinite(t);
  if (at >= 0) throw new InputError(path, undefined, `tensor ${name} holds a NaN or infinite value (element ${elementOffset + at}): every text would encode to NaN`);
  return t;
}

/** One weights file, opened: headers parsed and checked, tensors read on demand until close(). */
export function openWeightsFile(path: string): OpenedStateDict {
  if (path.endsWith('.safetensors')) {
    const file = openSafetensors(path);
    return { tensors: new Map(file.keys().map((k) => [k, file.stored(k)])), close: () => {} };
  }
  return openTorchStateDict(path);
}

/**
 * The weights of the model in `dir`, opened without reading them: a loader takes one tensor at a time (so a
 * model is never in memory twice) and closes the state dict when done.
 */
export function openStateDict(dir: string): OpenedStateDict {
  for (const name of [SAFETENSORS, PYTORCH]) {
    const path = join(dir, name);
    if (existsSync(path)) return openWeightsFile(path);
  }
  for (const name of [SAFETENSORS_INDEX, PYTORCH_INDEX]) {
    const path = join(dir, name);
    if (existsSync(path)) return openSharded(dir, path);
  }
  throw new DensekitError(`${dir}: no model weights found (looked for ${[SAFETENSORS, SAFETENSORS_INDEX, PYTORCH, PYTORCH_INDEX].join(', ')})`);
}

/** True when `dir` holds weights in one of the layouts loadStateDict reads. */
export function hasStateDict(dir: string): boolean {
  return [SAFETENSORS, PYTORCH, SAFETENSORS_INDEX, PYTORCH_INDEX].some((n) => existsSync(join(dir, n)));
}

/** `{"metadata": {...}, "weight_map": {"tensor name": "shard file name"}}`: every listed tensor must be found. */
function openSharded(dir: string, indexPath: string): OpenedStateDict {
  const index = readJsonFileSync(indexPath);
  const weightMap = (index as { weight_map?: unknown } | null)?.weight_map;
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
    throw new InputError(indexPath, undefined, 'field "weight_map" must be an object of tensor name -> shard file');
  }
  const byShard = new Map<string, string[]>();
  for (const [tensor, shard] of Object.entries(weightMap as Record<string, unknown>)) {
    if (typeof shard !== 'string' || shard.includes('/') || shard.includes('\\') || shard.startsWith('.')) {
      throw new InputError(indexPath, undefined, `weight_map["${tensor}"] must be a shard file name in the same folder, got ${JSON.stringify(shard)}`);
    }
    const list = byShard.get(shard);
    if (list) list.push(tensor);
    else byShard.set(shard, [tensor]);
  }
  const out = new Map<string, StoredTensor>();
  const opened: OpenedStateDict[] = [];
  const close = () => opened.forEach((o) => o.close());
  try {
    for (const [shard, tensors] of byShard) {
      const shardPath = join(dir, shard);
      if (!existsSync(shardPath)) throw new InputError(indexPath, undefined, `shard '${shard}' listed in weight_map does not exist`);
      const file = openWeightsFile(shardPath);
      opened.push(file);
      for (const name of tensors) {
        const t = file.tensors.get(name);
        if (!t) throw missingFromShard(shardPath, name, indexPath);
        out.set(name, t);
      }
    }
  } catch (e) {
    close();
    throw e;
  }
  return { tensors: out, close };
}

function missingFromShard(shardPath: string, name: string, indexPath: string): InputError {
  return new InputError(shardPath, undefined, `tensor '${name}' is listed for this shard in ${indexPath} but missing from it`);
}
