/** A Tokenizer assembled from a body tokenizer (text -> pieces) and a post-processor (special tokens). */
import { buildEncoding, type PairTruncation, type PostProcessor } from './post-process.js';
import type { EncodeOptions, Encoding, Pieces, Tokenizer } from './types.js';
import { toWellFormed } from './unicode.js';

export interface Vocabulary {
  size: number;
  idToToken(id: number): string | undefined;
  tokenToId(token: string): number | undefined;
}

export interface PipelineParts {
  kind: 'wordpiece' | 'unigram';
  body: (text: string) => Pieces;
  post: PostProcessor;
  pairTruncation: PairTruncation;
  vocab: Vocabulary;
  padId: number;
  withTypeIds: boolean;
  /** Which semantics this tokenizer follows, for messages and docs: 'slow' (transformers) or 'tokenizer.json'. */
  source: string;
}

export class PipelineTokenizer implements Tokenizer {
  readonly kind: 'wordpiece' | 'unigram';
  readonly vocabSize: number;
  readonly padId: number;
  readonly source: string;

  constructor(private readonly p: PipelineParts) {
    this.kind = p.kind;
    this.vocabSize = p.vocab.size;
    this.padId = p.padId;
    this.source = p.source;
  }

  encode(text: string, opts: EncodeOptions = {}): Encoding {
    if (typeof text !== 'string') throw new TypeError(`encode expects a string, got ${typeof text}`);
    if (opts.maxLength !== undefined && (!Number.isInteger(opts.maxLength) || opts.maxLength < 1))
      throw new RangeError(`maxLength must be a positive integer, got ${opts.maxLength}`);
    const a = this.p.body(toWellFormed(text));
    const b = opts.pair === undefined ? undefined : this.p.body(toWellFormed(opts.pair));
    return buildEncoding(a, b, {
      post: this.p.post,
      pairTruncation: this.p.pairTruncation,
      withTypeIds: this.p.withTypeIds,
      addSpecialTokens: opts.addSpecialTokens ?? true,
      maxLength: opts.maxLength,
    });
  }

  encodeBatch(texts: readonly string[], opts: { maxLength?: number; addSpecialTokens?: boolean } = {}): Encoding[] {
    return texts.map((t) => this.encode(t, opts));
  }

  idToToken(id: number): string {
    const t = this.p.vocab.idToToken(id);
    if (t === undefined) throw new RangeError(`token id ${id} is outside the vocabulary (size ${this.vocabSize})`);
    return t;
  }

  tokenToId(token: string): number | undefined {
    return this.p.vocab.tokenToId(token);
  }
}
