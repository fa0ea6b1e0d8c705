/**
 * Corrupt or inconsistent data is refused, not served: NaN/Inf rows at index time, NaN weights at load,
 * index.json and manifest values that disagree with the data or leave the folder, empty ids.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../src/errors.js';
import { readEmbeddings, writeManifest, writeShard } from '../src/formats/index.js';
import { encodeSafetensors, openSafetensors } from '../src/io/safetensors.js';
import { readWeightsFile } from '../src/io/state-dict.js';
import { Bm25Index, buildBm25Index, buildFlatIndex, FlatIndex } from '../src/retrieval/index.js';
import { runCli } from './cli.js';
import { fixturesDir } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'densekit-hostile-data-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const dim = 4;
function encodeDir(name: string, rows: number[][], ids = rows.map((_, i) => `d${i}`)): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  const shard = writeShard(dir, 0, ids, Float32Array.from(rows.flat()), dim);
  writeManifest(dir, {
    format: 'densekit-embeddings', version: 1, model: 'test', kind: 'passage', dim, dtype: 'float32', similarity: 'dot', input: 'x',
    total: ids.length, shardSize: ids.length, shards: [shard], truncated: { count: 0, maxLength: 0 }, complete: true,
  });
  return dir;
}

const refuses = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (e: Error) => e instanceof InputError && !e.message.includes('\n') && pattern.test(e.message));

test('NaN, infinite and overflowing rows are refused at index time, naming the shard and row', () => {
  const good = [[1, 0, 0, 0], [0, 1, 0, 0]];
  for (const [name, bad, pattern] of [
    ['nan', [0, NaN, 0, 0], /shard-00000\.npy: row 1 has a NaN value/],
    ['inf', [Infinity, 0, 0, 0], /row 1 has an infinite value/],
    ['fltmax', [3.4e38, 3.4e38, 0, 0], /row 1 has norm .* \(finite vectors of norm <= 1e\+18 expected\)/],
  ] as const) {
    const dir = encodeDir(`enc-${name}`, [good[0]!, [...bad], good[1]!]);
    refuses(() => buildFlatIndex(dir, join(tmp, `idx-${name}`)), pattern);
  }
});

test('NaN weights are refused when a model loads, naming the file and tensor', () => {
  const file = join(tmp, 'nan.safetensors');
  const w = new Float32Array([1, 2, NaN, 4]);
  writeFileSync(file, Buffer.concat(encodeSafetensors({ 'linear.weight': { dtype: 'float32', shape: [2, 2], data: new Uint8Array(w.buffer) } })));
  refuses(() => readWeightsFile(file), /nan\.safetensors: tensor linear\.weight holds a NaN or infinite value \(element 2\)/);
  const half = join(tmp, 'inf-bf16.safetensors');
  writeFileSync(half, Buffer.concat(encodeSafetensors({ b: { dtype: 'bfloat16', shape: [2], data: Uint8Array.from([0x80, 0x3f, 0x80, 0x7f]) } })));
  refuses(() => readWeightsFile(half), /tensor b holds a NaN or infinite value \(element 1\)/);

  // Through the CLI: a model whose embedding matrix holds one NaN.
  const model = join(tmp, 'nan-model');
  cpSync(join(fixturesDir, 'models', 'tasb-distilbert-tiny'), model, { recursive: true });
  const st = openSafetensors(join(model, 'model.safetensors'));
  const tensors = Object.fromEntries(st.keys().map((k) => [k, st.get(k)]));
  const key = st.keys().find((k) => k.endsWith('word_embeddings.weight'))!;
  const data = Uint8Array.from(tensors[key]!.data);
  new DataView(data.buffer).setFloat32(0, NaN, true);
  tensors[key] = { ...tensors[key]!, data };
  writeFileSync(join(model, 'model.safetensors'), Buffer.concat(encodeSafetensors(tensors)));
  writeFileSync(join(tmp, 'texts.tsv'), 'q1\thello\n');
  const r = runCli(['encode', '--model', model, '--input', join(tmp, 'texts.tsv'), '--output', join(tmp, 'nan-out')]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^densekit: error: .*model\.safetensors: tensor .*word_embeddings\.weight holds a NaN or infinite value \(element 0\)/);
});

test('index.json values the data disagrees with, or of the wrong type, are refused on open', async () => {
  const enc = encodeDir('enc-ok', [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]);
  const base = join(tmp, 'flat');
  buildFlatIndex(enc, base);
  const meta = JSON.parse(readFileSync(join(base, 'index.json'), 'utf8')) as Record<string, unknown>;
  const cases: Array<[string, unknown, RegExp]> = [
    ['version', 99, /field "version" is 99, expected 1/],
    ['similarity', 'l2', /field "similarity" is "l2", expected "dot" or "cosine"/],
    ['dim', '4', /field "dim" is "4", expected an integer/],
    ['count', -1, /field "count" is -1/],
    ['count', 2, /3 ids but index\.json records 2 documents/],
    ['maxNorm', null, /field "maxNorm" is null/],
  ];
  for (const [field, value, pattern] of cases) {
    const dir = join(tmp, `flat-${field}-${String(value)}`);
    cpSync(base, dir, { recursive: true });
    writeFileSync(join(dir, 'index.json'), JSON.stringify({ ...meta, [field]: value }));
    await assert.rejects(FlatIndex.open(dir), (e: Error) => e instanceof InputError && pattern.test(e.message), `${field}: ${String(value)}`);
  }
  const nullMeta = join(tmp, 'flat-null');
  cpSync(base, nullMeta, { recursive: true });
  writeFileSync(join(nullMeta, 'index.json'), 'null');
  await assert.rejects(FlatIndex.open(nullMeta), (e: Error) => e instanceof InputError && /expected a JSON object/.test(e.message));
  const emptyId = join(tmp, 'flat-empty-id');
  cpSync(base, emptyId, { recursive: true });
  writeFileSync(join(emptyId, 'ids.txt'), 'd0\n\nd2\n');
  // The recorded size catches the edit first; without records (an index built before them) the reader does.
  await assert.rejects(FlatIndex.open(emptyId), (e: Error) => e instanceof InputError && /ids\.txt: 7 bytes, index\.json records 9/.test(e.message));
  const { files: _files, ...unrecorded } = meta;
  writeFileSync(join(emptyId, 'index.json'), JSON.stringify(unrecorded));
  await assert.rejects(FlatIndex.open(emptyId), (e: Error) => e instanceof InputError && /ids\.txt:2: id "" is empty/.test(e.message));
});

test('manifest values that disagree with the shards, leave the folder or are null are refused', () => {
  const enc = encodeDir('enc-manifest', [[1, 0, 0, 0], [0, 1, 0, 0]]);
  const m = JSON.parse(readFileSync(join(enc, 'manifest.json'), 'utf8')) as Record<string, unknown> & { shards: Array<Record<string, unknown>> };
  const cases: Array<[string, unknown, RegExp]> = [
    ['null', null, /manifest\.json: expected a JSON object/],
    ['total', { ...m, total: 5 }, /shards hold 2 rows, field "total" says 5/],
    ['dtype', { ...m, dtype: 'float64' }, /field "dtype" is "float64", expected "float32"/],
    ['version', { ...m, version: 99 }, /field "version" is 99/],
    ['dim', { ...m, dim: '4' }, /field "dim" is "4"/],
    ['similarity', { ...m, similarity: 'l2' }, /field "similarity" is "l2"/],
    ['traversal', { ...m, shards: [{ ...m.shards[0], vectors: '../../etc/passwd' }] }, /field "shards\[0\]" is .*\.\.\/\.\.\/etc\/passwd/],
  ];
  for (const [name, value, pattern] of cases) {
    const dir = join(tmp, `manifest-${name}`);
    cpSync(enc, dir, { recursive: true });
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(value));
    refuses(() => readEmbeddings(dir), pattern);
  }
  const emptyId = join(tmp, 'manifest-empty-id');
  cpSync(enc, emptyId, { recursive: true });
  writeFileSync(join(emptyId, 'shard-00000.ids.txt'), '\nd1\n');
  refuses(() => readEmbeddings(emptyId), /shard-00000\.ids\.txt:1: id "" is empty/);
  const deleted = join(tmp, 'manifest-deleted-shard');
  cpSync(enc, deleted, { recursive: true });
  rmSync(join(deleted, 'shard-00000.npy'));
  const r = runCli(['index', '--type', 'flat', '--input', deleted, '--output', join(tmp, 'never')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^densekit: error: .*shard-00000\.npy[^\n]*\n$/);
});

test('flipped bytes in BM25 postings give one error line or hits that all have ids, never hits without ids', async () => {
  const corpus = join(tmp, 'bm25-corpus.jsonl');
  const words = 'vitamin bone cell sleep memory diet immune stem density adults'.split(' ');
  writeFileSync(corpus, Array.from({ length: 60 }, (_, i) => JSON.stringify({ _id: `d${i}`, title: '', text: `${words[i % 10]} ${words[(i * 3) % 10]} ${words[(i * 7) % 10]} doc${i}` })).join('\n') + '\n');
  const dir = join(tmp, 'bm25');
  await buildBm25Index(corpus, dir);
  const orig = readFileSync(join(dir, 'postings.bin'));
  const meta = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { count: number };
  let refused = 0;
  for (let trial = 0; trial < 30; trial++) {
    const b = Buffer.from(orig);
    // Flip bytes in the posting lists (the file's tail), where a bad delta points past the last document.
    for (let i = 0; i < 20; i++) {
      const at = b.length - 1 - ((trial * 131 + i * 17) % Math.floor(b.length / 3));
      b[at] = b[at]! ^ (0x40 | ((trial + i) & 0x3f));
    }
    writeFileSync(join(dir, 'postings.bin'), b);
    try {
      const hits = Bm25Index.open(dir).search(words, 100).flat();
      for (const h of hits) assert.ok(typeof h.id === 'string' && h.id !== '' && Number.isFinite(h.score), `trial ${trial}: hit ${JSON.stringify(h)}`);
      assert.ok(hits.length <= words.length * meta.count);
    } catch (e) {
      assert.ok(e instanceof InputError && /postings\.bin: /.test((e as Error).message), `trial ${trial}: ${(e as Error).stack}`);
      refused++;
    }
  }
  assert.ok(refused > 0, 'no corruption was detected in 30 trials');
});

test('an empty corpus builds no BM25 index', async () => {
  const empty = join(tmp, 'empty.jsonl');
  writeFileSync(empty, '\n\n');
  await assert.rejects(buildBm25Index(empty, join(tmp, 'bm25-empty')), (e: Error) => e instanceof InputError && /empty\.jsonl: has no records/.test(e.message));
});
