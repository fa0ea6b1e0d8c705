/**
 * The exported site's page script (runs in the browser; bundled by esbuild with src/text into app.js, see
 * src/web-export/bundle.ts). It fetches manifest.json, checks every file it loads against the manifest's sizes
 * and sha256, refuses a model whose identity is not the index's, tokenizes queries with densekit's own
 * tokenizer, encodes them with onnxruntime-web (single-threaded wasm: no SharedArrayBuffer, so no
 * cross-origin isolation headers are needed and any static server works), and scans the int8 vectors
 * (./scan.ts). Every document string is inserted as text, never parsed as HTML.
 */
import { loadTokenizer } from '../../text/load.js';
import { prepareText } from '../../text/prepare.js';
import type { Tokenizer } from '../../text/types.js';
import { SITE_FILES, SITE_FORMAT, SITE_MANIFEST, SITE_MODEL_DIR, SITE_ORT_DIR, type SiteFile, type SiteManifest } from '../site-format.js';
import { mountFile } from './node-fs.js';
import { searchVectors, type SiteVectors } from './scan.js';

type Ort = typeof import('onnxruntime-web');
type Session = Awaited<ReturnType<Ort['InferenceSession']['create']>>;

/** What densekit-onnx.json says that the page uses (written by `densekit export --format onnx`). */
interface ModelInfo {
  model: string;
  dim: number;
  similarity: 'dot' | 'cosine';
  maxLength: { query: number; passage: number };
  prompts?: { query?: string; passage?: string };
  lowercase?: boolean;
  doLowerCase?: boolean;
  quantization?: 'none' | 'int8';
}

interface Docs {
  ids: string[];
  titles: string[];
  snippets: string[];
}

const K = 10;
/** The virtual folder the tokenizer files are mounted in (./node-fs.ts). */
const TOKENIZER_DIR = '/model';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const statusLine = $('status');
const errorBox = $('error');
const form = $<HTMLFormElement>('search');
const input = $<HTMLInputElement>('q');
const results = $<HTMLOListElement>('results');

class SiteError extends Error {}

function setStatus(text: string): void {
  statusLine.textContent = text;
}

function refuse(message: string): void {
  errorBox.textContent = message;
  errorBox.hidden = false;
  form.querySelector('button')!.disabled = true;
  input.disabled = true;
  setStatus('Search unavailable.');
  document.body.dataset.ready = 'error';
}

async function sha256Hex(bytes: Uint8Array): Promise<string | null> {
  // crypto.subtle exists only in secure contexts (https, http://127.0.0.1, localhost); elsewhere sizes are checked.
  if (!globalThis.crypto?.subtle) return null;
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
}

