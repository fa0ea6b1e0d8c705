/** `densekit beir`: the whole pipeline on a real BEIR folder; a second run reuses the cached embeddings. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { datasetsDir, fixturesDir } from './helpers.js';
import { symlinkSync, mkdirSync } from 'node:fs';
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
  // The names are trec_eval's, as `densekit eval` prints them.
  const names = ['ndcg_cut_10', 'recall_100', 'recip_rank', 'map_cut_100'];
  for (const r of Object.values(report.results)) assert.deepEqual(Object.keys(r), names);
  // BM25 on Cranfield is a real retriever: far above the random fixture model.
  assert.ok(report.results.bm25!.ndcg_cut_10! > 0.3, `bm25 ndcg_cut_10 ${report.results.bm25!.ndcg_cut_10}`);
  assert.ok(report.results.bm25!.ndcg_cut_10! > report.results.dense!.ndcg_cut_10!);

  // Each returned value is what trec_eval's measure of that name gives on the written run (BEIR's identical-id rule),
  // through the library and through `densekit eval`, which prints the same names.
  const qrels = await readQrels(join(dataset, 'qrels.test.trec'));
  for (const retriever of ['dense', 'bm25', 'hybrid']) {
    const runFile = join(work, 'runs', `${retriever}.trec`);
    const ev = evaluate(qrels, await readRun(runFile), { measures: ['ndcg_cut.10', 'recall.100', 'recip_rank', 'map_cut.100'], dropIdenticalIds: true });
    for (const name of names) assert.ok(Math.abs(Number(ev.aggregate[name]) - report.results[retriever]![name]!) < 1e-12, `${retriever} ${name}`);
    const printed = runCli(['eval', '--drop-identical-ids', '-m', 'ndcg_cut.10', '-m', 'recall.100', '-m', 'recip_rank', '-m', 'map_cut.100', join(dataset, 'qrels.test.trec'), runFile]);
    assert.equal(printed.code, 0, printed.stderr);
    const lines = new Map(printed.stdout.trim().split('\n').map((l) => l.split(/\s+/)).filter((c) => c[1] === 'all').map((c) => [c[0]!, Number(c[2])]));
    for (const name of names) assert.ok(Math.abs(lines.get(name)! - report.results[retriever]![name]!) < 5e-5, `densekit eval prints ${name} for ${retriever}: ${printed.stdout}`);
  }

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

test('beir --dataset NAME finds the dataset in $DENSEKIT_DATA (else ./data), and says where it looked when it cannot', () => {
  const work = mkdtempSync(join(tmpdir(), 'dk-beir-name-'));
  const data = join(work, 'datasets');
  mkdirSync(data);
  symlinkSync(dataset, join(data, 'cranfield'), 'dir');
  const args = ['beir', '--dataset', 'cranfield', '--retriever', 'bm25', '--k', '100', '--cache', join(work, 'cache'), '--json'];
  const byName = runCli(args, { env: { DENSEKIT_DATA: data }, cwd: work });
  assert.equal(byName.code, 0, byName.stderr);
  const byFolder = runCli([...args.slice(0, 2), dataset, ...args.slice(3)], { cwd: work });
  assert.equal(byFolder.code, 0, byFolder.stderr);
  assert.deepEqual(JSON.parse(byName.stdout).results, JSON.parse(byFolder.stdout).results);
  // ./data is the default data directory.
  symlinkSync(data, join(work, 'data'), 'dir');
  const byDefault = runCli(args, { env: { DENSEKIT_DATA: '' }, cwd: work });
  assert.equal(byDefault.code, 0, byDefault.stderr);
  assert.deepEqual(JSON.parse(byDefault.stdout).results, JSON.parse(byFolder.stdout).results);

  const missing = runCli(['beir', '--dataset', 'nfcorpus', '--retriever', 'bm25'], { env: { DENSEKIT_DATA: data }, cwd: work });
  assert.equal(missing.code, 1);
  const lines = missing.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, missing.stderr);
  assert.match(lines[0]!, /^densekit: error: dataset "nfcorpus": no such folder; looked for /);
  for (const place of [join(work, 'nfcorpus'), join(data, 'nfcorpus')]) assert.ok(lines[0]!.includes(place), `${place} named: ${lines[0]}`);
  assert.match(lines[0]!, /DENSEKIT_DATA/);
  rmSync(work, { recursive: true, force: true });
});
