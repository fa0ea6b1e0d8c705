/**
 * Length-bucketed batching (tokenBudget) against fixed batches of 32 on the fixture models: the same texts give
 * the same embeddings, and the batches really follow the budget (long texts in small batches, short in large).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { SentenceEncoder } from '../src/models/index.js';
import { fixturesDir, maxAbsDiff, sharedDir } from './helpers.js';

/** SciFact texts cut to 2..41 words: token lengths spread up to and past the fixtures' max lengths. */
function texts(n: number): string[] {
  const docs = readFileSync(join(sharedDir, 'datasets/scifact/corpus.jsonl'), 'utf8').trim().split('\n').slice(0, n);
  return docs.map((l, i) => {
    const d = JSON.parse(l) as { title: string; text: string };
    return `${d.title} ${d.text}`.split(/\s+/).slice(0, 2 + ((i * 37) % 40)).join(' ');
  });
}

for (const name of ['tasb-distilbert-tiny', 'gtr-t5-tiny-relu']) {
  test(`${name}: a token budget gives the embeddings of fixed batches of 32, in budget-sized batches`, () => {
    const enc = SentenceEncoder.load(join(fixturesDir, 'models', name));
    try {
      const input = texts(150);
      const fixed = enc.embed(input, 'passage', { batchSize: 32 });
      const sizes: number[] = [];
      const budget = 1024;
      const bucketed = enc.embed(input, 'passage', { batchSize: 256, tokenBudget: budget, onProgress: (n) => sizes.push(n) });
      // Padding differs between the two batchings: masked positions add exact zeros, but the matrix shapes and
      // reduction lengths change, so sums round differently (measured ~2e-6 here): within the 1e-5 the project
      // holds every batching to against sentence-transformers (models.parity.test.ts).
      assert.ok(maxAbsDiff(bucketed.vectors, fixed.vectors) <= 1e-5, `max diff ${maxAbsDiff(bucketed.vectors, fixed.vectors)}`);
      assert.equal(bucketed.truncated, fixed.truncated);
      // Independent check of the batch sizes: longest first, each batch floor(budget / its longest length).
      const lengths = enc.tokenizeTexts(input, 'passage').map((e) => e.ids.length).sort((a, b) => b - a);
      const expected: number[] = [];
      for (let i = 0; i < lengths.length; i += expected.at(-1)!) expected.push(Math.min(256, lengths.length - i, Math.max(1, Math.floor(budget / lengths[i]!))));
      assert.deepEqual(sizes, expected);
      // (The tiny GTR fixture's max length cuts most texts to the same length; TAS-B's keeps them apart.)
      if (name === 'tasb-distilbert-tiny') assert.ok(sizes[0]! < sizes.at(-1)!, `long texts in smaller batches than short ones: ${sizes.join(',')}`);
    } finally {
      enc.dispose();
    }
  });
}

test('a token budget must be a positive integer', () => {
  const enc = SentenceEncoder.load(join(fixturesDir, 'models', 'tasb-distilbert-tiny'));
  try {
    assert.throws(() => enc.embed(['a'], 'passage', { tokenBudget: 0 }), /token budget must be a positive integer/);
  } finally {
    enc.dispose();
  }
});
