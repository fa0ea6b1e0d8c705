/** Encoding frees every intermediate tensor deterministically: 10,000 texts in a loop do not grow memory. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SentenceEncoder } from '../src/models/index.js';
import { liveTensorCount } from '../src/tensor/index.js';
import { fixturesDir } from './helpers.js';

test('encoding 10,000 texts in a loop does not grow resident memory or live tensors', () => {
  const enc = SentenceEncoder.load(join(fixturesDir, 'models', 'gtr-t5-tiny-relu'));
  try {
    const texts = Array.from({ length: 250 }, (_, i) => `passage ${i} about ${'tides and the moon '.repeat(i % 9)}`);
    // Warm-up: allocator pools and lazily built kernels settle first.
    for (let i = 0; i < 4; i++) enc.embed(texts, 'passage', { batchSize: 25 });
    const tensorsBefore = liveTensorCount();
    const rssBefore = process.memoryUsage().rss;
    for (let i = 0; i < 40; i++) enc.embed(texts, 'passage', { batchSize: 25 }); // 10,000 texts
    const grownMiB = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    assert.equal(liveTensorCount(), tensorsBefore, 'every intermediate tensor was freed');
    assert.ok(grownMiB < 24, `resident memory grew by ${grownMiB.toFixed(1)} MiB over 10,000 texts`);
  } finally {
    enc.dispose();
  }
});
