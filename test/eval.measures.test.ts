/**
 * Each trec_eval measure family on tiny cases worked out by hand (the arithmetic is in the comments), so a
 * failure names the measure. The whole-collection comparison with trec_eval itself is in
 * eval.trec-eval-surface.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluate, MISSING_ZSCORE, type RelInfo, type Run, type RunHit } from '../src/eval/index.js';
import { readPrefs } from '../src/formats/prefs.js';
import { readQrelsPrefs } from '../src/formats/qrels-prefs.js';
import { readQrelsJg } from '../src/formats/qrels-jg.js';
import { readZscores } from '../src/formats/zscores.js';
import { expectOneLineError } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'densekit-measures-'));
let files = 0;
function file(text: string): string {
  const path = join(dir, `f${files++}.txt`);
  writeFileSync(path, text);
  return path;
}

function run(queries: Record<string, [string, number][]>, runId = 'r'): Run {
  const map = new Map<string, RunHit[]>();
  for (const [qid, hits] of Object.entries(queries)) map.set(qid, hits.map(([id, score], i) => ({ id, score, rank: i + 1 })));
  return { runId, queries: map };
}

// The running example. Judgments of q1: d1 = 1, d2 = 0, d3 = 2, d4 = 1 (d4 never retrieved, d5 not judged).
// Ranking by score: d1 (rel 1), d5 (not in pool), d3 (rel 2), d2 (0). R = 3 at -l 1, 2 relevant retrieved.
const qrels = new Map([['q1', new Map([['d1', 1], ['d2', 0], ['d3', 2], ['d4', 1]])]]);
const run1 = run({ q1: [['d1', 5], ['d5', 4], ['d3', 3], ['d2', 2]] });
const at = (measures: string[], options = {}, rel: Map<string, Map<string, number>> | RelInfo = qrels, r = run1) => evaluate(rel, r, { measures, ...options }).aggregate;
const close = (actual: unknown, expected: number, what: string) => assert.ok(Math.abs((actual as number) - expected) < 1e-12, `${what}: ${actual} vs ${expected}`);

test('counts: num_ret 4, num_rel 3, num_rel_ret 2, num_nonrel_judged_ret 1 (d2)', () => {
  const a = at(['num_ret', 'num_rel', 'num_rel_ret', 'num_nonrel_judged_ret']);
  assert.deepEqual([a.num_ret, a.num_rel, a.num_rel_ret, a.num_nonrel_judged_ret], [4, 3, 2, 1]);
});

test('map: (1/1 + 2/3) / 3 = 5/9; -l 2: (1/3) / 1; -J drops d5: (1/1 + 2/2) / 3; -M 2: (1/1) / 3', () => {
  close(at(['map']).map, 5 / 9, 'map');
  close(at(['map'], { relevanceLevel: 2 }).map, 1 / 3, 'map -l 2');
  close(at(['map'], { judgedOnly: true }).map, 2 / 3, 'map -J');
  close(at(['map'], { maxDocsPerQuery: 2 }).map, 1 / 3, 'map -M 2');
});

test('P, recall, success, Rprec, recip_rank at hand-counted ranks', () => {
  const a = at(['P.1,2,5', 'recall.2,5', 'success.1', 'Rprec', 'recip_rank', 'relative_P.2']);
  close(a.P_1, 1, 'P_1');
  close(a.P_2, 1 / 2, 'P_2');
  close(a.P_5, 2 / 5, 'P_5 (missing ranks count as non-relevant)');
  close(a.recall_2, 1 / 3, 'recall_2');
  close(a.recall_5, 2 / 3, 'recall_5');
  close(a.success_1, 1, 'success_1');
  close(a.Rprec, 2 / 3, 'Rprec: 2 relevant in the top R = 3');
  close(a.recip_rank, 1, 'recip_rank');
  close(a.relative_P_2, 1 / 2, 'relative_P_2: 1 of min(2, R)');
});

test('iprec_at_recall uses trec_eval 10\'s lround(pct * R): 0.4 * 3 = 1.2 -> 1 relevant document, precision 1', () => {
  // Interpolated precision after the 1st relevant doc (rank 1) is 1; after the 2nd (rank 3) max(2/3, 2/4) = 2/3.
  // Cut-offs lround(pct * 3): 0.0, 0.1 -> 0; 0.2 .. 0.4 -> 1; 0.5 .. 0.8 -> 2; 0.9, 1.0 -> 3 (> 2 retrieved: 0).
  // (trec_eval 9's trunc(pct * 3 + 0.9) would give 0.4 -> 2, i.e. 2/3.)
  const a = at(['iprec_at_recall', '11pt_avg']);
  const expected = [1, 1, 1, 1, 1, 2 / 3, 2 / 3, 2 / 3, 2 / 3, 0, 0];
  ['0.00', '0.10', '0.20', '0.30', '0.40', '0.50', '0.60', '0.70', '0.80', '0.90', '1.00'].forEach((p, i) => close(a[`iprec_at_recall_${p}`], expected[i]!, `iprec_at_recall_${p}`));
  close(a['11pt_avg'], (5 + 4 * (2 / 3)) / 11, '11pt_avg');
});

test('Rprec_mult keeps trec_eval 9\'s trunc(pct * R + 0.9): 0.2 -> P@1, 1.0 -> P@3, 2.0 -> 2 of 6', () => {
  const a = at(['Rprec_mult.0.2,1.0,2.0']);
  close(a['Rprec_mult_0.20'], 1, 'Rprec_mult_0.20');
  close(a['Rprec_mult_1.00'], 2 / 3, 'Rprec_mult_1.00');
  close(a['Rprec_mult_2.00'], 2 / 6, 'Rprec_mult_2.00: cut-off 6 is past the 4 retrieved');
});

test('ndcg: dcg 1/log2(2) + 2/log2(4) = 2; ideal 2 + 1/log2(3) + 1/2; gains from -m ndcg.2=10', () => {
  const a = at(['ndcg', 'dcg', 'ideal_dcg']);
  close(a.dcg, 2, 'dcg');
  close(a.ideal_dcg, 2.5 + 1 / Math.log2(3), 'ideal_dcg');
  close(a.ndcg, 2 / (2.5 + 1 / Math.log2(3)), 'ndcg');
  // Grade 2 worth 10: dcg 1 + 10/2 = 6; ideal 10 + 1/log2(3) + 1/2.
  close(at(['ndcg.2=10'])['ndcg_2=10'], 6 / (10.5 + 1 / Math.log2(3)), 'ndcg_2=10');
});

test('yaap: log((1 + S) / (1 + R - S)) with S = 1 + 2/3', () => {
  close(at(['yaap']).yaap, Math.log((1 + 5 / 3) / (1 + 3 - 5 / 3)), 'yaap');
});

test('rbp: gains scaled to [0, 1]; after yaap its max starts at yaap\'s sum, as in the trec_eval 10.0 build', () => {
  // Binary judgments, d1 and d2 relevant at ranks 1, 2: rbp = 0.1 * (1 + 0.9) = 0.19.
  const binary = new Map([['q', new Map([['d1', 1], ['d2', 1]])]]);
  const r = run({ q: [['d1', 2], ['d2', 1]] });
  close(at(['rbp'], {}, binary, r).rbp, 0.19, 'rbp');
  // yaap's sum is 1/1 + 2/2 = 2 > 1, so trec_eval's uninitialized max is 2 and every gain is halved.
  close(at(['yaap', 'rbp'], {}, binary, r).rbp, 0.095, 'rbp after yaap');
});

test('-c: a judged query the run lacks is evaluated on trec_eval\'s stand-in and averaged in', () => {
  const two = new Map([...qrels, ['q2', new Map([['x', 1]])]]);
  const e = evaluate(two, run1, { measures: ['map', 'num_ret', 'utility', 'num_q'], completeQueries: true });
  close(e.aggregate.map, 5 / 9 / 2, 'map over 2 queries');
  const q2 = e.perQuery.get('q2')!;
  assert.equal(q2.num_ret, 0, 'num_ret is reset');
  assert.equal(q2.utility, 0, 'utility is reset');
  const named = evaluate(two, run1, { measures: ['utility.1,-1,0,0'], completeQueries: true });
  assert.equal(named.perQuery.get('q2')!['utility_1,-1,0,0'], -1, 'a parameterized utility keeps the stand-in\'s value (one non-relevant document)');
  assert.equal(e.aggregate.num_q, 2);
  close(evaluate(two, run1, { measures: ['map'] }).aggregate.map, 5 / 9, 'without -c the missing query is skipped');
});

test('parameters as trec_eval reads them: atol cut-offs, atof fractions, %3.2f names', () => {
  const e = evaluate(qrels, run1, { measures: ['ndcg_cut.3,7,20.6', 'iprec_at_recall..05', 'Rprec_mult.123456.5'] });
  assert.deepEqual(e.columns.map((c) => c.name), ['iprec_at_recall_0.05', 'Rprec_mult_123456.5', 'ndcg_cut_3', 'ndcg_cut_7', 'ndcg_cut_20']);
  expectOneLineError(() => at(['P.0']), /-m P\.0/, /positive/);
  expectOneLineError(() => at(['P.5,5']), /duplicate/);
  expectOneLineError(() => at(['P.x']), /not a number/);
  expectOneLineError(() => at(['ndcg.1=2,3']), /malformed pair/);
  expectOneLineError(() => at(['P.']), /empty parameter/);
  expectOneLineError(() => at(['nosuch']), /unknown measure "nosuch"/, /--help/);
});

test('prefs from qrels (-R qrels_prefs): classes {d3} > {d1, d4} > {d2}, docid ranks d1 0, d3 1, d2 2, d4 3', async () => {
  // Pairs (better, worse): d3>d1 not fulfilled (both retrieved), d3>d4 fulfilled implied, d3>d2 fulfilled,
  // d1>d2 fulfilled, d4>d2 not fulfilled implied. ret: 2 of 3; imp: 1 of 2; total 3 of 5.
  const prefs = await readQrelsPrefs(file('q1 0 d1 1\nq1 0 d2 0\nq1 0 d3 2\nq1 0 d4 1\n'));
  const a = at(['all_prefs'], {}, { format: 'qrels_prefs', prefs });
  assert.deepEqual([a.prefs_num_prefs_poss, a.prefs_num_prefs_ful, a.prefs_num_prefs_ful_ret], [5, 3, 2]);
  close(a.prefs_simp, 3 / 5, 'prefs_simp');
  close(a.prefs_simp_ret, 2 / 3, 'prefs_simp_ret');
  close(a.prefs_simp_imp, 3 / 5, 'prefs_simp_imp');
  close(a.prefs_avgjg, 3 / 5, 'prefs_avgjg (one group)');
  // Per pair: (d1,d3) 0, (d1,d2) 1, (d3,d2) 1 among retrieved; (d3,d4) 1, (d2,d4) 0 with d4 unretrieved.
  close(a.prefs_pair, 3 / 5, 'prefs_pair');
  close(a.prefs_pair_ret, 2 / 3, 'prefs_pair_ret');
  // R = 3 relevant >= N = 1 non-relevant: add R - N = 2 fulfilled per relevant retrieved (2) and possible per relevant (3).
  close(a.prefs_avgjg_Rnonrel, (3 + 2 * 2) / (5 + 3 * 2), 'prefs_avgjg_Rnonrel');
  // Retrieved only: R = 2, N = 1: (2 + 2 * 1) / (3 + 3 * 1).
  close(a.prefs_avgjg_Rnonrel_ret, 4 / 6, 'prefs_avgjg_Rnonrel_ret');
});

test('prefs with sub-groups (-R prefs): preferences close transitively, d1 > d2 > d3 gives d1 > d3', async () => {
  // Ranking d3, d1, d2: d1>d2 fulfilled; d2>d3 and the implied d1>d3 not. Without transitivity: 1 of 2.
  const prefs = await readPrefs(file('q1 A s1 d1 3\nq1 A s1 d2 2\nq1 A s2 d2 5\nq1 A s2 d3 4\n'));
  const r = run({ q1: [['d3', 3], ['d1', 2], ['d2', 1]] });
  const a = at(['prefs_num_prefs_poss', 'prefs_num_prefs_ful', 'prefs_simp'], {}, { format: 'prefs', prefs }, r);
  assert.deepEqual([a.prefs_num_prefs_poss, a.prefs_num_prefs_ful], [3, 1]);
  close(a.prefs_simp, 1 / 3, 'prefs_simp');
  const conflicting = await readPrefs(file('q1 A s1 d1 3\nq1 A s1 d2 2\nq1 A s2 d2 5\nq1 A s2 d1 4\n'));
  expectOneLineError(() => at(['prefs_simp'], {}, { format: 'prefs', prefs: conflicting }, r), /inconsistent preferences/);
});

test('prefs over several judgment groups: confirmations and conflicts per pair (prefs_pair) vs per group (prefs_avgjg)', async () => {
  // Ranking d1, d2 (d3 not retrieved). u1 and u2: d1 > d2 (fulfilled twice); u3: d2 > d1 (not), d2 > d3 and
  // d1 > d3 (both fulfilled, implied). Pair counts: (d1,d2) 2 vs 1, (d1,d3) 1 vs 0, (d2,d3) 1 vs 0.
  const prefs = await readQrelsPrefs(file('q u1 d1 2\nq u1 d2 1\nq u2 d1 2\nq u2 d2 1\nq u3 d2 2\nq u3 d1 1\nq u3 d3 0\n'));
  const r = run({ q: [['d1', 2], ['d2', 1]] });
  const a = at(['all_prefs'], {}, { format: 'qrels_prefs', prefs }, r);
  close(a.prefs_simp, 4 / 5, 'prefs_simp: 4 of 5 preferences');
  close(a.prefs_avgjg, (1 + 1 + 2 / 3) / 3, 'prefs_avgjg: 1, 1 and 2/3');
  close(a.prefs_pair, (2 / 3 + 1 + 1) / 3, 'prefs_pair: 2/3, 1, 1');
  close(a.prefs_pair_ret, 2 / 3, 'prefs_pair_ret: only (d1,d2)');
  close(a.prefs_simp_ret, 2 / 3, 'prefs_simp_ret');
  close(a.prefs_avgjg_ret, 2 / 3, 'prefs_avgjg_ret: 1, 1 and 0');
});

test('judgment groups (-R qrels_jg): map and P averaged over the groups', async () => {
  // Group a: d1 relevant at rank 1 -> AP 1; group b: d2 relevant at rank 2 -> AP 1/2. Mean 0.75.
  const groups = await readQrelsJg(file('q a d1 1\nq a d2 0\nq b d2 1\n'));
  const r = run({ q: [['d1', 2], ['d2', 1]] });
  const a = at(['map_avgjg', 'P_avgjg.1,2'], {}, { format: 'qrels_jg', groups }, r);
  close(a.map_avgjg, 0.75, 'map_avgjg');
  close(a.P_avgjg_1, 0.5, 'P_avgjg_1: 1 and 0');
  close(a.P_avgjg_2, 0.5, 'P_avgjg_2: 1/2 and 1/2');
  expectOneLineError(() => at(['map'], {}, { format: 'qrels_jg', groups }, r), /need -R qrels/);
});

test('-Z: (value - mean) / stddev per query and measure; missing entries print -1000000', async () => {
  const zscores = await readZscores(file('q1 map 0.5 0.25\nq1 P_5 0.4 0\nq1 P_10 0.1 0\n'));
  const e = evaluate(qrels, run1, { measures: ['map', 'P.5,10,15'], zscores });
  const q1 = e.perQuery.get('q1')!;
  close(q1.map, (5 / 9 - 0.5) / 0.25, 'map z-score');
  assert.equal(q1.P_5, 0, 'stddev 0 and the value equals the mean');
  assert.equal(q1.P_10, MISSING_ZSCORE, 'stddev 0 and a different value');
  assert.equal(q1.P_15, MISSING_ZSCORE, 'measure missing from the file');
});

test('malformed prefs, qrels_jg and zscores files: one line naming file and line', async () => {
  const oneLine = async (p: Promise<unknown>, ...parts: RegExp[]) => assert.rejects(p, (e: Error) => {
    assert.ok(!e.message.includes('\n'), e.message);
    for (const part of parts) assert.match(e.message, part);
    return true;
  });
  const bad = file('q1 A s1 d1 3\nq1 A d2 2\n');
  await oneLine(readPrefs(bad), new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:2`), /5 columns/);
  await oneLine(readPrefs(file('q1 A s1 d1 high\n')), /:1/, /rel_level must be a number/);
  await oneLine(readQrelsPrefs(file('q1 0 d1\n')), /:1/, /4 columns/);
  await oneLine(readQrelsJg(file('q a d1 1\nq a d1 0\n')), /:2/, /duplicate/);
  await oneLine(readZscores(file('q1 map 0.5\n')), /:1/, /4 columns/);
  await oneLine(readZscores(file('q1 map x 0.1\n')), /:1/, /mean must be a number/);
  await oneLine(readZscores(file('# nothing\n')), /no entries/);
});
