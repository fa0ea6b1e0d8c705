/**
 * The verbs of `densekit` and their one-line summaries, with nothing else imported: `densekit --help` lists
 * them from here alone, and `densekit VERB` imports only VERB's module (src/cli/main.ts), so a verb never pays
 * for loading another's dependencies (fastify, pg, usearch, the libtorch addon).
 */
export const VERB_SUMMARIES = {
  encode: 'encode a BEIR corpus.jsonl / queries.jsonl or an "id<TAB>text" tsv into .npy embedding shards',
  tokenize: 'print the token ids and tokens the model sees for each text (JSON lines)',
  index: 'build an index: flat, hnsw or pgvector from `densekit encode` output, bm25 from a BEIR corpus.jsonl',
  search: 'search an index (flat, hnsw, bm25, or a pgvector table) with a queries file and write a run',
  fuse: 'fuse two or more runs: rrf (reciprocal rank) or linear (normalized weighted sum, Pyserini HybridSearcher)',
  eval: 'evaluate runs exactly as trec_eval 10.0 does; compare several runs with significance tests',
  beir: 'encode -> index -> search -> evaluate on a BEIR folder (corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv)',
  'cluster-queries': 'TAS-Balanced query clustering: spherical k-means in inner-product space over a baseline model\'s query vectors',
  mine: 'mine hard negatives with the current model: top-ranked passages that are not judged relevant (a TREC run)',
  train: 'train or fine-tune a dense retriever with a recipe (built-in tas-b or gtr, or a JSON/YAML file); rerun to resume',
  serve: 'serve search over an index (dense, BM25, or both for hybrid): JSON API, web page, metrics',
  demo: 'encode -> index -> search -> evaluate SciFact (data/scifact) with the demo model (models/scifact-mini): dense, BM25, hybrid',
  download: 'download a sentence-transformers model from the Hugging Face Hub into the shared cache (HF_HUB_CACHE); prints its folder',
  verify: 'check an index, encode, model or checkpoint folder against the sizes and sha256 recorded when it was written',
  export: 'export a model as an ONNX graph recorded from densekit\'s own model code (for ONNX Runtime: CPU, CUDA, the browser)',
  'export-web': 'write a static site that searches an index in a browser tab (onnxruntime-web, no server code)',
} as const;

export type VerbName = keyof typeof VERB_SUMMARIES;

