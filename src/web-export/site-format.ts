/**
 * The layout of a site `densekit export-web` writes, shared by the exporter (Node) and the page (browser), so
 * the two read one definition. Node-free: the page's bundle imports it.
 *
 *   index.html, style.css, app.js       the page (app.js: esbuild bundle of browser/app.ts and src/text)
 *   manifest.json                       SiteManifest below: counts, dim, similarity, identities, checksums
 *   vectors.i8                          int8 codes [count, dim], row-major (src/retrieval/quantize.ts)
 *   int8-scales.f32                     the per-dimension scales s_j (float32 [dim], little-endian)
 *   vectors.f32                         float32 rows [count, dim] for rescoring (absent with rescore 'none')
 *   docs.json                           { ids: string[], titles: string[], snippets: string[] }
 *   model/                              model.onnx, densekit-onnx.json and the tokenizer files
 *   ort/                                onnxruntime-web's wasm build (no CDN: the page works offline)
 */
export const SITE_FORMAT = 'densekit-web';
export const SITE_MANIFEST = 'manifest.json';
export const SITE_FILES = {
  codes: 'vectors.i8',
  scales: 'int8-scales.f32',
  rows: 'vectors.f32',
  docs: 'docs.json',
} as const;
export const SITE_MODEL_DIR = 'model';
export const SITE_ORT_DIR = 'ort';
/** onnxruntime-web's files the page loads: the wasm-only ES module, its loader and the SIMD wasm binary. */
export const ORT_FILES = ['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'] as const;

/**
 * Candidates the int8 scan proposes per hit shown, rescored in float32 (flat.ts's rescoreMultiplier default,
 * so the page ranks as `densekit search` ranks an int8-storage flat index).
 */
export const RESCORE_MULTIPLIER = 4;

export type Similarity = 'dot' | 'cosine';

export interface SiteFile {
  /** Path inside the site folder ('/'-separated). */
  path: string;
  bytes: number;
  sha256: string;
}

export interface SiteManifest {
  format: typeof SITE_FORMAT;
  version: 1;
  title: string;
  count: number;
  dim: number;
  similarity: Similarity;
  /** 'float32': candidates are rescored against vectors.f32; 'none': the int8 scores rank. */
  rescore: 'float32' | 'none';
  /**
   * Model identity: `index` is what the index recorded, `model` the source identity in the ONNX export's
   * densekit-onnx.json (the page refuses a model/ whose densekit-onnx.json names another), `matches` whether the
   * exporter found them the same model (src/retrieval/dense.ts sameModel: a relative and an absolute path of one
   * folder are one model), and `allowModelMismatch` that it was told to accept a difference.
   */
  identity: { index: string; model: string; quantization: 'none' | 'int8'; matches: boolean; allowModelMismatch: boolean };
  /** Every data and model file, with its size and sha256 (the page checks each one it fetches). */
  files: SiteFile[];
  /** What the exporter wants the page to say (e.g. the fp32 fallback). */
  notes: string[];
}
