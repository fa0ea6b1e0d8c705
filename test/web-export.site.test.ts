/**
 * export-web without a browser: the page's scan (src/web-export/browser/scan.ts, node-free) against densekit's
 * FlatIndex on the same int8-storage index, and the exporter's site folder and refusals. The ONNX export folder
 * here is a stand-in (densekit-onnx.json, tokenizer files and opaque model.onnx bytes: the exporter copies the
 * model, it never runs it); test/web-export.browser.test.ts runs real exports in Chromium.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { writeManifest, writeShard, type EmbeddingManifest } from '../src/formats/index.js';
import { buildFlatIndex, buildHnswIndex, FlatIndex } from '../src/retrieval/index.js';
import { seededRandom } from '../src/util/random.js';
import { searchVectors, type SiteVectors } from '../src/web-export/browser/scan.js';
import { exportWeb, type SiteManifest } from '../src/web-export/index.js';
import { fixturesDir } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'densekit-web-site-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

function writeEncodeDir(name: string, ids: string[], vectors: Float32Array, dim: number, similarity: 'dot' | 'cosine', model = 'test-model'): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  const m: EmbeddingManifest = {
    format: 'densekit-embeddings', version: 1, model, kind: 'passage', dim, dtype: 'float32', similarity, input: 'test',
    total: ids.length, shardSize: ids.length, shards: [writeShard(dir, 0, ids, vectors, dim)], truncated: { count: 0, maxLength: 0 }, complete: true,
  };
  writeManifest(dir, m);
  return dir;
}

/** Clustered vectors of uneven norms (dot) with exact duplicates, so ties and near-ties occur at every cut-off. */
function clustered(n: number, dim: number, seed: number): Float32Array {
  const r = seededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const centers = Array.from({ length: 12 }, () => Float64Array.from({ length: dim }, gauss));
  const v = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const c = centers[Math.floor(r() * centers.length)]!;
    const scale = 0.5 + r();
    for (let j = 0; j < dim; j++) v[i * dim + j] = scale * (c[j]! + 0.7 * gauss());
  }
  for (let d = 0; d < n / 20; d++) {
    const src = Math.floor(r() * n), dst = Math.floor(r() * n);
    v.copyWithin(dst * dim, src * dim, (src + 1) * dim);
  }
  return v;
}

const f32 = (path: string): Float32Array => {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};

for (const similarity of ['dot', 'cosine'] as const) {
  test(`the page's scan ranks as densekit's int8 flat index (${similarity}): same ids, same float32 scores`, async () => {
    const n = 3000, dim = 48;
    const ids = Array.from({ length: n }, (_, i) => `doc${i}`);
    const emb = writeEncodeDir(`emb-${similarity}`, ids, clustered(n, dim, 7), dim, similarity);
    const dir = join(tmp, `int8-${similarity}`);
    buildFlatIndex(emb, dir, { storage: 'int8' });
    const index = await FlatIndex.open(dir);
    const codesBytes = readFileSync(join(dir, 'vectors.i8'));
    const site: SiteVectors = {
      count: n, dim, similarity, ids,
      codes: new Int8Array(codesBytes.buffer, codesBytes.byteOffset, codesBytes.byteLength),
      scales: f32(join(dir, 'int8-scales.f32')), rows: f32(join(dir, 'vectors.f32')),
    };
    const queries = clustered(60, dim, 99);
    let same = 0;
    for (let q = 0; q < 60; q++) {
      const qv = queries.subarray(q * dim, (q + 1) * dim);
      for (const k of [1, 10, 25]) {
        const want = index.search(qv, k)[0]!;
        const got = searchVectors(site, qv, k);
        assert.deepEqual(got, want, `query ${q}, k ${k}`);
        same++;
      }
    }
    assert.equal(same, 180);
    // Without float32 rows the int8 scores rank: close to, not equal to, the exact ranking.
    const exact = await FlatIndex.open(dir, { useCompressed: false });
    let overlap = 0;
    for (let q = 0; q < 60; q++) {
      const qv = queries.subarray(q * dim, (q + 1) * dim);
      const want = new Set(exact.search(qv, 10)[0]!.map((h) => h.id));
      overlap += searchVectors({ ...site, rows: null }, qv, 10).filter((h) => want.has(h.id)).length;
    }
    assert.ok(overlap >= 0.9 * 600, `int8-only top 10 shares ${overlap} of 600 ids with exact search`);
  });
}

