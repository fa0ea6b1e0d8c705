/**
 * Checksums and `densekit verify`: every file a later command reads is recorded (size, sha256) when written;
 * verify names any file with one flipped byte, a truncated file fails the command that opens it in one line
 * naming it, and a folder built before checksums were recorded is still checked as far as it can be.
 * Recorded digests are compared with `sha256sum`, an implementation independent of the writer's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SentenceEncoder } from '../src/models/index.js';
import { verifyPath } from '../src/pipeline/verify.js';
import { saveCheckpoint, type TrainerState } from '../src/train/checkpoint.js';
import { Adam } from '../src/train/optim/index.js';
import { FOLDER_RECORDS, type FileRecords } from '../src/util/checksums.js';
import { runCli } from './cli.js';
import { fixturesDir } from './helpers.js';

const model = join(fixturesDir, 'models', 'tasb-distilbert-tiny');
const tmp = mkdtempSync(join(tmpdir(), 'densekit-verify-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const corpus = join(tmp, 'corpus.jsonl');
writeFileSync(corpus, Array.from({ length: 30 }, (_, i) => JSON.stringify({ _id: `d${i}`, title: `t${i}`, text: `the ${'quick brown fox '.repeat(i % 5)}jumps over dog ${i}` })).join('\n') + '\n');
const queries = join(tmp, 'queries.jsonl');
writeFileSync(queries, [JSON.stringify({ _id: 'q1', text: 'quick fox' }), JSON.stringify({ _id: 'q2', text: 'dog 7' })].join('\n') + '\n');

function ok(args: string[]): void {
  const r = runCli(args);
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
}

const enc = join(tmp, 'enc');
ok(['encode', '--model', model, '--input', corpus, '--output', enc, '--shard-size', '12', '--dtype', 'fp32']);
const qenc = join(tmp, 'qenc');
ok(['encode', '--model', model, '--input', queries, '--output', qenc, '--kind', 'query', '--dtype', 'fp32']);
const indexes: Record<string, string> = {};
for (const [name, extra] of [['flat', []], ['int8', ['--storage', 'int8']], ['bf16', ['--storage', 'bf16']], ['hnsw', []]] as const) {
  indexes[name] = join(tmp, name);
  ok(['index', '--type', name === 'hnsw' ? 'hnsw' : 'flat', '--input', enc, '--output', indexes[name]!, ...extra]);
}
indexes.bm25 = join(tmp, 'bm25');
ok(['index', '--type', 'bm25', '--input', corpus, '--output', indexes.bm25]);
const modelDir = join(tmp, 'model');
const encoder = SentenceEncoder.load(model);
encoder.save(modelDir);
const stage = join(tmp, 'stage');
mkdirSync(stage);
const state: TrainerState = {
  format: 'densekit-trainer-state', version: 1, stage: 's', step: 3, architecture: 'distilbert', optimizer: {},
  sampler: { kind: 'shuffled', rng: { s: [1, 2, 3, 4] } as never, batches: 3 }, best: { evalsWithoutImprovement: 0 }, stopped: false,
};
const checkpoint = saveCheckpoint(stage, encoder, new Adam([...encoder.namedParameters()].map(([name, param]) => ({ name, param }))), state);

function records(dir: string): FileRecords {
  for (const d of ['index.json', 'manifest.json', FOLDER_RECORDS]) {
    try {
      return (JSON.parse(readFileSync(join(dir, d), 'utf8')) as { files: FileRecords }).files;
    } catch { /* next descriptor */ }
  }
  throw new Error(`${dir}: no records`);
}

