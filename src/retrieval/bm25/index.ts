/** BM25 (Anserini-compatible) over BEIR corpora. */
export { analyze, ENGLISH_STOP_WORDS } from './analyzer.js';
export { buildBm25Index, ANSERINI_BM25, type Bm25Meta, type Bm25Params } from './build.js';
export { Bm25Index } from './searcher.js';
