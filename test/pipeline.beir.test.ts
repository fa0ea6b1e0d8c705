/** `densekit beir`: the whole pipeline on a real BEIR folder; a second run reuses the cached embeddings. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { datasetsDir, fixturesDir } from './helpers.js';
import { runCli } from './cli.js';
import { evaluate, readQrels, readRun } from '../src/eval/index.js';

const dataset = join(datasetsDir, 'cranfield');
const model = join(fixturesDir, 'models', 'tasb-distilbert-tiny');

test('beir runs dense, bm25 and hybrid, caches embeddings, and its metrics are trec_eval measures of its runs', async () => {
  const work = mkdtempSync(join(tmpdir(), 'dk-beir-'));
  const args = ['beir', '--dataset', dataset, '--model', model, '--retriever', 'dense,bm25,hybrid', '--cache', join(work, 'cache'), '--json'];
  const first = runCli([...args, '--runs', join(work, 'runs')]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /encoded 1400 passages/);
  const report = JSON.parse(first.stdout) as { queries: number; results: Record<string, Record<string, number>> };
  assert.equal(report.queries, 225);
  assert.deepEqual(Object.keys(report.results), ['dense', 'bm25', 'hybrid']);
  // BM25 on Cranfield is a real retriever: far above the random fixture model.
  assert.ok(report.results.bm25!['nDCG@10']! > 0.3, `bm25 nDCG@10 ${report.results.bm25!['nDCG@10']}`);
  assert.ok(report.results.bm25!['nDCG@10']! > report.results.dense!['nDCG@10']!);

  // The printed nDCG@10 is trec_eval's ndcg_cut_10 of the written run (with BEIR's identical-id rule).
  const qrels = await readQrels(join(dataset, 'qrels.test.trec'));
  const run = await readRun(join(work, 'runs', 'bm25.trec'));
  const ev = evaluate(qrels, run, { measures: ['ndcg_cut.10'], dropIdenticalIds: true });
  assert.ok(Math.abs(Number(ev.aggregate.ndcg_cut_10) - report.results.bm25!['nDCG@10']!) < 1e-12);

  const second = runCli(args);
  assert.equal(second.code, 0, second.stderr);
  assert.doesNotMatch(second.stderr, /encoded \d+ passages/);
  assert.deepEqual(JSON.parse(second.stdout), report);
  assert.ok(readdirSync(join(work, 'cache')).length === 1);
});

test('beir names what is missing in a dataset folder', () => {
  const empty = mkdtempSync(join(tmpdir(), 'dk-beir-empty-'));
  const r = runCli(['beir', '--dataset', empty, '--retriever', 'bm25']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /corpus\.jsonl: missing/);
});

test('a model retrained into the same folder gets new passage embeddings, not the cached ones (the cache is keyed by content)', () => {
  const work = mkdtempSync(join(tmpdir(), 'dk-beir-retrained-'));
  const folder = join(work, 'model');
  const args = (cache: string) => ['beir', '--dataset', dataset, '--model', folder, '--retriever', 'dense', '--k', '100', '--cache', cache, '--json'];
  cpSync(model, folder, { recursive: true });
  const before = runCli(args(join(work, 'cache')));
  assert.equal(before.code, 0, before.stderr);
  // "Retrain" into the same folder: another model's weights and configs now sit at the same path.
  rmSync(folder, { recursive: true });
  cpSync(join(fixturesDir, 'models', 'bert-tiny-mean'), folder, { recursive: true });
  const after = runCli(args(join(work, 'cache')));
  assert.equal(after.code, 0, after.stderr);
  assert.match(after.stderr, /encoded 1400 passages/, 'the new model encodes the corpus again');
  const fresh = runCli(args(join(work, 'fresh-cache')));
  assert.equal(fresh.code, 0, fresh.stderr);
  assert.deepEqual(JSON.parse(after.stdout).results, JSON.parse(fresh.stdout).results, 'same numbers as with an empty cache');
  assert.notDeepEqual(JSON.parse(after.stdout).results, JSON.parse(before.stdout).results);
});
