/** Process-level facts and knobs of the libtorch backend. */
import { native } from './native.js';

/** Tensor handles whose libtorch tensor has not been released (by dispose, a scope, or garbage collection). */
export function liveTensorCount(): number {
  return native().liveCount();
}

/** libtorch's intra-op thread count (at::set_num_threads). */
export function setNumThreads(n: number): void {
  native().setNumThreads(n);
}
export function getNumThreads(): number {
  return native().getNumThreads();
}

export function cudaAvailable(): boolean {
  return native().cudaAvailable();
}
export function cudaDeviceCount(): number {
  return native().cudaDeviceCount();
}
/** libtorch's x86 int8 engine ('fbgemm' in PyTorch's wheels, 'onednn' in Debian's build), or '' when it has none. */
export function int8Engine(): string {
  return native().int8Engine?.() ?? '';
}

/** The version of the libtorch the addon was compiled against, e.g. "1.13.0". */
export function libtorchVersion(): string {
  return native().libtorchVersion();
}

/**
 * Maps a file into memory without reading it into the JS heap (pages load on demand). The buffer is a private
 * mapping: the file is never modified (writes, which callers should not make, stay private to the process).
 * Unmapped when the ArrayBuffer is garbage collected.
 */
export function mmapFile(path: string): ArrayBuffer {
  return native().mmapFile(path);
}
