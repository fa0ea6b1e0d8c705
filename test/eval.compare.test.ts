/** Paired significance tests, Holm-Bonferroni and run comparisons. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareRuns, holmBonferroni, pairedTTest, randomizationTest, readQrels, readRun, bootstrapInterval } from '../src/eval/index.js';
import { datasetsDir, fixturesDir } from './helpers.js';
import { runCli } from './cli.js';

test('paired t-test matches scipy.stats.ttest_rel', () => {
  // Reference: scipy 1.17.1, stats.ttest_rel(b, a) -> statistic 2.1979503896796575, pvalue 0.06392412293886497.
  const a = [0.2, 0.5, 0.1, 0.9, 0.4, 0.3, 0.7, 0.6];
  const b = [0.3, 0.6, 0.1, 0.8, 0.6, 0.5, 0.9, 0.6];
  const r = pairedTTest(a, b);
  assert.ok(Math.abs(r.t - 2.1979503896796575) < 1e-12, String(r.t));
  assert.ok(Math.abs(r.p - 0.06392412293886497) < 1e-10, String(r.p));
});

test('Holm-Bonferroni adjusts by rank and keeps monotonicity (textbook example)', () => {
  // Sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, max(0.06, 0.04*1) = 0.06.
  const adjusted = holmBonferroni([0.01, 0.04, 0.03, 0.005]);
  [0.03, 0.06, 0.06, 0.02].forEach((v, i) => assert.ok(Math.abs(adjusted[i]! - v) < 1e-15));
});

test('randomization test and bootstrap are reproducible for a seed and sensible at the extremes', () => {
  const a = Array.from({ length: 50 }, (_, i) => (i % 7) / 7);
  const better = a.map((x) => Math.min(1, x + 0.2));
  assert.equal(randomizationTest(a, better, { seed: 7 }), randomizationTest(a, better, { seed: 7 }));
  assert.ok(randomizationTest(a, better, { seed: 7, permutations: 2000 }) < 0.001);
  assert.equal(randomizationTest(a, a, { permutations: 500 }), 1);
  const [lo, hi] = bootstrapInterval(a, better, { seed: 3 });
  assert.ok(lo > 0 && hi <= 0.2 + 1e-12 && lo <= hi);
});

test('comparing two runs: identical runs tie everywhere; a different run gets W/T/L and p-values', async () => {
  const qrels = await readQrels(join(datasetsDir, 'scifact', 'qrels.test.trec'));
  const runPath = join(fixturesDir, 'metrics', 'scifact', 'run.trec');
  const run = await readRun(runPath);
  // A second run: reverse each query's ranking (worse by construction).
  const reversed = { runId: 'reversed', queries: new Map([...run.queries].map(([q, hits]) => [q, hits.map((h) => ({ ...h, score: -h.score }))])) };
  const c = compareRuns(qrels, [run, run, reversed], { measures: ['ndcg_cut.10', 'map'], permutations: 1000, bootstrapSamples: 1000 });
  assert.deepEqual(c.runIds, ['synthetic', 'synthetic#2', 'reversed']);
  assert.equal(c.queries.length, 300);
  for (const m of c.measures) {
    const same = m.runs[0]!;
    assert.equal(same.ties, 300);
    assert.equal(same.delta, 0);
    assert.equal(same.pTTest, 1);
    const rev = m.runs[1]!;
    assert.ok(rev.delta < 0 && rev.losses > rev.wins);
    assert.ok(rev.pRandomization < 0.01 && rev.pTTestHolm >= rev.pTTest);
  }
});

test('CLI: several runs print a comparison table; --json gives the numbers', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'densekit-cmp-'));
  const runPath = join(fixturesDir, 'metrics', 'cranfield', 'run.trec');
  const other = readFileSync(runPath, 'utf8').split('\n').filter(Boolean).map((l) => {
    const f = l.split(' ');
    return `${f[0]} Q0 ${f[2]} ${f[3]} ${-Number(f[4])} other`;
  }).join('\n');
  const otherPath = join(tmp, 'other.run');
  writeFileSync(otherPath, other + '\n');
  const qrels = join(datasetsDir, 'cranfield', 'qrels.test.trec');
  const r = runCli(['eval', '-m', 'ndcg_cut.10', '--permutations', '500', '--bootstrap', '500', qrels, runPath, otherPath]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /ndcg_cut_10\s+synthetic \(base\)/);
  assert.match(r.stdout, /other .*\d+\/\d+\/\d+/);
  const j = runCli(['eval', '--json', '-m', 'P.10', '--permutations', '200', '--bootstrap', '200', qrels, runPath, otherPath]);
  const parsed = JSON.parse(j.stdout);
  assert.equal(parsed.measures[0].measure, 'P_10');
  assert.equal(parsed.measures[0].runs[0].runId, 'other');
});
