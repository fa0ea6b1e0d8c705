import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../src/errors.js';
import {
  readTeacherPairs, readTriples, readTrainQrels, readMinedNegatives, resolvePairs, referencedPassages,
  pairsFromQrelsAndNegatives,
} from '../src/train/data/index.js';
import { readTextMap } from '../src/formats/index.js';
import { readClusterFile, writeClusterFile, sphericalKMeans } from '../src/train/cluster/index.js';
import { Rng } from '../src/train/rng.js';

const dir = mkdtempSync(join(tmpdir(), 'densekit-train-data-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

test('teacher pair scores: published 5-column format, tab or space separated', async () => {
  const p = file('pairs.tsv', '10.5\t-2.25\tq1\tp1\tp2\n3 4 q1 p1 p3\r\n\n7.0\t1.0\tq2\tp4\tp5\n');
  const pairs = await readTeacherPairs(p);
  assert.deepEqual([...pairs.keys()], ['q1', 'q2']);
  assert.deepEqual(pairs.get('q1'), [
    { pos: 'p1', neg: 'p2', posScore: 10.5, negScore: -2.25 },
    { pos: 'p1', neg: 'p3', posScore: 3, negScore: 4 },
  ]);
});

test('teacher pair scores: a wrong column count or a bad number is one error naming file:line', async () => {
  const p = file('bad-pairs.tsv', '1\t2\tq1\tp1\tp2\n1\t2\tq1\tp1\n');
  await assert.rejects(readTeacherPairs(p), (e: unknown) => e instanceof InputError && e.message === `${p}:2: expected 5 columns "pos_score neg_score qid pos_pid neg_pid", got 4`);
  const q = file('bad-score.tsv', '1\tx\tq1\tp1\tp2\n');
  await assert.rejects(readTeacherPairs(q), /bad-score\.tsv:1: neg_score \(column 2\): expected a finite number, got "x"/);
  await assert.rejects(readTeacherPairs(file('empty.tsv', '')), /empty/);
  await assert.rejects(readTeacherPairs(join(dir, 'nope.tsv')), InputError);
});

test('triples, train qrels (BEIR with header, TREC) and mined negatives (TREC run)', async () => {
  const triples = await readTriples(file('triples.tsv', 'q1\tp1\tp2\nq1\tp1\tp3\n'));
  assert.equal(triples.get('q1')!.length, 2);
  await assert.rejects(readTriples(file('triples-bad.tsv', 'q1\tp1\n')), /triples-bad\.tsv:1: expected 3 columns/);
  const qrels = await readTrainQrels(file('qrels.tsv', 'query-id\tcorpus-id\tscore\nq1\tp1\t1\nq1\tp9\t0\nq2\tp2\t2\n'));
  assert.deepEqual(Object.fromEntries(qrels), { q1: ['p1'], q2: ['p2'] });
  const trec = await readTrainQrels(file('qrels.trec', 'q1 0 p1 1\n'));
  assert.deepEqual(Object.fromEntries(trec), { q1: ['p1'] });
  const negs = await readMinedNegatives(file('run.trec', 'q1 Q0 p7 2 1.5 mine\nq1 Q0 p1 1 2.5 mine\nq1 Q0 p8 3 1.0 mine\n'));
  assert.deepEqual(negs.get('q1'), ['p1', 'p7', 'p8']);
  const pairs = pairsFromQrelsAndNegatives(qrels, negs, 2);
  // the judged positive p1 is never used as a negative
  assert.deepEqual(pairs.get('q1')!.map((p) => [p.pos, p.neg]), [['p1', 'p7'], ['p1', 'p8']]);
});

test('ids missing from the collection: counted and skipped, or one error by flag', async () => {
  const queries = await readTextMap(file('queries.tsv', 'q1\twhat is a\nq2\twhat is b\n'));
  const collection = await readTextMap(file('collection.tsv', 'p1\ttext one\np2\ttext two\np3\ttext three\n'), { needed: new Set(['p1', 'p2', 'p9']) });
  assert.deepEqual([...collection.keys()], ['p1', 'p2']);
  const make = () => new Map([
    ['q1', [{ pos: 'p1', neg: 'p2', posScore: 1, negScore: 0 }, { pos: 'p1', neg: 'p9', posScore: 1, negScore: 0 }]],
    ['q3', [{ pos: 'p1', neg: 'p2', posScore: 1, negScore: 0 }]],
  ]);
  const sources = { pairsFile: 'pairs.tsv', queriesFile: 'queries.tsv', collectionFile: 'collection.tsv' };
  const pairs = make();
  assert.deepEqual([...referencedPassages(pairs)].sort(), ['p1', 'p2', 'p9']);
  const report = resolvePairs(pairs, queries, collection, 'skip', sources);
  assert.deepEqual(report, { missingQueries: 1, missingPassages: 1, droppedPairs: 2, keptPairs: 1, keptQueries: 1 });
  assert.deepEqual([...pairs.keys()], ['q1']);
  assert.throws(() => resolvePairs(make(), queries, collection, 'fail', sources),
    /pairs\.tsv: 1 query ids and 1 passage ids are missing \(2 pairs\); first: passage "p9" \(query "q1"\) is not in collection\.tsv/);
});

test('cluster files: released layout round-trips; an empty file or a repeated query is an error', async () => {
  const p = join(dir, 'clusters.tsv');
  const sizes = writeClusterFile(p, ['a', 'b', 'c', 'd'], [2, 0, 2, 0], 3);
  assert.deepEqual(sizes, [2, 0, 2]);
  assert.deepEqual(await readClusterFile(p), [['b', 'd'], [], ['a', 'c']]);
  await assert.rejects(readClusterFile(file('empty-clusters.tsv', '\n\n')), /empty-clusters\.tsv: the cluster file is empty/);
  await assert.rejects(readClusterFile(file('dup-clusters.tsv', 'a\tb\nb\n')), /dup-clusters\.tsv:2: query "b" is already in the cluster on line 1/);
});

test('spherical k-means in inner-product space recovers separated topics from unnormalized vectors', () => {
  const rng = new Rng(5);
  const dim = 16;
  const topics = 6;
  const perTopic = 50;
  const directions: number[][] = [];
  for (let t = 0; t < topics; t++) directions.push(Array.from({ length: dim }, () => rng.normal()));
  const vectors = new Float32Array(topics * perTopic * dim);
  const truth: number[] = [];
  for (let t = 0; t < topics; t++) for (let i = 0; i < perTopic; i++) {
    const scale = 0.5 + 4 * rng.nextFloat(); // norms vary: CLS vectors are not unit length
    const row = (t * perTopic + i) * dim;
    for (let d = 0; d < dim; d++) vectors[row + d] = scale * (directions[t]![d]! + 0.15 * rng.normal());
    truth.push(t);
  }
  const result = sphericalKMeans(vectors, dim, { k: topics, iterations: 10, seed: 1, restarts: 10 });
  for (let c = 0; c < topics; c++) {
    let norm = 0;
    for (let d = 0; d < dim; d++) norm += result.centroids[c * dim + d]! ** 2;
    assert.ok(Math.abs(Math.sqrt(norm) - 1) < 1e-5, 'centroids are unit length');
  }
  // purity: every found cluster holds a single topic
  const members = new Map<number, Set<number>>();
  result.assignment.forEach((c, i) => (members.get(c) ?? members.set(c, new Set()).get(c)!).add(truth[i]!));
  for (const topicsInCluster of members.values()) assert.equal(topicsInCluster.size, 1);
  assert.throws(() => sphericalKMeans(vectors.subarray(0, 3 * dim), dim, { k: 4 }), /at least 4 vectors/);
});
