/**
 * `densekit export-web` as a library function: a static folder that searches a dense index in a browser tab,
 * with no server code (layout: ./site-format.ts; the page: ./browser/app.ts).
 *
 * - Vectors: int8 codes with per-dimension scales (src/retrieval/quantize.ts, the codes `densekit index
 *   --storage int8` writes; an int8 index's own codes are copied), plus the float32 rows for rescoring unless
 *   `rescore: 'none'`, so the page ranks as `densekit search` ranks an int8-storage flat index. A flat index of
 *   any storage and an HNSW index (its vectors; the page always scans exactly) are accepted.
 * - The model: an ONNX export folder (`densekit export --model M --format onnx [--quantize int8]`: model.onnx,
 *   densekit-onnx.json, the tokenizer files), or a model folder / Hub id that is exported here (int8 by default).
 *   Its source identity must be the index's (as DenseRetriever checks; an int8 export's vectors are its source
 *   model's, approximately, which is the point of shipping it) unless allowModelMismatch; dimension and
 *   similarity always.
 * - Bounds: a browser tab holds the whole collection in memory, so at most MAX_WEB_VECTORS rows and
 *   MAX_WEB_VECTOR_BYTES of vector files (codes + rescoring rows) are exported; past that, one line says so.
 * The folder is written beside its target and renamed into place, so a failed export leaves no half site; an
 * existing target is replaced only when it is a densekit-web site.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ONNX_EXPORT_JSON, readOnnxExportInfo, type OnnxExportInfo } from '../backends/onnx/engine.js';
import { exportOnnx } from '../backends/onnx/export.js';
import { DensekitError, InputError, UsageError } from '../errors.js';
import { TOKENIZER_FILES } from '../io/sentence-transformers.js';
import { readBeirCorpus, readTextRecords, isJsonl } from '../formats/index.js';
import { sameModel } from '../retrieval/dense.js';
import { openFileBytes } from '../retrieval/mapped-file.js';
import { readIdsFile, readIndexMeta } from '../retrieval/meta.js';
import { int8Scales, quantizeRows } from '../retrieval/quantize.js';
import { VECTORS_F32, VECTORS_I8 } from '../retrieval/build-vectors.js';
import type { FlatMeta } from '../retrieval/flat.js';
import { fileDigest } from '../util/digest.js';
import { AtomicWriter } from '../util/fs.js';
import { Progress } from '../util/progress.js';
import { bundlePage } from './bundle.js';
import { ORT_FILES, SITE_FILES, SITE_FORMAT, SITE_MANIFEST, SITE_MODEL_DIR, SITE_ORT_DIR, type SiteFile, type SiteManifest } from './site-format.js';

export * from './site-format.js';

/**
 * Rows a browser tab is asked to hold. Every row is scanned per query in plain JavaScript: 200,000 x 768 took 0.37 s
 * per query in V8 on this project's shared 2-core machine (load average 6.7), so the byte bound below is usually
 * the one reached first (1 GiB of int8 codes alone is 1.4M x 768: ~2.6 s per query).
 */
export const MAX_WEB_VECTORS = 2_000_000;
/** Bytes of vector files (int8 codes + float32 rescoring rows) a browser tab is asked to download and hold. */
export const MAX_WEB_VECTOR_BYTES = 1024 ** 3;
/** Bytes of ids, titles and snippets (docs.json) a browser tab is asked to parse. */
export const MAX_WEB_DOCS_BYTES = 256 * 1024 ** 2;
/** Characters of each document's text kept as its snippet. */
export const SNIPPET_CHARS = 240;


export interface ExportWebOptions {
  /** A flat or HNSW index folder. */
  index: string;
  /**
   * The index's model: an ONNX export folder (`densekit export --format onnx`: model.onnx, densekit-onnx.json,
   * tokenizer files), or a model folder / Hub id, exported here.
   */
  model: string;
  /** The site folder to write. */
  output: string;
  /** The indexed corpus (BEIR corpus.jsonl or id<TAB>text tsv), for titles and snippets; without it the page shows ids. */
  corpus?: string;
  /** The corpus field shown as each hit's title (default "title"; another BEIR field, e.g. from "metadata"). */
  titleField?: string;
  /** The page's heading (default: the index folder's name). */
  title?: string;
  /** A model folder or Hub id is exported with this quantization (default int8: ~4x smaller, faster in wasm). */
  quantize?: 'int8' | 'none';
  /** 'float32' (default): ship the float32 rows and rescore; 'none': int8 scores only (5x smaller vector files, approximate). */
  rescore?: 'float32' | 'none';
  allowModelMismatch?: boolean;
  log?: (line: string) => void;
}

