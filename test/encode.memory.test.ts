/** Encoding frees every intermediate tensor deterministically: 10,000 texts in a loop do not grow memory. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SentenceEncoder } from '../src/models/index.js';
import { liveTensorCount } from '../src/tensor/index.js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { fixturesDir } from './helpers.js';

// The test runner starts files without --expose-gc; this is Node's documented way to get gc() at run time.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

test('encoding 10,000 texts in a loop does not grow resident memory or live tensors', () => {
  const enc = SentenceEncoder.load(join(fixturesDir, 'models', 'gtr-t5-tiny-relu'));
  try {
    const texts = Array.from({ length: 250 }, (_, i) => `passage ${i} about ${'tides and the moon '.repeat(i % 9)}`);
    // Warm-up: allocator pools and lazily built kernels settle first.
    for (let i = 0; i < 4; i++) enc.embed(texts, 'passage', { batchSize: 25 });
    const tensorsBefore = liveTensorCount();
    // Resident memory after a full GC, so garbage the JS heap has not collected yet is not counted as growth.
    const settledRss = () => {
      gc();
      return process.memoryUsage().rss / 2 ** 20;
    };
    const rss0 = settledRss();
    for (let i = 0; i < 20; i++) enc.embed(texts, 'passage', { batchSize: 25 }); // 5,000 texts
    const rss1 = settledRss();
    for (let i = 0; i < 20; i++) enc.embed(texts, 'passage', { batchSize: 25 }); // 5,000 more
    const rss2 = settledRss();
    assert.equal(liveTensorCount(), tensorsBefore, 'every intermediate tensor was freed');
    // A leak grows with the texts encoded (one [25, L, 64] float tensor a batch would be ~60 MiB per half); the
    // first half may still settle allocator pools, the second must not grow.
    assert.ok(rss2 - rss0 < 24, `resident memory grew by ${(rss2 - rss0).toFixed(1)} MiB over 10,000 texts`);
    assert.ok(rss2 - rss1 < 8, `resident memory kept growing: ${(rss1 - rss0).toFixed(1)} MiB over the first 5,000 texts, ${(rss2 - rss1).toFixed(1)} MiB over the next 5,000`);
  } finally {
    enc.dispose();
  }
});
