import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../src/errors.js';
import { fuse, type RunHits } from '../src/retrieval/fusion.js';

const dense: RunHits = new Map([
  ['q1', [{ id: 'a', score: 0.9 }, { id: 'b', score: 0.8 }, { id: 'c', score: 0.5 }]],
  ['q2', [{ id: 'x', score: 0.3 }]],
]);
const sparse: RunHits = new Map([
  ['q1', [{ id: 'c', score: 12 }, { id: 'a', score: 10 }, { id: 'd', score: 4 }]],
  ['q3', [{ id: 'y', score: 1 }, { id: 'z', score: 1 }]],
]);

test('RRF: sum of 1 / (60 + rank) over runs; union of queries; ties by id desc', () => {
  const out = fuse([dense, sparse], { method: 'rrf' });
  assert.deepEqual([...out.keys()], ['q1', 'q2', 'q3']);
  const q1 = out.get('q1')!;
  assert.deepEqual(q1.map((h) => h.id), ['a', 'c', 'b', 'd']);
  assert.equal(q1[0]!.score, 1 / 61 + 1 / 62);
  assert.equal(q1[1]!.score, 1 / 63 + 1 / 61);
  assert.equal(q1[2]!.score, 1 / 62);
  assert.equal(q1[3]!.score, 1 / 63);
  // q3's input tie (y, z at score 1) is ranked z then y, as trec_eval would: z gets rank 1.
  assert.deepEqual(out.get('q3'), [{ id: 'z', score: 1 / 61 }, { id: 'y', score: 1 / 62 }]);
  assert.deepEqual(fuse([dense, sparse], { method: 'rrf', k: 2, depth: 1 }).get('q1')!.map((h) => h.id), ['c', 'a']);
});

test('linear: Pyserini HybridSearcher (missing = run minimum, mid-range normalization, weights)', () => {
  const out = fuse([dense, sparse], { method: 'linear', weights: [1, 0.1] }).get('q1')!;
  const norm = (s: number, min: number, max: number) => (s - (min + max) / 2) / (max - min);
  const expected = new Map([
    ['a', norm(0.9, 0.5, 0.9) + 0.1 * norm(10, 4, 12)],
    ['b', norm(0.8, 0.5, 0.9) + 0.1 * norm(4, 4, 12)],
    ['c', norm(0.5, 0.5, 0.9) + 0.1 * norm(12, 4, 12)],
    ['d', norm(0.5, 0.5, 0.9) + 0.1 * norm(4, 4, 12)],
  ]);
  assert.deepEqual(out.map((h) => h.id), [...expected].sort((x, y) => y[1] - x[1]).map(([id]) => id));
  for (const h of out) assert.equal(h.score, expected.get(h.id));
  const raw = fuse([dense, sparse], { method: 'linear', normalize: false, weights: [1, 0.1] }).get('q1')!;
  assert.equal(raw.find((h) => h.id === 'b')!.score, 0.8 + 0.1 * 4);
});

test('fusion rejects one run, bad weights and bad k', () => {
  assert.throws(() => fuse([dense], { method: 'rrf' }), UsageError);
  assert.throws(() => fuse([dense, sparse], { method: 'linear', weights: [1] }), UsageError);
  assert.throws(() => fuse([dense, sparse], { method: 'rrf', k: 0 }), UsageError);
});
