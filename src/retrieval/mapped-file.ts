/**
 * Opens a file's bytes for reading without copying them into the JS heap when the tensor addon is built
 * (its `mmapFile` maps the file read-only; pages load on first touch and the OS may drop them again).
 * Without the addon we fall back to reading the whole file, which is correct but costs resident memory.
 */
import { readFileSync } from 'node:fs';

type MmapFile = (path: string) => ArrayBuffer;
let mmapFile: MmapFile | null | undefined;

async function loadMmap(): Promise<MmapFile | null> {
  if (mmapFile !== undefined) return mmapFile;
  try {
    mmapFile = (await import('../tensor/index.js')).mmapFile;
  } catch {
    mmapFile = null; // the addon is optional here; reading the file is the exact fallback
  }
  return mmapFile;
}

export interface FileBytes {
  buffer: ArrayBuffer;
  /** True when the bytes are memory-mapped rather than copied. */
  mapped: boolean;
}

export async function openFileBytes(path: string): Promise<FileBytes> {
  const mmap = process.env.DENSEKIT_NO_MMAP ? null : await loadMmap();
  if (mmap) {
    try {
      return { buffer: mmap(path), mapped: true };
    } catch (e) {
      // The addon may be present as TypeScript but not built (no libtorch here): read instead, once noted.
      if (process.env.DENSEKIT_DEBUG) process.stderr.write(`densekit: mmap unavailable (${(e as Error).message}); reading ${path}\n`);
      mmapFile = null;
    }
  }
  const buf = readFileSync(path);
  // Copy into a fresh ArrayBuffer so typed-array views start 8-byte aligned (Buffer pools are not).
  const owned = new Uint8Array(buf.byteLength);
  owned.set(buf);
  return { buffer: owned.buffer, mapped: false };
}
