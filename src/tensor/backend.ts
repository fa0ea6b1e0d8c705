/**
 * The seam between the tensor API (tensor.ts, create.ts, functional.ts) and what computes it. libtorch (the
 * native addon) is the backend unless code runs inside withBackend(other, fn): src/backends/onnx's recorder is
 * the other one, so the model definitions build an ONNX graph without knowing it.
 *
 * A backend is the op part of the addon's interface (handles are opaque numbers). Each Tensor remembers the
 * backend that made it and runs its methods there; creation functions and F ops without a tensor argument use
 * the current backend; F ops and cat/stack use their first tensor's. Modes (noGrad, autocast) and system calls
 * (threads, CUDA) stay libtorch's own.
 */
import { isThenable } from './scope.js';
import { native, type NativeAddon } from './native.js';

type SystemCalls =
  | 'setGradEnabled' | 'isGradEnabled' | 'autocastEnter' | 'autocastExit' | 'setNumThreads' | 'getNumThreads'
  | 'cudaAvailable' | 'cudaDeviceCount' | 'libtorchVersion' | 'mmapFile' | 'scanTopK' | 'manualSeed' | 'liveCount' | 'int8Engine';

export type TensorBackend = Omit<NativeAddon, SystemCalls> & {
  /** Named in errors (libtorch's addon has no name: it is 'libtorch'). */
  readonly backendName?: string;
};

let current: TensorBackend | undefined;

/** The backend creation functions use now: libtorch unless inside withBackend. */
export function currentBackend(): TensorBackend {
  return current ?? native();
}

export function backendName(b: TensorBackend): string {
  return b.backendName ?? 'libtorch';
}

/** Runs fn with `backend` as the current one (synchronous, like scope(): a Promise would leak the setting). */
export function withBackend<T>(backend: TensorBackend, fn: () => T): T {
  const outer = current;
  current = backend;
  let result: T;
  try {
    result = fn();
  } finally {
    current = outer;
  }
  if (isThenable(result)) throw new Error('withBackend: fn returned a Promise; the backend applies synchronously only');
  return result;
}
