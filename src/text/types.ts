/** The tokenizer contract every other part of densekit codes against. */

export interface Encoding {
  ids: number[];
  tokens: string[];
  /** Segment ids (0 for the first text, 1 for the pair), for WordPiece (BERT-style) tokenizers only. */
  typeIds?: number[];
  /** Whether tokens were cut to fit maxLength. */
  truncated: boolean;
  /** Number of tokens, special tokens included, before truncation. */
  fullLength: number;
}

export interface EncodeOptions {
  /** Maximum tokens including special tokens; the body is cut, the final [SEP] / </s> kept. */
  maxLength?: number;
  /** Add [CLS]/[SEP] or </s> (default true). */
  addSpecialTokens?: boolean;
  /** Second text of a pair: `[CLS] a [SEP] b [SEP]` / `a </s> b </s>`. */
  pair?: string;
}

export interface Tokenizer {
  readonly kind: 'wordpiece' | 'unigram';
  readonly vocabSize: number;
  readonly padId: number;
  encode(text: string, opts?: EncodeOptions): Encoding;
  encodeBatch(texts: readonly string[], opts?: { maxLength?: number; addSpecialTokens?: boolean }): Encoding[];
  idToToken(id: number): string;
  tokenToId(token: string): number | undefined;
}

/** Tokens and ids of one text before special tokens are added. */
export interface Pieces {
  tokens: string[];
  ids: number[];
}