async function fetchChecked(manifest: SiteManifest, path: string): Promise<Uint8Array> {
  const entry: SiteFile | undefined = manifest.files.find((f) => f.path === path);
  if (!entry) throw new SiteError(`${path} is not listed in manifest.json: re-export the site with densekit export-web.`);
  let res: Response;
  try {
    res = await fetch(path);
  } catch {
    throw new SiteError(`${path} could not be fetched: serve this folder over http (e.g. python3 -m http.server), file:// pages cannot fetch their files.`);
  }
  if (!res.ok) throw new SiteError(`${path} is missing (HTTP ${res.status}): the site folder is incomplete; re-export it with densekit export-web.`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (bytes.byteLength !== entry.bytes) throw new SiteError(`${path} is ${bytes.byteLength} bytes, manifest.json says ${entry.bytes}: re-export the site.`);
  const sha = await sha256Hex(bytes);
  if (sha !== null && sha !== entry.sha256) throw new SiteError(`${path} does not match its checksum in manifest.json (changed or corrupt): re-export the site.`);
  return bytes;
}

const aligned = (b: Uint8Array): ArrayBuffer => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

interface Loaded {
  manifest: SiteManifest;
  vectors: SiteVectors;
  docs: Docs;
  tokenizer: Tokenizer;
  info: ModelInfo;
  ort: Ort;
  session: Session;
}

async function load(): Promise<Loaded> {
  const res = await fetch(SITE_MANIFEST).catch(() => null);
  if (!res?.ok) throw new SiteError(`${SITE_MANIFEST} could not be loaded: serve this folder over http (file:// pages cannot fetch their files) and check it was written by densekit export-web.`);
  const manifest = (await res.json()) as SiteManifest;
  if (manifest.format !== SITE_FORMAT || manifest.version !== 1) throw new SiteError(`${SITE_MANIFEST} is not a densekit-web version 1 manifest: re-export the site.`);
  document.title = manifest.title;
  $('title').textContent = manifest.title;

  // The model's identity first: refusing early is cheaper than loading a model the index cannot be searched with.
  const infoBytes = await fetchChecked(manifest, `${SITE_MODEL_DIR}/densekit-onnx.json`);
  const info = JSON.parse(new TextDecoder().decode(infoBytes)) as ModelInfo;
  const { identity } = manifest;
  if (info.model !== identity.model || (!identity.matches && !identity.allowModelMismatch) || info.dim !== manifest.dim)
    throw new SiteError(`This site's model (${info.model}, ${info.dim} dimensions) is not the model its index was built with (${identity.index}, ${manifest.dim} dimensions); queries would be ranked by unrelated vectors. Re-export the site with the index's model.`);

  setStatus('Loading the collection…');
  const [codes, scales, rows, docsBytes] = await Promise.all([
    fetchChecked(manifest, SITE_FILES.codes), fetchChecked(manifest, SITE_FILES.scales),
    manifest.rescore === 'float32' ? fetchChecked(manifest, SITE_FILES.rows) : Promise.resolve(null),
    fetchChecked(manifest, SITE_FILES.docs),
  ]);
  const docs = JSON.parse(new TextDecoder().decode(docsBytes)) as Docs;
  const vectors: SiteVectors = {
    count: manifest.count, dim: manifest.dim, similarity: manifest.similarity,
    codes: new Int8Array(aligned(codes)), scales: new Float32Array(aligned(scales)),
    rows: rows ? new Float32Array(aligned(rows)) : null, ids: docs.ids,
  };

  setStatus('Loading the tokenizer…');
  const tokenizerFiles = manifest.files.filter((f) => f.path.startsWith(`${SITE_MODEL_DIR}/`) && !f.path.endsWith('.onnx') && !f.path.endsWith('/densekit-onnx.json'));
  for (const f of tokenizerFiles) mountFile(`${TOKENIZER_DIR}/${f.path.slice(SITE_MODEL_DIR.length + 1)}`, await fetchChecked(manifest, f.path));
  const tokenizer = loadTokenizer(TOKENIZER_DIR);
  // For tests and curious readers: the token ids the model is fed for a query, available before the model loads.
  (window as unknown as { densekit: unknown }).densekit = { queryIds: (t: string) => queryIds({ tokenizer, info }, t) };

  setStatus('Loading the model…');
  const ort = (await import(/* @vite-ignore */ new URL(`${SITE_ORT_DIR}/ort.wasm.min.mjs`, location.href).href)) as Ort;
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = new URL(`${SITE_ORT_DIR}/`, location.href).href;
  const modelBytes = await fetchChecked(manifest, `${SITE_MODEL_DIR}/model.onnx`);
  const session = await ort.InferenceSession.create(modelBytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  return { manifest, vectors, docs, tokenizer, info, ort, session };
}

/** The query's token ids: the kind's prompt, strip, maybe lowercase, truncation (as src/models/model-input.ts). */
function queryIds(site: Pick<Loaded, 'tokenizer' | 'info'>, text: string): number[] {
  const prepared = prepareText((site.info.prompts?.query ?? '') + text, { strip: true, lowercase: site.info.lowercase ?? site.info.doLowerCase ?? false });
  return site.tokenizer.encode(prepared, { maxLength: site.info.maxLength.query }).ids;
}

async function encodeQuery(site: Loaded, text: string): Promise<Float32Array> {
  const ids = queryIds(site, text);
  const shape = [1, ids.length];
  const feeds = {
    input_ids: new site.ort.Tensor('int64', BigInt64Array.from(ids, (i) => BigInt(i)), shape),
    attention_mask: new site.ort.Tensor('int64', new BigInt64Array(ids.length).fill(1n), shape),
  };
  const out = await site.session.run(feeds, ['sentence_embedding']);
  return Float32Array.from(out.sentence_embedding!.data as Float32Array);
}

function render(site: Loaded, hits: { id: string; score: number }[]): void {
  const rowOf = new Map(site.docs.ids.map((id, i) => [id, i]));
  const items = hits.map((h, rank) => {
    const i = rowOf.get(h.id)!;
    const li = document.createElement('li');
    li.className = 'hit';
    li.dataset.id = h.id;
    li.dataset.score = String(h.score);
    const head = document.createElement('div');
    head.className = 'hit-head';
    // A heading per hit: screen readers list and jump between results by heading.
    const title = document.createElement('h2');
    title.className = 'hit-title';
    title.textContent = site.docs.titles[i] || h.id;
    const meta = document.createElement('span');
    meta.className = 'hit-meta';
    meta.textContent = `#${rank + 1} · ${h.id} · ${h.score.toFixed(4)}`;
    head.append(title, meta);
    li.append(head);
    const snippet = site.docs.snippets[i];
    if (snippet) {
      const p = document.createElement('p');
      p.className = 'hit-snippet';
      p.textContent = snippet;
      li.append(p);
    }
    return li;
  });
  results.replaceChildren(...items);
}

async function main(): Promise<void> {
  let site: Loaded;
  try {
    site = await load();
  } catch (e) {
    refuse(e instanceof SiteError ? e.message : `The search could not start: ${(e as Error).message ?? e}`);
    return;
  }
  const { manifest } = site;
  const notes = manifest.notes.length ? ` ${manifest.notes.join(' ')}` : '';
  const ready = `Model loaded (${site.info.quantization === 'int8' ? 'int8' : 'fp32'}, onnxruntime-web wasm, 1 thread); ${manifest.count.toLocaleString('en')} documents.${notes}`;
  setStatus(ready);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = input.value;
    if (text.trim() === '') return;
    void (async () => {
      const t0 = performance.now();
      try {
        const vector = await encodeQuery(site, text);
        const t1 = performance.now();
        const hits = searchVectors(site.vectors, vector, K);
        const t2 = performance.now();
        render(site, hits);
        setStatus(`${hits.length} results in ${(t2 - t0).toFixed(0)} ms (encode ${(t1 - t0).toFixed(0)} ms, scan ${(t2 - t1).toFixed(0)} ms).`);
        document.body.dataset.searched = String(Number(document.body.dataset.searched ?? '0') + 1);
      } catch (e) {
        setStatus(`Search failed: ${(e as Error).message ?? e}`);
      }
    })();
  });
  input.disabled = false;
  form.querySelector('button')!.disabled = false;
  document.body.dataset.ready = 'true';
}

void main();
