/**
 * A TextEncoder whose query encodings go through a MicroBatcher: the service's concurrent requests, each
 * asking for one query, share encoder calls. Everything else goes straight to the encoder.
 */
import type { Encoded, TextEncoder, TextKind } from '../retrieval/types.js';
import { MicroBatcher, type MicroBatcherOptions } from './micro-batcher.js';

export class BatchedEncoder implements TextEncoder {
  private readonly batcher: MicroBatcher<string, Float32Array>;

  constructor(readonly inner: TextEncoder, batching: MicroBatcherOptions, onBatch?: (size: number) => void, onDrop?: (size: number) => void) {
    const dim = inner.dim;
    this.batcher = new MicroBatcher(
      async (texts: string[]) => {
        const flat = await inner.encodeQueries(texts);
        if (flat.length !== texts.length * dim) throw new Error(`encoder returned ${flat.length} values for ${texts.length} texts of dim ${dim}`);
        return texts.map((_, i) => flat.subarray(i * dim, (i + 1) * dim));
      },
      batching,
      onBatch,
      onDrop,
    );
  }

  get model(): string {
    return this.inner.model;
  }
  get dim(): number {
    return this.inner.dim;
  }
  get similarity(): TextEncoder['similarity'] {
    return this.inner.similarity;
  }
  get maxLength(): TextEncoder['maxLength'] {
    return this.inner.maxLength;
  }

  /** Queries waiting for, or inside, an encoder call. */
  get queueDepth(): number {
    const s = this.batcher.stats;
    return s.queued + s.running;
  }

  async encodeQueries(texts: readonly string[], opts?: { signal?: AbortSignal }): Promise<Float32Array> {
    const rows = await this.batcher.submitAll(texts, opts?.signal);
    const out = new Float32Array(texts.length * this.dim);
    rows.forEach((v, i) => out.set(v, i * this.dim));
    return out;
  }

  encodePassages(texts: readonly string[]): Promise<Float32Array> {
    return this.inner.encodePassages(texts);
  }

  /** Not batched: `encode` reports truncation per call, which a shared batch cannot attribute. */
  encode(texts: readonly string[], kind: TextKind): Promise<Encoded> {
    return this.inner.encode(texts, kind);
  }

  /** Lets queued queries finish; new ones are refused. The inner encoder stays open. */
  drain(): Promise<void> {
    return this.batcher.drain();
  }

  close(): Promise<void> | void {
    return this.inner.close();
  }
}
