/** Flag parsers shared by the verbs: each rejects a bad value with one line naming the flag. */
import { InvalidArgumentError } from 'commander';
import { DensekitError } from '../errors.js';
import { resolveDevice, type Device } from '../tensor/device.js';
import { WEIGHTS_DTYPES, type WeightsDtype } from '../models/weights-dtype.js';

export function positiveInt(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} expects a positive integer, got "${v}"`);
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

export function nonNegativeInt(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`${flag} expects a non-negative integer, got "${v}"`);
    return n;
  };
}

export function positiveNumber(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${flag} expects a positive number, got "${v}"`);
    return n;
  };
}