export interface ExportWebResult {
  manifest: SiteManifest;
  /** Total bytes of the site folder. */
  bytes: number;
  summary: string;
}

/** Whether `dir` is a folder `densekit export --format onnx` wrote (else it is a model to export). */
export function isOnnxExportFolder(dir: string): boolean {
  return existsSync(join(dir, ONNX_EXPORT_JSON));
}

/** densekit-onnx.json through the onnx engine's reader, plus what a browser tab cannot take. */
function readExportInfo(dir: string): OnnxExportInfo {
  if (!existsSync(join(dir, 'model.onnx'))) throw new InputError(join(dir, 'model.onnx'), undefined, 'missing (the ONNX export folder is incomplete; export it again)');
  const info = readOnnxExportInfo(dir);
  const external = (JSON.parse(readFileSync(join(dir, ONNX_EXPORT_JSON), 'utf8')) as { externalData?: unknown }).externalData;
  if (external !== undefined && external !== null)
    throw new InputError(join(dir, ONNX_EXPORT_JSON), undefined, `the model keeps its weights in ${JSON.stringify(external)} (over 2 GB): too big for a browser tab; export a smaller model`);
  return info;
}

/** One document's title and snippet, from the corpus. */
async function readTitles(corpus: string, ids: readonly string[], titleField: string): Promise<{ titles: string[]; snippets: string[] }> {
  const row = new Map(ids.map((id, i) => [id, i]));
  const titles = new Array<string>(ids.length).fill('');
  const snippets = new Array<string>(ids.length).fill('');
  const seen = new Uint8Array(ids.length);
  const snippet = (text: string): string => {
    const cps = Array.from(text.replace(/\s+/g, ' ').trim());
    return cps.length > SNIPPET_CHARS ? cps.slice(0, SNIPPET_CHARS).join('').trimEnd() + '…' : cps.join('');
  };
  const take = (id: string, title: unknown, text: string): void => {
    const i = row.get(id);
    if (i === undefined) return; // the corpus may hold more documents than the index
    seen[i] = 1;
    titles[i] = typeof title === 'string' ? title : title === undefined || title === null ? '' : String(title);
    snippets[i] = snippet(text);
  };
  if (isJsonl(corpus)) {
    for await (const d of readBeirCorpus(corpus)) take(d.id, titleField === 'title' ? d.title : d.metadata[titleField], d.text);
  } else {
    if (titleField !== 'title') throw new UsageError(`--title-field ${titleField}: a tsv corpus (id<TAB>text) has no fields; give a BEIR corpus.jsonl`);
    for await (const r of readTextRecords(corpus)) take(r.id, '', r.text);
  }
  const missing = seen.indexOf(0);
  if (missing >= 0) throw new InputError(corpus, undefined, `has no document ${JSON.stringify(ids[missing])}, which the index holds (${seen.length - seen.reduce((a, b) => a + b, 0)} of ${ids.length} missing): give the corpus the index was built from`);
  return { titles, snippets };
}

function packageFile(rel: string): string {
  return fileURLToPath(new URL(rel, import.meta.url));
}

/** The page's html and css live in the source tree (tsc copies no .html), which ships with the package. */
function pageDir(): string {
  for (const rel of ['./page/', '../../../src/web-export/page/']) {
    const d = packageFile(rel);
    if (existsSync(join(d, 'index.html'))) return d;
  }
  throw new Error('the export-web page files (src/web-export/page/index.html, style.css) are missing from the package');
}

