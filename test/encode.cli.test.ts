/** `densekit encode`: shards numpy can read, rows in input order, resume after a kill, one-line errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, statSync, cpSync, readdirSync, chmodSync, truncateSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNpy } from '../src/io/npy.js';
import { readEmbeddings, readManifest, writeManifest } from '../src/formats/index.js';
import { SentenceEncoder } from '../src/models/index.js';
import { fixturesDir, maxAbsDiff } from './helpers.js';
import { runCli } from './cli.js';

const model = join(fixturesDir, 'models', 'tasb-distilbert-tiny');
const gtr = join(fixturesDir, 'models', 'gtr-t5-tiny-relu');

function corpus(n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++)
    lines.push(JSON.stringify({ _id: `d${i}`, title: i % 3 ? `title ${i}` : '', text: `the ${'quick brown fox '.repeat(i % 7)}jumps ${i}` }));
  return lines.join('\n') + '\n';
}

test('encode writes float32 .npy shards in input order that equal the library output', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dk-enc-'));
  const input = join(dir, 'corpus.jsonl');
  writeFileSync(input, corpus(23));
  const out = join(dir, 'emb');
  const r = runCli(['encode', '--model', model, '--input', input, '--output', out, '--shard-size', '10', '--batch-size', '4', '--dtype', 'fp32']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /encoded 23 passages/);
  assert.match(r.stdout, /truncated: 0 of 23/);
  const m = readManifest(out);
  assert.equal(m.shards.length, 3);
  assert.deepEqual(m.shards.map((s) => s.rows), [10, 10, 3]);
  const first = readNpy(join(out, m.shards[0]!.vectors));
  assert.equal(first.dtype, 'float32');
  assert.deepEqual(first.shape, [10, m.dim]);
  const { ids, vectors } = readEmbeddings(out);
  assert.deepEqual(ids, Array.from({ length: 23 }, (_, i) => `d${i}`));
  const enc = SentenceEncoder.load(model);
  const texts = corpus(23).trim().split('\n').map((l) => JSON.parse(l) as { title: string; text: string }).map((o) => `${o.title} ${o.text}`);
  const want = enc.embed(texts, 'passage', { batchSize: 7 }).vectors;
  enc.dispose();
  assert.ok(maxAbsDiff(vectors, want) <= 1e-5);
  // Length-bucketed batches (at most 64 padded tokens per pass) give the same vectors, in the same order.
  const bucketed = join(dir, 'emb-budget');
  const b = runCli(['encode', '--model', model, '--input', input, '--output', bucketed, '--token-budget', '64', '--batch-size', '16', '--dtype', 'fp32']);
  assert.equal(b.code, 0, b.stderr);
  const again = readEmbeddings(bucketed);
  assert.deepEqual(again.ids, ids);
  assert.ok(maxAbsDiff(again.vectors, want) <= 1e-5);
});

test('encode refuses to resume another job into the same folder, naming the setting that differs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dk-enc-'));
  const input = join(dir, 'corpus.jsonl');
  writeFileSync(input, corpus(12));
  const out = join(dir, 'emb');
  const args = ['encode', '--model', model, '--input', input, '--output', out, '--shard-size', '5'];
  assert.equal(runCli(args).code, 0);
  const m = readManifest(out);
  writeManifest(out, { ...m, shards: m.shards.slice(0, 1), complete: false }); // killed after one shard
  const refused = (extra: string[], pattern: RegExp) => {
    const r = runCli([...args, ...extra]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^densekit: error: .*manifest\.json: this folder holds embeddings of another job \(.*\); use --overwrite/);
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  };
  refused(['--batch-size', '4'], /--batch-size was 32, now 4/);
  // The same path with other content (same size: only the digest tells).
  writeFileSync(input, corpus(12).replace('jumps 3', 'jumps 9'));
  refused([], /input content \(sha256\) was "[0-9a-f]{64}", now "[0-9a-f]{64}"/);
  writeFileSync(input, corpus(13));
  refused([], /input size in bytes was \d+, now \d+/);
  writeFileSync(input, corpus(12));
  const ok = runCli(args);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /resumed after 5/);
});

test('encode --dtype auto (the default) picks bf16 where the CPU has native bf16, says so, records it, and will not resume in another precision', () => {
  // Independent of src/tensor/cpu.ts: the kernel's flag names, read here.
  const native = /^flags\s*:.*\b(avx512_bf16|amx_bf16)\b/m.test(readFileSync('/proc/cpuinfo', 'utf8'));
  const expected = native ? 'bf16' : 'fp32';
  const dir = mkdtempSync(join(tmpdir(), 'dk-enc-'));
  const input = join(dir, 'corpus.jsonl');
  writeFileSync(input, corpus(9));
  const out = join(dir, 'emb');
  const r = runCli(['encode', '--model', model, '--input', input, '--output', out, '--shard-size', '5']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`dtype auto: ${expected} \\(`));
  const m = readManifest(out);
  assert.equal(m.precision, expected);
  writeManifest(out, { ...m, shards: m.shards.slice(0, 1), complete: false });
  const other = expected === 'bf16' ? 'fp32' : 'bf16';
  const again = runCli(['encode', '--model', model, '--input', input, '--output', out, '--shard-size', '5', '--dtype', other]);
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, new RegExp(`started in ${expected} and would resume in ${other}`));
});

test('encode resumes after the last finished shard without rewriting it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dk-enc-'));
  const input = join(dir, 'queries.jsonl');
  writeFileSync(input, corpus(12));
  const out = join(dir, 'emb');
  assert.equal(runCli(['encode', '--model', model, '--input', input, '--output', out, '--shard-size', '5']).code, 0);
  const full = readFileSync(join(out, 'shard-00002.npy'));
  // Simulate a kill after the first two shards: the manifest is the only record of what finished.
  const m = readManifest(out);
  assert.equal(m.kind, 'query');
  const firstMtime = statSync(join(out, 'shard-00000.npy')).mtimeMs;
  writeManifest(out, { ...m, shards: m.shards.slice(0, 2), complete: false });
  const r = runCli(['encode', '--model', model, '--input', input, '--output', out, '--shard-size', '5']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /encoded 2 queries \(resumed after 10\)/);
  assert.equal(statSync(join(out, 'shard-00000.npy')).mtimeMs, firstMtime);
  assert.deepEqual(readFileSync(join(out, 'shard-00002.npy')), full);
  assert.equal(readManifest(out).complete, true);
});

test('encode reports truncation with the length it cut to', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dk-enc-'));
  const input = join(dir, 'c.tsv');
  writeFileSync(input, `a\t${'word '.repeat(100)}\nb\tshort\n`);
  const r = runCli(['encode', '--model', gtr, '--input', input, '--output', join(dir, 'o'), '--max-length', '16']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /truncated: 1 of 2 texts were longer than 16 tokens/);
});

test('encode rejects bad input with one line naming the file and line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dk-enc-'));
  const bad = join(dir, 'corpus.jsonl');
  writeFileSync(bad, '{"_id":"a","text":"ok"}\n{"_id":"b","text":\n');
  let r = runCli(['encode', '--model', model, '--input', bad, '--output', join(dir, 'o')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^densekit: error: .*corpus\.jsonl:2: (malformed|not valid) JSON/);
  assert.equal(r.stderr.trim().split('\n').length, 1);

  const empty = join(dir, 'empty.jsonl');
  writeFileSync(empty, '');
  r = runCli(['encode', '--model', model, '--input', empty, '--output', join(dir, 'o2')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /empty\.jsonl: has no records/);

  const latin1 = join(dir, 'latin.tsv');
  writeFileSync(latin1, Buffer.concat([Buffer.from('a\tfine\nb\tcaf'), Buffer.from([0xe9]), Buffer.from('\n')]));
  r = runCli(['encode', '--model', model, '--input', latin1, '--output', join(dir, 'o3')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /latin\.tsv:2: not valid UTF-8/);

  r = runCli(['encode', '--model', gtr, '--input', latin1, '--output', join(dir, 'o4'), '--dtype', 'fp16']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /T5 models must not run in fp16/);
});

test('empty strings encode fine', () => {
  const enc = SentenceEncoder.load(model);
  try {
    const { vectors } = enc.embed(['', '   ', 'x'], 'query');
    assert.equal(vectors.length, 3 * enc.dim);
    assert.ok(vectors.every(Number.isFinite));
  } finally {
    enc.dispose();
  }
});

test('broken checkpoints give one line naming the file and the problem', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dk-badmodel-'));
  const input = join(dir, 'c.jsonl');
  writeFileSync(input, '{"_id":"a","text":"hi"}\n');
  const broken = (edit: (m: string) => void): string => {
    const m = join(dir, `m${Math.random().toString(36).slice(2)}`);
    cpSync(model, m, { recursive: true });
    for (const f of readdirSync(m)) chmodSync(join(m, f), 0o644);
    edit(m);
    const r = runCli(['encode', '--model', m, '--input', input, '--output', join(m, 'out')]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    return r.stderr;
  };
  assert.match(broken((m) => truncateSync(join(m, 'model.safetensors'), 20_000)), /model\.safetensors: .*truncated/);
  assert.match(broken((m) => writeFileSync(join(m, 'config.json'), readFileSync(join(m, 'config.json'), 'utf8').replace('"dim": 64', '"dim": 32'))),
    /model\.safetensors: tensor embeddings\.word_embeddings\.weight has shape \[256, 64\], config\.json implies \[256, 32\]/);
  assert.match(broken((m) => writeFileSync(join(m, 'config.json'), readFileSync(join(m, 'config.json'), 'utf8').replace('"distilbert"', '"gpt2"'))),
    /config\.json: .*unsupported architecture "gpt2"/);
  assert.match(broken((m) => rmSync(join(m, 'model.safetensors'))), /no model weights found/);
});
