import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/train/rng.js';
import { marginBinIndices, MarginBins, PairPicker, ClusterBatchSampler, ShuffledBatchSampler } from '../src/train/sampling/index.js';
import type { PairsByQuery, ScoredPair } from '../src/train/data/index.js';

/** Chi-square statistic of observed counts against equal expected counts. */
function chiSquareUniform(counts: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const expected = total / counts.length;
  return counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
}
// Upper 0.1% points of the chi-square distribution (standard tables) by degrees of freedom.
const CHI2_999: Record<number, number> = { 1: 10.83, 2: 13.82, 3: 16.27, 4: 18.47, 9: 27.88, 19: 43.82 };

function pair(margin: number, id: string): ScoredPair {
  return { pos: `p${id}`, neg: `n${id}`, posScore: 10 + margin, negScore: 10 };
}

test('margin bins follow np.digitize over np.arange edges: 10 equal-width bins, max in the top bin', () => {
  // margins 0..10: width 1, edges 0,1,..,9 -> margin m in bin min(m, 9)
  const margins = Array.from({ length: 11 }, (_, i) => i);
  assert.deepEqual(marginBinIndices(margins), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9]);
  // a value exactly on an edge belongs to the bin that starts there (digitize, right=False)
  assert.deepEqual(marginBinIndices([-5, 5, 0, 0.999999]), [0, 9, 5, 5]);
});

test('margin bins guard float rounding at the top edge and a zero-width range', () => {
  // np.arange(0, 0.3, 0.03) has 11 elements (float rounding): the released loader would index bin 10 here.
  const bins = marginBinIndices([0, 0.1, 0.3]);
  assert.equal(bins[2], 9);
  assert.ok(bins.every((b) => b >= 0 && b < 10));
  assert.deepEqual(marginBinIndices([2.5, 2.5, 2.5]), [0, 0, 0]);
  assert.deepEqual(marginBinIndices([7]), [0]);
  const single = new MarginBins([pair(3, 'a')]);
  assert.equal(single.sample(new Rng(1)).pos, 'pa');
});

test('balanced margin sampling: non-empty bins uniformly (chi-square), then pairs uniformly within a bin', () => {
  // 600 pairs in bin 0, 3 in bin 5, 1 in bin 9: a uniform pair choice would almost never leave bin 0.
  const pairs: ScoredPair[] = [];
  for (let i = 0; i < 600; i++) pairs.push(pair(i / 1000, `low${i}`));
  for (let i = 0; i < 3; i++) pairs.push(pair(5 + i / 100, `mid${i}`));
  pairs.push(pair(10, 'top'));
  const mb = new MarginBins(pairs);
  assert.deepEqual(mb.binNumbers, [0, 5, 9]);
  const rng = new Rng(7);
  const binCounts = [0, 0, 0];
  const midCounts = [0, 0, 0];
  const draws = 30000;
  for (let i = 0; i < draws; i++) {
    const p = mb.sample(rng);
    if (p.pos.startsWith('plow')) binCounts[0]!++;
    else if (p.pos.startsWith('pmid')) {
      binCounts[1]!++;
      midCounts[Number(p.pos.slice(4))]!++;
    } else binCounts[2]!++;
  }
  assert.ok(chiSquareUniform(binCounts) < CHI2_999[2]!, `bin counts ${binCounts}`);
  assert.ok(chiSquareUniform(midCounts) < CHI2_999[2]!, `within-bin counts ${midCounts}`);
});

function clusteredData(clusterSizes: number[]): { clusters: string[][]; pairs: PairsByQuery } {
  const clusters: string[][] = [];
  const pairs: PairsByQuery = new Map();
  clusterSizes.forEach((size, c) => {
    const members: string[] = [];
    for (let i = 0; i < size; i++) {
      const qid = `c${c}q${i}`;
      members.push(qid);
      pairs.set(qid, [pair(1, `${qid}a`), pair(2, `${qid}b`)]);
    }
    clusters.push(members);
  });
  return { clusters, pairs };
}