function ortDistDir(): string {
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    entry = require.resolve('onnxruntime-web');
  } catch {
    throw new UsageError('export-web needs onnxruntime-web (a dependency of densekit): run `npm ci`');
  }
  // The package's "main" sits in its dist/ folder, with the wasm files beside it.
  let d = dirname(entry);
  while (!existsSync(join(d, ORT_FILES[0])) && dirname(d) !== d && basename(d) !== 'node_modules') d = dirname(d);
  if (!existsSync(join(d, ORT_FILES[0]))) d = join(d, 'dist');
  for (const f of ORT_FILES) if (!existsSync(join(d, f))) throw new UsageError(`onnxruntime-web is incomplete: ${join(d, f)} is missing (reinstall it with \`npm ci\`)`);
  return d;
}

export async function exportWeb(opts: ExportWebOptions): Promise<ExportWebResult> {
  const log = opts.log ?? (() => {});
  const rescore = opts.rescore ?? 'float32';
  const meta = readIndexMeta(opts.index) as FlatMeta;
  if (meta.type !== 'flat' && meta.type !== 'hnsw') throw new InputError(join(opts.index, 'index.json'), undefined, `type is "${meta.type}": export-web searches dense indexes (flat or hnsw)`);
  const { count, dim } = meta;
  const vectorBytes = count * dim * (1 + (rescore === 'float32' ? 4 : 0));
  if (count > MAX_WEB_VECTORS || vectorBytes > MAX_WEB_VECTOR_BYTES)
    throw new UsageError(`${opts.index}: ${count.toLocaleString('en')} x ${dim} vectors make ${(vectorBytes / 1024 ** 2).toFixed(0)} MiB for the page (${rescore === 'float32' ? 'int8 codes + float32 rescoring rows' : 'int8 codes'}); a browser tab is given at most ${MAX_WEB_VECTORS.toLocaleString('en')} vectors and ${MAX_WEB_VECTOR_BYTES / 1024 ** 3} GiB${rescore === 'float32' ? ' (--rescore none ships the int8 codes alone)' : ''}`);

  const mismatch = (exportedFrom: string): DensekitError => new DensekitError(
    `the index was built with the model ${meta.model} but ${opts.model === exportedFrom ? 'the model given is' : `${opts.model} was exported from`} ${exportedFrom}; use that model, or set allowModelMismatch`,
    { code: 'DENSEKIT_MODEL_MISMATCH', param: 'allowModelMismatch' });
  const given = isOnnxExportFolder(opts.model);
  // A model to export is checked by name first: the export takes a while, a refusal should not.
  if (!given && !sameModel(meta.model, opts.model) && !opts.allowModelMismatch) throw mismatch(opts.model);
  const ids = readIdsFile(join(opts.index, 'ids.txt'), count);
  if (count === 0) throw new InputError(join(opts.index, 'index.json'), undefined, 'the index holds no documents: nothing to search');
  const docs = opts.corpus ? await readTitles(opts.corpus, ids, opts.titleField ?? 'title') : { titles: ids.map(() => ''), snippets: ids.map(() => '') };
  const docsBytes = [ids, docs.titles, docs.snippets].reduce((sum, list) => sum + list.reduce((a, x) => a + Buffer.byteLength(x) + 3, 0), 40);
  if (docsBytes > MAX_WEB_DOCS_BYTES)
    throw new UsageError(`${opts.corpus ?? opts.index}: ids, titles and snippets make ${(docsBytes / 1024 ** 2).toFixed(0)} MiB, more than the ${MAX_WEB_DOCS_BYTES / 1024 ** 2} MiB a browser tab is given (export without --corpus for ids only)`);

  const out = resolve(opts.output);
  if (existsSync(out)) {
    const st = statSync(out);
    if (!st.isDirectory() || !existsSync(join(out, SITE_MANIFEST)))
      throw new UsageError(`--output ${opts.output}: exists and is not a densekit-web site; give a new folder (an old site is replaced)`);
  }
  const exported = given ? null : `${out}.onnx-${process.pid}`;
  try {
    if (exported) {
      const quantize = opts.quantize ?? 'int8';
      log(`exporting ${opts.model} to ONNX (${quantize === 'int8' ? 'int8' : 'fp32'})`);
      const r = await exportOnnx(opts.model, { output: exported, log, ...(quantize === 'int8' ? { quantize } : {}) });
      if (r.int8) log(`int8 vectors: cosine to fp32 min ${r.int8.agreement.min.toFixed(5)}, mean ${r.int8.agreement.mean.toFixed(5)} over ${r.int8.agreement.texts} texts`);
    }
    return await writeSite(opts, meta, exported ?? opts.model, ids, docs, out, mismatch);
  } finally {
    if (exported) rmSync(exported, { recursive: true, force: true });
  }
}

