/**
 * Exact tokenizers for dense retrieval: BERT WordPiece (vocab.txt or tokenizer.json) and T5 SentencePiece
 * Unigram (spiece.model or tokenizer.json), matching transformers / sentence-transformers id for id.
 *
 * Written here rather than taken from npm because the pure-JS @huggingface/tokenizers approximates T5's
 * precompiled nmt_nfkc charsmap with plain NFKC (and mishandles astral characters in BERT), so it is not
 * exact on T5; this module reads the charsmap trie itself and reproduces SentencePiece's normalizer.
 */
export type { Encoding, EncodeOptions, Tokenizer } from './types.js';
export { loadTokenizer, loadTokenizerAs, tokenizerDir, tokenizerFormat, type TokenizerFormat } from './load.js';
export { readTokenizerConfig, type TokenizerConfig } from './config.js';
export type { PrecompiledRule } from './tokenizer-json.js';
export { padBatch, type PaddedBatch } from './pad.js';
export { prepareText } from './prepare.js';
