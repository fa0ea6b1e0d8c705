/** SentenceEncoder behind the TextEncoder seam (src/retrieval/types.ts), with a fixed batch size. */
import { SentenceEncoder, type EncoderOptions } from '../models/index.js';
import type { Encoded, Similarity, TextEncoder, TextKind } from '../retrieval/types.js';

export class SentenceTextEncoder implements TextEncoder {
  constructor(
    readonly encoder: SentenceEncoder,
    /** The model's identity recorded in manifests and indexes (usually the name or folder it was loaded from). */
    readonly model: string,
    readonly batchSize = 32,
    /** Batch by padded tokens (SentenceEncoder.embed's tokenBudget), batchSize texts at most. */
    readonly tokenBudget?: number,
  ) {}

  private get batching(): { batchSize: number; tokenBudget?: number } {
    return this.tokenBudget === undefined ? { batchSize: this.batchSize } : { batchSize: this.batchSize, tokenBudget: this.tokenBudget };
  }

  get dim(): number {
    return this.encoder.dim;
  }
  get similarity(): Similarity {
    return this.encoder.similarity;
  }
  get maxLength(): { query: number; passage: number } {
    return this.encoder.maxLength;
  }

  async encode(texts: readonly string[], kind: TextKind, opts: { onProgress?: (done: number) => void } = {}): Promise<Encoded> {
    const { vectors, truncated } = this.encoder.embed(texts, kind, { ...this.batching, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
    return { vectors, truncated };
  }

  encodeQueries(texts: readonly string[]): Promise<Float32Array> {
    return this.encoder.encodeQueries(texts, this.batching);
  }

  encodePassages(texts: readonly string[]): Promise<Float32Array> {
    return this.encoder.encodePassages(texts, this.batching);
  }

  close(): void {
    this.encoder.dispose();
  }
}

/** Loads a model (folder, or Hub id: downloaded into the Hugging Face cache when missing) as a TextEncoder. */
export async function openEncoder(model: string, opts: EncoderOptions & { batchSize?: number; tokenBudget?: number } = {}): Promise<SentenceTextEncoder> {
  const { batchSize, tokenBudget, ...encoderOptions } = opts;
  return new SentenceTextEncoder(await SentenceEncoder.fromPretrained(model, encoderOptions), model, batchSize, tokenBudget);
}