async function writeSite(
  opts: ExportWebOptions, meta: FlatMeta, modelDir: string, ids: string[], docs: { titles: string[]; snippets: string[] }, out: string,
  mismatch: (exportedFrom: string) => DensekitError,
): Promise<ExportWebResult> {
  const log = opts.log ?? (() => {});
  const rescore = opts.rescore ?? 'float32';
  const { count, dim } = meta;
  const info = readExportInfo(modelDir);
  if (info.dim !== dim) throw new DensekitError(`the index has dimension ${dim} but the model ${info.model} produces ${info.dim} (a different model?)`, { code: 'DENSEKIT_DIMENSION_MISMATCH' });
  if (meta.similarity === 'dot' && info.similarity === 'cosine')
    throw new DensekitError(`the index ranks by dot product but the model ${info.model} produces cosine (normalized) vectors (a different model?)`, { code: 'DENSEKIT_SIMILARITY_MISMATCH' });
  const matches = sameModel(meta.model, info.model);
  if (!matches && !opts.allowModelMismatch) throw mismatch(info.model);
  const notes: string[] = [];
  if (info.quantization !== 'int8') notes.push('The model is fp32 (int8 is about 4x smaller: densekit export --quantize int8).');

  const tmp = `${out}.partial-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, SITE_MODEL_DIR), { recursive: true });
  mkdirSync(join(tmp, SITE_ORT_DIR), { recursive: true });
  try {
    // Vectors: the index's own int8 codes when it has them, else quantized here exactly as `--storage int8` does.
    const { buffer } = await openFileBytes(join(opts.index, VECTORS_F32));
    if (buffer.byteLength !== count * dim * 4) throw new InputError(join(opts.index, VECTORS_F32), undefined, `file is ${buffer.byteLength} bytes, expected ${count * dim * 4} for ${count} x ${dim} float32 (truncated or corrupt)`);
    const rows = new Float32Array(buffer, 0, count * dim);
    if (meta.storage === 'int8') {
      copyFileSync(join(opts.index, VECTORS_I8), join(tmp, SITE_FILES.codes));
      copyFileSync(join(opts.index, 'int8-scales.f32'), join(tmp, SITE_FILES.scales));
      if (statSync(join(tmp, SITE_FILES.codes)).size !== count * dim) throw new InputError(join(opts.index, VECTORS_I8), undefined, `not ${count * dim} bytes (truncated or corrupt)`);
      if (statSync(join(tmp, SITE_FILES.scales)).size !== dim * 4) throw new InputError(join(opts.index, 'int8-scales.f32'), undefined, `not ${dim * 4} bytes (truncated or corrupt)`);
    } else {
      const maxAbs = new Float32Array(dim);
      for (let i = 0; i < rows.length; i++) {
        const a = Math.abs(rows[i]!);
        if (a > maxAbs[i % dim]!) maxAbs[i % dim] = a;
      }
      const scales = int8Scales(maxAbs);
      const codes = new Int8Array(count * dim);
      const progress = new Progress({ label: 'quantizing', total: count, unit: 'vectors' });
      const step = 65_536;
      for (let r = 0; r < count; r += step) {
        const end = Math.min(count, r + step);
        quantizeRows(rows.subarray(r * dim, end * dim), scales, codes, r * dim);
        progress.tick(end - r);
      }
      progress.finish();
      writeFileSync(join(tmp, SITE_FILES.codes), codes);
      writeFileSync(join(tmp, SITE_FILES.scales), new Uint8Array(scales.buffer));
    }
    if (rescore === 'float32') copyFileSync(join(opts.index, VECTORS_F32), join(tmp, SITE_FILES.rows));
    writeDocs(join(tmp, SITE_FILES.docs), { ids, titles: docs.titles, snippets: docs.snippets });

    copyFileSync(join(modelDir, 'model.onnx'), join(tmp, SITE_MODEL_DIR, 'model.onnx'));
    copyFileSync(join(modelDir, ONNX_EXPORT_JSON), join(tmp, SITE_MODEL_DIR, ONNX_EXPORT_JSON));
    const tokenizerFiles = TOKENIZER_FILES.filter((f) => existsSync(join(modelDir, f)));
    if (!tokenizerFiles.some((f) => f === 'tokenizer.json' || f === 'vocab.txt' || f === 'spiece.model'))
      throw new InputError(modelDir, undefined, 'no tokenizer files densekit reads (tokenizer.json, vocab.txt or spiece.model) in the ONNX export folder');
    for (const f of tokenizerFiles) copyFileSync(join(modelDir, f), join(tmp, SITE_MODEL_DIR, f));
    const ort = ortDistDir();
    for (const f of ORT_FILES) copyFileSync(join(ort, f), join(tmp, SITE_ORT_DIR, f));

    const page = pageDir();
    copyFileSync(join(page, 'index.html'), join(tmp, 'index.html'));
    copyFileSync(join(page, 'style.css'), join(tmp, 'style.css'));
    writeFileSync(join(tmp, 'app.js'), await bundlePage());

    const listed = [SITE_FILES.codes, SITE_FILES.scales, ...(rescore === 'float32' ? [SITE_FILES.rows] : []), SITE_FILES.docs,
      `${SITE_MODEL_DIR}/model.onnx`, `${SITE_MODEL_DIR}/${ONNX_EXPORT_JSON}`, ...tokenizerFiles.map((f) => `${SITE_MODEL_DIR}/${f}`)];
    const files: SiteFile[] = [];
    for (const path of listed) files.push({ path, ...(await fileDigest(join(tmp, path))) });
    const manifest: SiteManifest = {
      format: SITE_FORMAT, version: 1, title: opts.title ?? basename(resolve(opts.index)), count, dim, similarity: meta.similarity, rescore,
      identity: { index: meta.model, model: info.model, quantization: info.quantization, matches, allowModelMismatch: opts.allowModelMismatch ?? false },
      files, notes,
    };
    // Written last: a folder without manifest.json is not a site (the page says so).
    writeFileSync(join(tmp, SITE_MANIFEST), JSON.stringify(manifest, null, 1) + '\n');

    if (existsSync(out)) {
      const old = `${out}.old-${process.pid}`;
      renameSync(out, old);
      renameSync(tmp, out);
      rmSync(old, { recursive: true, force: true });
    } else renameSync(tmp, out);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  const bytes = siteBytes(out);
  for (const n of notes) log(n);
  const summary = `site written to ${opts.output}: ${count.toLocaleString('en')} x ${dim} ${meta.similarity} vectors (int8${rescore === 'float32' ? ' + float32 rescoring' : ''}), ${info.quantization === 'int8' ? 'int8' : 'fp32'} model, ${(bytes / 1024 ** 2).toFixed(1)} MiB; serve it with any static server, e.g. \`python3 -m http.server -d ${opts.output}\``;
  return { manifest: JSON.parse(readFileSync(join(out, SITE_MANIFEST), 'utf8')) as SiteManifest, bytes, summary };
}

/** docs.json, written list by list in slices (one JSON.stringify of millions of snippets could pass V8's string limit). */
function writeDocs(path: string, lists: Record<'ids' | 'titles' | 'snippets', readonly string[]>): void {
  const w = new AtomicWriter(path);
  try {
    let sep = '{';
    for (const [key, list] of Object.entries(lists)) {
      w.write(`${sep}${JSON.stringify(key)}:[`);
      for (let i = 0; i < list.length; i += 10_000) w.write((i ? ',' : '') + list.slice(i, i + 10_000).map((x) => JSON.stringify(x)).join(','));
      w.write(']');
      sep = ',';
    }
    w.write('}');
  } catch (e) {
    w.abort();
    throw e;
  }
  w.commit();
}

function siteBytes(dir: string): number {
  let total = 0;
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else total += st.size;
    }
  };
  walk(dir);
  return total;
}