test('cluster batches: one cluster per batch when clusters are large enough (purity 1), queries without replacement', () => {
  const { clusters, pairs } = clusteredData([40, 50, 60, 70, 80]);
  const sampler = new ClusterBatchSampler(clusters, new PairPicker(pairs, 'bins'), { batchSize: 32, seed: 3 });
  const clusterDraws = [0, 0, 0, 0, 0];
  for (let b = 0; b < 1000; b++) {
    const batch = sampler.next();
    assert.equal(batch.length, 32);
    const owners = new Set(batch.map((e) => e.qid.split('q')[0]));
    assert.equal(owners.size, 1, 'every query of a batch comes from the same cluster');
    assert.equal(new Set(batch.map((e) => e.qid)).size, 32, 'no query twice within one cluster draw');
    clusterDraws[batch[0]!.cluster!]!++;
  }
  // clusters are chosen uniformly, whatever their size
  assert.ok(chiSquareUniform(clusterDraws) < CHI2_999[4]!, `cluster draws ${clusterDraws}`);
});

test('cluster batches: small clusters are taken whole and topped up from further random clusters', () => {
  const { clusters, pairs } = clusteredData([5, 5, 5, 5, 5, 5, 5, 5]);
  const sampler = new ClusterBatchSampler(clusters, new PairPicker(pairs, 'random'), { batchSize: 12, seed: 11 });
  for (let b = 0; b < 200; b++) {
    const batch = sampler.next();
    assert.equal(batch.length, 12);
    // consecutive runs: the first two clusters drawn contribute all 5 of their queries
    const first = batch.slice(0, 5).map((e) => e.cluster);
    assert.ok(first.every((c) => c === first[0]));
    assert.deepEqual(batch.slice(0, 5).map((e) => e.qid).sort(), clusters[first[0]!]!.slice().sort());
  }
});

test('cluster batches: clustersPerBatch splits the batch across clusters; queries without pairs are dropped', () => {
  const { clusters, pairs } = clusteredData([50, 50, 50, 50]);
  clusters.push(['unknown1', 'unknown2']);
  const sampler = new ClusterBatchSampler(clusters, new PairPicker(pairs, 'bins'), { batchSize: 32, clustersPerBatch: 4, seed: 5 });
  assert.equal(sampler.clusters.length, 4);
  assert.equal(sampler.queriesPerCluster, 8);
  const batch = sampler.next();
  for (let i = 0; i < 32; i += 8) assert.equal(new Set(batch.slice(i, i + 8).map((e) => e.cluster)).size, 1);
});

test('samplers resume exactly from a saved state', () => {
  const { clusters, pairs } = clusteredData([30, 40, 50]);
  const picker = new PairPicker(pairs, 'bins');
  const a = new ClusterBatchSampler(clusters, picker, { batchSize: 16, seed: 9 });
  for (let i = 0; i < 5; i++) a.next();
  const state = JSON.parse(JSON.stringify(a.getState()));
  const expected = [a.next(), a.next(), a.next()];
  const b = new ClusterBatchSampler(clusters, picker, { batchSize: 16, seed: 1234 });
  b.setState(state);
  assert.deepEqual([b.next(), b.next(), b.next()], expected);

  const s = new ShuffledBatchSampler(picker, 7, 2);
  for (let i = 0; i < 23; i++) s.next(); // mid-epoch (120 queries / 7 per batch)
  const st = JSON.parse(JSON.stringify(s.getState()));
  const next = [s.next(), s.next(), s.next(), s.next()];
  const t = new ShuffledBatchSampler(picker, 7, 99);
  t.setState(st);
  assert.deepEqual([t.next(), t.next(), t.next(), t.next()], next);
});

test('shuffled batches visit every query once per epoch', () => {
  const { pairs } = clusteredData([10, 10, 10]);
  const s = new ShuffledBatchSampler(new PairPicker(pairs, 'random'), 10, 4);
  const seen: string[] = [];
  for (let i = 0; i < 3; i++) seen.push(...s.next().map((e) => e.qid));
  assert.deepEqual(seen.sort(), [...pairs.keys()].sort());
});

test('Rng.int is uniform and its state round-trips', () => {
  const rng = new Rng(123);
  const counts = new Array(20).fill(0);
  for (let i = 0; i < 40000; i++) counts[rng.int(20)]++;
  assert.ok(chiSquareUniform(counts) < CHI2_999[19]!, `counts ${counts}`);
  const state = rng.getState();
  const seq = [rng.nextUint32(), rng.nextUint32()];
  rng.setState(state);
  assert.deepEqual([rng.nextUint32(), rng.nextUint32()], seq);
});
