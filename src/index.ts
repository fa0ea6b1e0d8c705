/**
 * densekit's public API. Each layer depends only on the ones above it in this list: tensors -> tokenizers and
 * checkpoints -> models -> encoding -> indexes and search (vectors and ids only) -> evaluation (runs only).
 */
export { DensekitError, InputError, UsageError } from './errors.js';
export { loadTokenizer, type Tokenizer, type Encoding } from './text/index.js';
export { SentenceEncoder, type EncoderOptions, type EncodeOptions, type Precision, type TextKind } from './models/index.js';
export { openEncoder, runEncodeJob, type TextEncoder } from './encode/index.js';
export { readEmbeddings } from './formats/index.js';
export {
  openIndex, buildFlatIndex, buildHnswIndex, buildBm25Index, searchAll, fuse, checkRecall,
  type Hit, type AnyIndex, type RunHits,
} from './search/index.js';
export { readQueries } from './formats/index.js';
export type { Query } from './retrieval/types.js';
export {
  evaluate, readQrels, readRun, writeRun, compareRuns, renderTrecEval, renderHtmlReport, msmarcoMrr,
  type Qrels, type Run, type Evaluation,
} from './eval/index.js';
export { runBeir, type BeirOptions, type BeirReport } from './pipeline/beir.js';
export * as tensor from './tensor/index.js';
