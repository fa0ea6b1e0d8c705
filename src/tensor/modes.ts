/**
 * Thread-local libtorch modes, scoped to a callback: grad mode (noGrad) and autocast. Both are synchronous:
 * a callback that returns a Promise would run its awaited part outside the mode, so that is an error.
 */
import { dtypeCode } from './dtype.js';
import { deviceType, type Device } from './device.js';
import { native } from './native.js';
import { isThenable } from './scope.js';

function rejectPromise(name: string, result: unknown): void {
  if (isThenable(result)) throw new Error(`${name}: fn returned a Promise; the mode is synchronous and was already restored`);
}

/** Runs fn with gradient recording off (torch.no_grad()). */
export function noGrad<T>(fn: () => T): T {
  const previous = native().setGradEnabled(false);
  let result: T;
  try {
    result = fn();
  } finally {
    native().setGradEnabled(previous);
  }
  rejectPromise('noGrad', result);
  return result;
}

export function isGradEnabled(): boolean {
  return native().isGradEnabled();
}

/** The autocast dtype in force on this thread (set by autocast() below), or undefined outside autocast. */
let autocastDtype: 'bfloat16' | 'float16' | undefined;

export function activeAutocast(): 'bfloat16' | 'float16' | undefined {
  return autocastDtype;
}

/**
 * torch.autocast(device_type, dtype): eligible ops (matmul, linear, ...) run in `dtype`, precision-sensitive ones
 * in float32. `device` selects the device type whose ops are affected (pass the model's device); by default CUDA
 * when available, else CPU. CPU autocast supports bfloat16 (libtorch 1.13 has no float16 CPU matmul).
 */
export function autocast<T>(dtype: 'bfloat16' | 'float16', fn: () => T, device?: Device): T {
  const kind = device === undefined ? (native().cudaAvailable() ? 'cuda' : 'cpu') : deviceType(device);
  const [wasEnabled, previousDtype, previousCache] = native().autocastEnter(kind, dtypeCode(dtype));
  const outer = autocastDtype;
  autocastDtype = dtype;
  let result: T;
  try {
    result = fn();
  } finally {
    autocastDtype = outer;
    native().autocastExit(kind, wasEnabled, previousDtype, previousCache);
  }
  rejectPromise('autocast', result);
  return result;
}