/** A stand-in ONNX export of the tiny TAS-B fixture: its tokenizer files and settings, opaque model bytes. */
function fakeExport(name: string, fields: Record<string, unknown> = {}): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  const src = join(fixturesDir, 'models/tasb-distilbert-tiny');
  for (const f of ['vocab.txt', 'tokenizer_config.json', 'special_tokens_map.json']) copyFileSync(join(src, f), join(dir, f));
  writeFileSync(join(dir, 'model.onnx'), 'model bytes');
  writeFileSync(join(dir, 'densekit-onnx.json'), JSON.stringify({
    format: 'densekit-onnx', version: 1, model: 'test-model', dim: 8, similarity: 'dot', maxLength: { query: 64, passage: 64 },
    prompts: { query: '', passage: '' }, lowercase: false, quantization: 'int8', modelDigest: 'f'.repeat(64), ...fields,
  }));
  return dir;
}

test('export-web writes the site: manifest sizes and sha256 match the files, titles and snippets from the corpus, an old site replaced', async () => {
  const n = 50, dim = 8;
  const ids = Array.from({ length: n }, (_, i) => `d${i}`);
  const flat = join(tmp, 'flat-small');
  buildFlatIndex(writeEncodeDir('emb-small', ids, clustered(n, dim, 3), dim, 'dot'), flat);
  const corpus = join(tmp, 'corpus.jsonl');
  writeFileSync(corpus, ids.map((id, i) => JSON.stringify({ _id: id, title: `Title ${i}`, text: `${'word '.repeat(100)}end ${i}`, metadata: { short: `S${i}` } })).join('\n') + '\n');
  const out = join(tmp, 'site');
  const r = await exportWeb({ index: flat, model: fakeExport('onnx'), output: out, corpus, title: 'Small' });
  assert.match(r.summary, /^site written to .*: 50 x 8 dot vectors \(int8 \+ float32 rescoring\), int8 model/);
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as SiteManifest;
  assert.deepEqual({ ...manifest, files: [] }, {
    format: 'densekit-web', version: 1, title: 'Small', count: 50, dim: 8, similarity: 'dot', rescore: 'float32',
    identity: { index: 'test-model', model: 'test-model', quantization: 'int8', matches: true, allowModelMismatch: false }, files: [], notes: [],
  });
  for (const f of manifest.files) {
    const bytes = readFileSync(join(out, f.path));
    assert.equal(f.bytes, bytes.byteLength, f.path);
    assert.equal(f.sha256, createHash('sha256').update(bytes).digest('hex'), f.path);
  }
  assert.deepEqual(manifest.files.map((f) => f.path).sort(), ['docs.json', 'int8-scales.f32', 'model/densekit-onnx.json', 'model/model.onnx',
    'model/special_tokens_map.json', 'model/tokenizer_config.json', 'model/vocab.txt', 'vectors.f32', 'vectors.i8']);
  assert.deepEqual(readFileSync(join(out, 'vectors.f32')), readFileSync(join(flat, 'vectors.f32')));
  const docs = JSON.parse(readFileSync(join(out, 'docs.json'), 'utf8')) as { ids: string[]; titles: string[]; snippets: string[] };
  assert.deepEqual(docs.ids, ids);
  assert.equal(docs.titles[7], 'Title 7');
  assert.equal(docs.snippets[7], `${'word '.repeat(47)}word…`, 'the first 240 characters (48 words), end trimmed, an ellipsis');
  for (const f of ['index.html', 'style.css', 'app.js', 'ort/ort.wasm.min.mjs', 'ort/ort-wasm-simd-threaded.mjs', 'ort/ort-wasm-simd-threaded.wasm']) assert.ok(existsSync(join(out, f)), f);
  assert.doesNotMatch(readFileSync(join(out, 'app.js'), 'utf8'), /from\s*["']node:|require\(["']node:/, 'the bundle imports no Node module');

  // Again over the old site, another title field, int8 only: replaced whole.
  await exportWeb({ index: flat, model: fakeExport('onnx'), output: out, corpus, titleField: 'short', rescore: 'none' });
  const again = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as SiteManifest;
  assert.equal(again.rescore, 'none');
  assert.ok(!existsSync(join(out, 'vectors.f32')));
  assert.equal((JSON.parse(readFileSync(join(out, 'docs.json'), 'utf8')) as { titles: string[] }).titles[3], 'S3');
  assert.deepEqual(readFileSync(join(out, 'vectors.i8')), readFileSync(join(tmp, 'site', 'vectors.i8')));

  // An HNSW index is exported through its vectors (the page scans exactly); an int8 index's own codes are copied.
  const hnsw = join(tmp, 'hnsw-small');
  await buildHnswIndex(join(tmp, 'emb-small'), hnsw, { M: 8, efConstruction: 32, efSearch: 32 });
  await exportWeb({ index: hnsw, model: fakeExport('onnx'), output: join(tmp, 'site-hnsw') });
  assert.deepEqual(readFileSync(join(tmp, 'site-hnsw', 'vectors.i8')), readFileSync(join(out, 'vectors.i8')), 'same codes as from the flat index');
  const int8 = join(tmp, 'int8-small');
  buildFlatIndex(join(tmp, 'emb-small'), int8, { storage: 'int8' });
  await exportWeb({ index: int8, model: fakeExport('onnx'), output: join(tmp, 'site-int8') });
  assert.deepEqual(readFileSync(join(tmp, 'site-int8', 'vectors.i8')), readFileSync(join(int8, 'vectors.i8')));
  assert.deepEqual(readFileSync(join(tmp, 'site-int8', 'int8-scales.f32')), readFileSync(join(int8, 'int8-scales.f32')));
});

test('export-web exports a model folder itself (densekit export --format onnx --quantize int8), leaving no export folder behind', async () => {
  const model = join(fixturesDir, 'models/tasb-distilbert-tiny');
  const n = 30, dim = 64;
  const ids = Array.from({ length: n }, (_, i) => `d${i}`);
  const flat = join(tmp, 'flat-tasb');
  buildFlatIndex(writeEncodeDir('emb-tasb', ids, clustered(n, dim, 11), dim, 'dot', model), flat);
  const lines: string[] = [];
  const out = join(tmp, 'site-tasb');
  const r = await exportWeb({ index: flat, model, output: out, log: (l) => lines.push(l) });
  assert.equal(r.manifest.identity.model, model);
  assert.equal(r.manifest.identity.matches, true);
  assert.equal(r.manifest.identity.quantization, 'int8');
  assert.deepEqual(r.manifest.notes, []);
  const cos = lines.map((l) => /^int8 vectors: cosine to fp32 min ([\d.]+)/.exec(l)).find(Boolean);
  assert.ok(cos && Number(cos[1]) >= 0.999, `int8 agreement reported and >= 0.999: ${lines.join(' | ')}`);
  const info = JSON.parse(readFileSync(join(out, 'model/densekit-onnx.json'), 'utf8')) as { format: string; model: string; dim: number };
  assert.deepEqual([info.format, info.model, info.dim], ['densekit-onnx', model, 64]);
  assert.ok(readFileSync(join(out, 'model/model.onnx')).byteLength > 100_000, 'a real graph with its weights');
  assert.ok(existsSync(join(out, 'model/vocab.txt')));
  assert.ok(lines.some((l) => /^exporting .*tasb-distilbert-tiny to ONNX \(int8\)$/.test(l)), lines.join(' | '));
  assert.ok(!existsSync(`${out}.onnx-${process.pid}`) && !existsSync(`${out}.partial-${process.pid}`));
});

test('export-web refuses in one line: another model, another dimension, a corpus without the index\'s documents, a folder that is not a site, a collection too big for a tab', async () => {
  const n = 20, dim = 8;
  const ids = Array.from({ length: n }, (_, i) => `d${i}`);
  const flat = join(tmp, 'flat-refuse');
  buildFlatIndex(writeEncodeDir('emb-refuse', ids, clustered(n, dim, 5), dim, 'dot', 'org/index-model'), flat);
  const oneLine = async (p: Promise<unknown>, re: RegExp) => {
    await assert.rejects(p, (e: Error) => {
      assert.ok(!e.message.includes('\n'), e.message);
      assert.match(e.message, re);
      return true;
    });
  };
  const out = (name: string) => join(tmp, name);
  await oneLine(exportWeb({ index: flat, model: fakeExport('onnx-other', { model: 'org/other' }), output: out('s1') }), /index was built with the model org\/index-model but .* was exported from org\/other; .*allowModelMismatch/);
  assert.ok(!existsSync(out('s1')) && !existsSync(`${out('s1')}.partial-${process.pid}`), 'nothing left behind');
  const allowed = await exportWeb({ index: flat, model: fakeExport('onnx-other', { model: 'org/other' }), output: out('s1'), allowModelMismatch: true });
  assert.deepEqual(allowed.manifest.identity, { index: 'org/index-model', model: 'org/other', quantization: 'int8', matches: false, allowModelMismatch: true });
  // One model folder named two ways (relative in the index, absolute in the export) is one model.
  const folder = join(fixturesDir, 'models/tasb-distilbert-tiny');
  const relFlat = join(tmp, 'flat-relative');
  buildFlatIndex(writeEncodeDir('emb-relative', ids, clustered(n, dim, 5), dim, 'dot', relative(process.cwd(), folder)), relFlat);
  const rel = await exportWeb({ index: relFlat, model: fakeExport('onnx-abs', { model: folder }), output: out('s-rel') });
  assert.deepEqual(rel.manifest.identity, { index: relative(process.cwd(), folder), model: folder, quantization: 'int8', matches: true, allowModelMismatch: false });
  await oneLine(exportWeb({ index: flat, model: fakeExport('onnx-dim', { model: 'org/index-model', dim: 16 }), output: out('s2') }), /index has dimension 8 but the model org\/index-model produces 16/);
  await oneLine(exportWeb({ index: flat, model: fakeExport('onnx-cos', { model: 'org/index-model', similarity: 'cosine' }), output: out('s2') }), /ranks by dot product but .* produces cosine/);
  await oneLine(exportWeb({ index: flat, model: join(fixturesDir, 'models/tasb-distilbert-tiny'), output: out('s2') }), /index was built with the model org\/index-model but the model given is .*tasb-distilbert-tiny; .*allowModelMismatch/);
  assert.ok(!existsSync(out('s2')) && !existsSync(`${out('s2')}.onnx-${process.pid}`), 'refused before exporting');
  const good = fakeExport('onnx-good', { model: 'org/index-model' });
  const partial = join(tmp, 'partial.jsonl');
  writeFileSync(partial, JSON.stringify({ _id: 'd0', title: 't', text: 'x' }) + '\n');
  await oneLine(exportWeb({ index: flat, model: good, output: out('s2'), corpus: partial }), /partial\.jsonl: has no document "d1", which the index holds \(19 of 20 missing\)/);
  await oneLine(exportWeb({ index: flat, model: good, output: partial }), /exists and is not a densekit-web site/);
  const huge = join(tmp, 'flat-huge');
  mkdirSync(huge);
  const meta = JSON.parse(readFileSync(join(flat, 'index.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(huge, 'index.json'), JSON.stringify({ ...meta, count: 300_000, dim: 768 }));
  await oneLine(exportWeb({ index: huge, model: good, output: out('s3') }), /300,000 x 768 vectors make 1099 MiB .* at most 2,000,000 vectors and 1 GiB \(--rescore none ships the int8 codes alone\)/);
  writeFileSync(join(huge, 'index.json'), JSON.stringify({ ...meta, count: 2_000_001, dim: 8 }));
  await oneLine(exportWeb({ index: huge, model: good, output: out('s3'), rescore: 'none' }), /2,000,001 x 8 vectors/);
  await oneLine(exportWeb({ index: join(tmp, 'emb-refuse'), model: good, output: out('s3') }), /index\.json: missing/);
});
