/** Qrels / run / BEIR readers and writers, and the one-line errors for bad input. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  evaluate, readBeirCorpus, readBeirQrels, readBeirQueries, readQrels, readRun, renderTrecEval, writeRun,
} from '../src/eval/index.js';
import { InputError } from '../src/errors.js';
import { datasetsDir, fixturesDir, readJson } from './helpers.js';
import { runCli } from './cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'densekit-eval-'));
const write = (name: string, text: string) => {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
};
const scifactQrels = join(datasetsDir, 'scifact', 'qrels.test.trec');
const scifactRun = join(fixturesDir, 'metrics', 'scifact', 'run.trec');
const measures = ['ndcg_cut.10,100', 'map', 'recall.10,100', 'recip_rank', 'P.10', 'bpref'];

test('BEIR qrels tsv (with header) evaluates exactly like the TREC qrels of the same collection', async () => {
  const run = await readRun(scifactRun);
  const fromTrec = renderTrecEval(evaluate(await readQrels(scifactQrels), run, { measures }), { perQuery: true });
  const fromBeir = renderTrecEval(evaluate(await readBeirQrels(join(datasetsDir, 'scifact')), run, { measures }), { perQuery: true });
  assert.equal(fromBeir, fromTrec);
});

test('writeRun round-trips TREC and MS MARCO runs without changing the ranking', async () => {
  const qrels = await readQrels(scifactQrels);
  const run = await readRun(scifactRun);
  const expected = renderTrecEval(evaluate(qrels, run, { measures }), { perQuery: true });
  for (const format of ['trec', 'msmarco'] as const) {
    const path = join(tmp, `roundtrip.${format}`);
    await writeRun(path, run, { format, tag: 'synthetic' });
    const again = await readRun(path);
    assert.equal(renderTrecEval(evaluate(qrels, again, { measures }), { perQuery: true }), expected, format);
  }
  const msmarcoLine = readFileSync(join(tmp, 'roundtrip.msmarco'), 'utf8').split('\n')[0]!;
  assert.match(msmarcoLine, /^\S+\t\S+\t1$/);
});

test('BEIR corpus is streamed with line numbers; queries are read whole', async () => {
  const manifest = readJson<Record<string, unknown>>(join(datasetsDir, 'MANIFEST.json'));
  let docs = 0;
  let last = 0;
  for await (const d of readBeirCorpus(join(datasetsDir, 'scifact', 'corpus.jsonl'))) {
    assert.equal(typeof d.id, 'string');
    assert.equal(typeof d.text, 'string');
    assert.ok(d.line > last);
    last = d.line;
    docs++;
  }
  const queries = await readBeirQueries(join(datasetsDir, 'scifact', 'queries.jsonl'));
  const text = JSON.stringify(manifest);
  assert.ok(text.includes(String(docs)), `corpus count ${docs} appears in MANIFEST.json`);
  assert.ok(queries.length > 0 && text.includes(String(queries.length)), `query count ${queries.length} appears in MANIFEST.json`);
});

async function rejects(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof InputError, String(e));
    assert.match((e as Error).message, pattern);
    assert.ok(!(e as Error).message.includes('\n'));
    return true;
  });
}

test('bad qrels: one error naming file and line', async () => {
  await rejects(readQrels(write('cols.qrels', '1 0 d1 1\n1 0 d2\n')), /cols\.qrels:2: expected 4 columns/);
  await rejects(readQrels(write('grade.qrels', '1 0 d1 1\n1 0 d2 high\n')), /grade\.qrels:2: relevance grade must be an integer, got "high"/);
  await rejects(readQrels(write('frac.qrels', '1 0 d1 0.5\n')), /frac\.qrels:1: relevance grade must be an integer/);
  await rejects(readQrels(write('dup.qrels', '1 0 d1 1\n2 0 d1 1\n1 0 d1 0\n')), /dup\.qrels:3: duplicate judgment for query "1", document "d1"/);
  await rejects(readQrels(write('empty.qrels', '')), /empty\.qrels: has no judgments/);
  await rejects(readQrels(join(tmp, 'missing.qrels')), /missing\.qrels: no such file/);
  await rejects(readQrels(write('beir.tsv', 'query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td2\n')), /beir\.tsv:3: expected 3 tab-separated columns/);
});

test('bad runs: one error naming file and line', async () => {
  await rejects(readRun(write('cols.run', '1 Q0 d1 1 2.5 t\n1 Q0 d2 2 t\n')), /cols\.run:2: expected 6 columns/);
  await rejects(readRun(write('score.run', '1 Q0 d1 1 2.5 t\n1 Q0 d2 2 abc t\n')), /score\.run:2: score must be a number, got "abc"/);
  await rejects(readRun(write('dup.run', '1 Q0 d1 1 2.5 t\n1 Q0 d1 2 1.5 t\n')), /dup\.run:2: duplicate document "d1" for query "1"/);
  await rejects(readRun(write('empty.run', '\n\n')), /empty\.run: has no results/);
  await rejects(readRun(write('rank.tsv', 'q1\td1\t1\nq1\td2\tx\n')), /rank\.tsv:2: rank must be a positive integer/);
  await rejects(readRun(write('five.run', '1 Q0 d1 1 2.5\n')), /five\.run:1: expected a TREC run .* or an MS MARCO run/);
});

test('CLI: run queries absent from the qrels are reported with their count and the rest is evaluated', () => {
  const extra = readFileSync(scifactRun, 'utf8') + 'no-such-query Q0 d1 1 3.0 synthetic\nother-missing Q0 d1 1 3.0 synthetic\n';
  const runPath = write('extra.run', extra);
  const r = runCli(['eval', '-m', 'map', '-m', 'num_q', scifactQrels, runPath]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning: .*extra\.run: 2 of 302 queries have no judgments/);
  const plain = runCli(['eval', '-m', 'map', '-m', 'num_q', scifactQrels, scifactRun]);
  assert.equal(r.stdout, plain.stdout);
});

test('CLI: a bad file is one error line and exit code 1', () => {
  const r = runCli(['eval', scifactQrels, write('bad.run', '1 Q0 d1 1 nope t\n')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^densekit: error: .*bad\.run:1: score must be a number, got "nope"\n$/);
  const m = runCli(['eval', '-m', 'not_a_measure', scifactQrels, scifactRun]);
  assert.equal(m.code, 1);
  assert.match(m.stderr, /unknown measure "not_a_measure"/);
});
