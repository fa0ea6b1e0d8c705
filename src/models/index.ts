/** Encoders written once on src/tensor: BERT, DistilBERT, T5 and the sentence-transformers pipeline around them. */
export { SentenceEncoder, loadTransformer, createTokenEncoder, fp32ParameterBytes } from './sentence-encoder.js';
export { chooseWeightsDtype, WEIGHTS_DTYPES, type WeightsDtype, type WeightsDtypeChoice } from './weights-dtype.js';
export type { EncoderOptions, EncodeOptions, EmbedResult, Precision, TokenizedBatch } from './sentence-encoder.js';
export { ModelInput, lengthSortedBatches, type ModelInputOptions, type ModelRecord, type TextKind } from './model-input.js';
export type { TokenBatch, TokenEncoder } from './transformer.js';
export { Module } from './module.js';
export { Pooling, Dense, l2Normalize, type PoolingMode } from './pooling.js';
export { BertEncoder } from './bert.js';
export { DistilBertEncoder } from './distilbert.js';
export { T5Encoder, relativePositionBuckets } from './t5.js';
export { RandomWeights, StateDictWeights, type WeightSource } from './weights.js';
