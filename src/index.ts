/**
 * densekit's public API. Each layer depends only on the ones above it in this list: tensors -> tokenizers and
 * checkpoints -> models -> encoding (TextEncoder) -> retrieval (indexes, retrievers; vectors and ids only) ->
 * evaluation (runs only). The file formats (src/formats: one reader and writer each) serve every layer.
 */
export { DensekitError, InputError, UsageError, ERROR_CODES, type ErrorCode } from './errors.js';
export { loadTokenizer, type Tokenizer, type Encoding } from './text/index.js';
export { SentenceEncoder, type EncoderOptions, type EncodeOptions, type Precision } from './models/index.js';
export { openEncoder, openTextEncoder, SentenceTextEncoder, runEncodeJob, type Engine, type RequestedEngine } from './encode/index.js';
export { OnnxTextEncoder, isOnnxExport, type Quantization } from './backends/onnx/engine.js';
export { quantizeDynamicInt8, type QuantizeReport } from './backends/onnx/quantize-int8.js';
export { readEmbeddings, readQueries } from './formats/index.js';
export {
  openRetriever, openIndex, buildIndex, registerIndexType, indexTypes, DenseRetriever, HybridRetriever, Bm25Retriever,
  searchAll, fuse, compareHits, withQueryVectors, checkRecall,
  type Hit, type Query, type SearchOptions, type TextEncoder, type TextKind, type VectorIndex, type Retriever,
  type RegistryEntry, type BuildOptions, type OpenOptions, type HybridOptions, type RunHits, type FusionMethod,
} from './retrieval/index.js';
export {
  evaluate, readQrels, readRun, writeRun, compareRuns, renderTrecEval, renderHtmlReport, msmarcoMrr,
  type Qrels, type Run, type Evaluation,
} from './eval/index.js';
export { BEIR_MEASURES, resolveDataset, runBeir, type BeirMeasure, type BeirOptions, type BeirReport, type BeirResult } from './pipeline/beir.js';
export { train, loadRecipe, parseRecipe, BUILTIN_RECIPES, type TrainOptions, type StageSummary, type Recipe, type RecipeOverrides } from './train/index.js';
export * as tensor from './tensor/index.js';
export { exportOnnx, type OnnxExportOptions, type OnnxExportResult, type OnnxManifest, type OnnxWeightsDtype } from './backends/onnx/export.js';
export { exportWeb, MAX_WEB_VECTORS, MAX_WEB_VECTOR_BYTES, type ExportWebOptions, type ExportWebResult, type SiteManifest } from './web-export/index.js';