const folders: Record<string, string> = { ...indexes, encode: enc, model: modelDir, checkpoint };
const expectedFiles: Record<string, string[]> = {
  flat: ['ids.txt', 'vectors.f32'], int8: ['ids.txt', 'int8-scales.f32', 'vectors.f32', 'vectors.i8'], bf16: ['ids.txt', 'vectors.bf16', 'vectors.f32'],
  hnsw: ['graph.usearch', 'ids.txt', 'vectors.f32'], bm25: ['ids.txt', 'postings.bin', 'terms.txt'],
  encode: ['shard-00000.ids.txt', 'shard-00000.npy', 'shard-00001.ids.txt', 'shard-00001.npy', 'shard-00002.ids.txt', 'shard-00002.npy'],
};

test('every file a later command reads is recorded with its size and the sha256 sha256sum computes', () => {
  for (const [kind, dir] of Object.entries(folders)) {
    const files = records(dir);
    if (expectedFiles[kind]) assert.deepEqual(Object.keys(files).sort(), expectedFiles[kind], kind);
    else {
      for (const f of ['model.safetensors', 'config.json', 'modules.json', 'vocab.txt', '1_Pooling/config.json']) assert.ok(files[f], `${kind}: ${f} recorded`);
      if (kind === 'checkpoint') for (const f of ['optimizer.safetensors', 'trainer-state.json']) assert.ok(files[f], `checkpoint: ${f} recorded`);
    }
    for (const [name, rec] of Object.entries(files)) {
      const p = join(dir, name);
      assert.equal(rec.bytes, statSync(p).size, `${kind}/${name} size`);
      assert.equal(rec.sha256, execFileSync('sha256sum', [p], { encoding: 'utf8' }).split(' ')[0], `${kind}/${name} sha256`);
    }
  }
});

test('verify passes every untouched folder (exit 0, one ok line per file), and a BEIR-like folder of them', () => {
  for (const [kind, dir] of Object.entries(folders)) {
    const r = runCli(['verify', kind === 'checkpoint' ? stage : dir]);
    assert.equal(r.code, 0, `${kind}: ${r.stdout}${r.stderr}`);
    assert.equal(r.stderr, '');
    for (const name of Object.keys(records(dir))) assert.match(r.stdout, new RegExp(`^ok   ${join(dir, name).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: \\d+ bytes, sha256 matches$`, 'm'), `${kind}/${name}`);
    assert.doesNotMatch(r.stdout, /^FAIL/m);
  }
  const all = runCli(['verify', tmp]);
  assert.equal(all.code, 0, all.stdout + all.stderr);
  for (const dir of Object.values(folders)) assert.ok(all.stdout.includes(`${dir}/`), dir);
});

/** Flips one byte in the middle of `file`. */
function flip(file: string): void {
  const b = readFileSync(file);
  b[b.length >> 1] ^= 0x01;
  writeFileSync(file, b);
}

test('one flipped byte in any recorded file: verify fails naming exactly that file', async () => {
  let n = 0;
  for (const [kind, dir] of Object.entries(folders)) {
    for (const name of Object.keys(records(dir))) {
      const copy = join(tmp, `flip-${n++}`);
      cpSync(dir, copy, { recursive: true });
      flip(join(copy, name));
      const lines = await verifyPath(copy);
      const bad = lines.filter((l) => l.status === 'bad' && l.path === join(copy, name));
      assert.equal(bad.length, 1, `${kind}/${name}: ${JSON.stringify(lines)}`);
      assert.match(bad[0]!.detail, /sha256 [0-9a-f]{12}\.\.\. differs/);
      const others = lines.filter((l) => l.status === 'bad' && l.path !== copy && l.path !== join(copy, name));
      assert.deepEqual(others, [], `${kind}/${name}: only the flipped file is named`);
      rmSync(copy, { recursive: true });
    }
  }
  assert.ok(n >= 30, `${n} files flipped`);
  // The CLI: a failing line on stdout, one error line, exit 1.
  const copy = join(tmp, 'flip-cli');
  cpSync(indexes.bm25!, copy, { recursive: true });
  flip(join(copy, 'postings.bin'));
  const r = runCli(['verify', copy]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, new RegExp(`^FAIL ${copy}/postings.bin: sha256`, 'm'));
  assert.match(r.stderr, /^densekit: error: [^\n]*postings\.bin[^\n]*\n$/);
});

