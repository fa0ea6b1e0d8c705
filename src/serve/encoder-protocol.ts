/** Messages between the service and its encoder worker thread. */
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
  kind: 'query' | 'passage';
  texts: string[];
}

export type WorkerMessage =
  | { type: 'ready'; dim: number; similarity: 'dot' | 'cosine' }
  | { type: 'result'; id: number; vectors: Float32Array }
  | { type: 'error'; id: number | null; message: string; inputError: boolean };
