/** `densekit encode --shard I/N` and indexing the N folders: the same index as one unsharded encode, or a refusal. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readManifest } from '../src/formats/index.js';
import { parseShardSpec, sliceOf } from '../src/encode/slices.js';
import { fixturesDir, maxAbsDiff } from './helpers.js';
import { runCli } from './cli.js';

const model = join(fixturesDir, 'models', 'tasb-distilbert-tiny');
const gtr = join(fixturesDir, 'models', 'gtr-t5-tiny-relu');

test('slices are contiguous, cover every record once, and reject bad specs', () => {
  for (const [records, of] of [[23, 3], [5, 8], [1000, 7]] as const) {
    let next = 0;
    for (let i = 0; i < of; i++) {
      const s = sliceOf({ index: i, of }, records);
      assert.equal(s.start, next);
      assert.ok(s.end >= s.start);
      next = s.end;
    }
    assert.equal(next, records);
  }
  for (const bad of ['3/3', '1', '-1/2', '0/0', 'a/b', '1/2/3']) assert.throws(() => parseShardSpec(bad), /--shard expects I\/N with 0 <= I < N/);
});

test('three --shard slices index to exactly the unsharded flat index; gaps, overlaps and mixed models are refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dk-shard-'));
  const input = join(dir, 'corpus.jsonl');
  writeFileSync(input, Array.from({ length: 23 }, (_, i) => JSON.stringify({ _id: `d${i}`, title: '', text: `passage number ${i} about ${'tides '.repeat(i % 4)}` })).join('\n') + '\n');
  const encode = (out: string, extra: string[], m = model) => runCli(['encode', '--model', m, '--input', input, '--output', join(dir, out), '--shard-size', '4', ...extra]);
  const whole = encode('whole', []);
  assert.equal(whole.code, 0, whole.stderr);
  for (let i = 0; i < 3; i++) {
    const r = encode(`s${i}`, ['--shard', `${i}/3`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`slice ${i}/3: records`));
  }
  assert.deepEqual(readManifest(join(dir, 's1')).slice, { index: 1, of: 3, start: 7, end: 15, records: 23 });
  const index = (out: string, inputs: string[]) => runCli(['index', '--type', 'flat', '--input', ...inputs.map((i) => join(dir, i)), '--output', join(dir, out)]);
  assert.equal(index('flat-whole', ['whole']).code, 0);
  const sharded = index('flat-sharded', ['s2', 's0', 's1']);
  assert.equal(sharded.code, 0, sharded.stderr);
  assert.equal(readFileSync(join(dir, 'flat-sharded', 'ids.txt'), 'utf8'), readFileSync(join(dir, 'flat-whole', 'ids.txt'), 'utf8'));
  // Same rows in the same order; batches padded to other lengths round differently, hence a tolerance.
  const f32 = (d: string) => { const b = readFileSync(join(dir, d, 'vectors.f32')); return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4); };
  assert.equal(f32('flat-sharded').length, f32('flat-whole').length);
  assert.ok(maxAbsDiff(f32('flat-sharded'), f32('flat-whole')) <= 1e-5);

  const gap = index('flat-gap', ['s0', 's2']);
  assert.equal(gap.code, 1);
  assert.match(gap.stderr, /^densekit: error: the encode folders leave a gap: records 7\.\.14 of 23 are in none of them/);
  const overlap = index('flat-overlap', ['s0', 's1', 's1', 's2']);
  assert.equal(overlap.code, 1);
  assert.match(overlap.stderr, /the encode folders overlap: .*s1 \(records 7\.\.14\) repeats records/);
  const other = encode('g1', ['--shard', '1/3'], gtr);
  assert.equal(other.code, 0, other.stderr);
  const mixed = index('flat-mixed', ['s0', 'g1', 's2']);
  assert.equal(mixed.code, 1);
  assert.match(mixed.stderr, /are not slices of one encoding: model/);
  for (const r of [gap, overlap, mixed]) assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  // A folder holding slice 1/3 does not resume as another slice.
  const again = encode('s1', ['--shard', '2/3']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /holds embeddings of another job \(--shard was "1\/3", now "2\/3"\)/);
});
