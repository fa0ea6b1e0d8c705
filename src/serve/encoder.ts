/**
 * What the service needs from an encoder: the shape `openEncoder` (src/encode) returns. Kept as a
 * structural interface so the service can run the real one in a worker thread (WorkerEncoder) or, in
 * tests, any object of this shape.
 */
import type { openEncoder } from '../encode/index.js';

export interface QueryEncoder {
  readonly dim: number;
  readonly similarity: 'dot' | 'cosine';
  /** Row-major [texts.length, dim]. */
  encodeQueries(texts: string[]): Promise<Float32Array>;
  encodePassages(texts: string[]): Promise<Float32Array>;
  close(): Promise<void> | void;
}

/** Options of the real encoder (dtype, device, batch size), passed through to the worker. */
export type EncoderOpenOptions = NonNullable<Parameters<typeof openEncoder>[1]>;