test('a truncated file fails the command that opens it in one line naming the file', () => {
  const cases: Array<[string, string, (dir: string) => string[]]> = [
    ['flat', 'vectors.f32', (d) => ['search', '--index', d, '--query-embeddings', qenc, '--k', '3', '--output', join(tmp, 'r.trec')]],
    ['int8', 'int8-scales.f32', (d) => ['search', '--index', d, '--query-embeddings', qenc, '--k', '3', '--output', join(tmp, 'r.trec')]],
    ['hnsw', 'graph.usearch', (d) => ['search', '--index', d, '--query-embeddings', qenc, '--k', '3', '--output', join(tmp, 'r.trec')]],
    ['bm25', 'terms.txt', (d) => ['search', '--index', d, '--queries', queries, '--k', '3', '--output', join(tmp, 'r.trec')]],
    ['encode', 'shard-00001.npy', (d) => ['index', '--type', 'flat', '--input', d, '--output', join(tmp, 'from-truncated')]],
    ['model', 'model.safetensors', (d) => ['encode', '--model', d, '--input', queries, '--output', join(tmp, 'e-truncated'), '--kind', 'query']],
  ];
  for (const [kind, name, command] of cases) {
    const copy = join(tmp, `trunc-${kind}`);
    cpSync(folders[kind]!, copy, { recursive: true });
    const file = join(copy, name);
    truncateSync(file, statSync(file).size - 1);
    const r = runCli(command(copy));
    assert.equal(r.signal, null, kind);
    assert.notEqual(r.code, 0, `${kind}: exit 0`);
    assert.match(r.stderr, /^densekit: error: [^\n]*\n$/, `${kind}: ${r.stderr}`);
    assert.ok(r.stderr.includes(file), `${kind}: names ${file}: ${r.stderr}`);
  }
});

test('a folder without checksums (built before they were recorded): verify says so and still checks sizes and headers', () => {
  const copy = join(tmp, 'old-flat');
  cpSync(indexes.flat!, copy, { recursive: true });
  const meta = JSON.parse(readFileSync(join(copy, 'index.json'), 'utf8')) as Record<string, unknown>;
  delete meta.files;
  writeFileSync(join(copy, 'index.json'), JSON.stringify(meta));
  let r = runCli(['verify', copy]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^note [^\n]*: no checksums recorded \(built before densekit recorded them/m);
  assert.match(r.stdout, /^ok   [^\n]*: opens as a flat index of 30 x \d+ vectors$/m);
  truncateSync(join(copy, 'ids.txt'), 10);
  r = runCli(['verify', copy]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^FAIL [^\n]*ids\.txt: \d+ ids but index\.json records 30 documents/m);
});

test('recorded names cannot leave the folder; a path that holds no densekit folder is one line', () => {
  const copy = join(tmp, 'evil');
  cpSync(indexes.flat!, copy, { recursive: true });
  const meta = JSON.parse(readFileSync(join(copy, 'index.json'), 'utf8')) as { files: FileRecords };
  meta.files['../../etc/passwd'] = { bytes: 1, sha256: '0'.repeat(64) };
  writeFileSync(join(copy, 'index.json'), JSON.stringify(meta));
  let r = runCli(['verify', copy]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^FAIL [^\n]*index\.json: field "files" names "\.\.\/\.\.\/etc\/passwd", a path leaving the folder/m);
  r = runCli(['search', '--index', copy, '--query-embeddings', qenc, '--k', '3', '--output', join(tmp, 'r.trec')]);
  assert.match(r.stderr, /^densekit: error: [^\n]*index\.json: field "files" names/);
  const empty = join(tmp, 'empty');
  mkdirSync(empty);
  r = runCli(['verify', empty]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^densekit: error: [^\n]*holds no densekit folder[^\n]*\n$/);
});
