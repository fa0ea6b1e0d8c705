/** Messages between the service and its encoder worker thread. */
import type { ErrorCode } from '../errors.js';
import type { Similarity, TextKind } from '../retrieval/types.js';

export interface EncoderWorkerData {
  model: string;
  options: object;
  /** libtorch intra-op threads in the worker (default: libtorch's choice). */
  threads?: number;
  /** Module that exports `openEncoder`; the real one unless a test substitutes its own. */
  encoderModule: string;
}

export interface EncodeRequest {
  id: number;
  kind: TextKind;
  texts: string[];
}

/** A DensekitError crosses the thread boundary as its code and status; anything else is a crash. */
export interface WorkerError {
  message: string;
  densekit?: { code: ErrorCode; statusCode: number };
}

export type WorkerMessage =
  | { type: 'ready'; model: string; dim: number; similarity: Similarity; maxLength: { query: number; passage: number } }
  | { type: 'result'; id: number; vectors: Float32Array; truncated: number }
  | ({ type: 'error'; id: number | null } & WorkerError);
