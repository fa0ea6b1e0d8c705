/** Flag parsers shared by the verbs: each rejects a bad value with one line naming the flag. */
import { InvalidArgumentError } from 'commander';
import { DensekitError } from '../errors.js';
import { resolveDevice, type Device } from '../tensor/device.js';
import { WEIGHTS_DTYPES, type WeightsDtype } from '../models/weights-dtype.js';
import { boundKeyOfFlag, MAX, type BoundedKey } from '../util/bounds.js';
import { STDOUT_PATH } from '../util/fs.js';

/**
 * An integer flag in min..MAX[key] (src/util/bounds.ts; the key defaults to the flag's camelCase name).
 * Decimal digits only: "1e3", "0x10", " 7" and "3.0" are refused rather than guessed at.
 */
export function boundedInt(flag: string, min: number, key: BoundedKey = boundKeyOfFlag(flag)): (v: string) => number {
  const max = MAX[key];
  return (v) => {
    const n = Number(v);
    if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`${flag} expects an integer from ${min} to ${max}, got "${v}"`);
    return n;
  };
}

/** A decimal number flag in min..MAX[key]. */
export function boundedNumber(flag: string, min: number, key: BoundedKey = boundKeyOfFlag(flag)): (v: string) => number {
  const max = MAX[key];
  return (v) => {
    const n = Number(v);
    if (!/^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(v) || !(n >= min && n <= max)) throw new InvalidArgumentError(`${flag} expects a number from ${min} to ${max}, got "${v}"`);
    return n;
  };
}

export function positiveInt(flag: string, key?: BoundedKey): (v: string) => number {
  return boundedInt(flag, 1, key);
}

export function nonNegativeInt(flag: string, key?: BoundedKey): (v: string) => number {
  return boundedInt(flag, 0, key);
}

/** A number > 0 and at most MAX[key] (learning rates: a typo like 1e30 would silently train garbage). */
export function positiveNumber(flag: string, key: BoundedKey = boundKeyOfFlag(flag)): (v: string) => number {
  const max = MAX[key];
  return (v) => {
    const n = Number(v);
    if (!/^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(v) || !(n > 0 && n <= max)) throw new InvalidArgumentError(`${flag} expects a number above 0 and at most ${max}, got "${v}"`);
    return n;
  };
}

export function oneOf<T extends string>(flag: string, values: readonly T[]): (v: string) => T {
  return (v) => {
    if (!(values as readonly string[]).includes(v)) throw new InvalidArgumentError(`${flag} expects one of ${values.join('|')}, got "${v}"`);
    return v as T;
  };
}

/** --device cpu|cuda|cuda:N, checked against the libtorch the addon runs on (src/tensor/device.ts). */
export function deviceFlag(v: string): Device {
  try {
    const device = resolveDevice(v);
    if (device === 'meta') throw new DensekitError('meta tensors hold no values (expected cpu, cuda or cuda:N)');
    return device;
  } catch (e) {
    if (e instanceof DensekitError) throw new InvalidArgumentError(`--device: ${e.message}`);
    throw e;
  }
}

export const ENGINE_HELP = 'torch|onnx|auto: libtorch, or ONNX Runtime on a `densekit export --format onnx` folder (or a model shipping onnx/model.onnx that matches); auto: onnx for an exported folder, else torch';
/** --dtype auto, as choosePrecision (src/tensor/cpu.ts) resolves it. */
export const DTYPE_AUTO_HELP =
  'auto|fp32|bf16|int8 (auto: bf16 on a CPU with avx512_bf16 or amx_bf16, else fp32; int8: linear layers quantized, fastest with avx512_vnni/avx_vnni/amx_int8, vectors depend slightly on their batch)';

export const engineFlag = oneOf('--engine', ['torch', 'onnx', 'auto'] as const);

export const WEIGHTS_DTYPE_HELP = 'weight storage fp32|bf16|auto (auto: bf16 when computing in bf16 or when fp32 would not fit in memory)';
export const weightsDtypeFlag = oneOf('--weights-dtype', WEIGHTS_DTYPES);

/**
 * What the encoder loader chose (weights dtype and why), said on stderr once the verb has done its work, so that a
 * run that fails on bad input still prints exactly one line, the error.
 */
export function loaderReport(): { log: (line: string) => void; flush: () => void } {
  const lines: string[] = [];
  return {
    log: (line) => lines.push(line),
    flush: () => {
      for (const l of lines.splice(0)) process.stderr.write(`densekit: ${l}\n`);
    },
  };
}

/** A verb's closing summary: on stdout, unless the output itself goes there (`--output -`). */
export function summary(output: string, line: string): void {
  (output === STDOUT_PATH ? process.stderr : process.stdout).write(line + '\n');
}
