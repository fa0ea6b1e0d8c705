/**
 * bf16 (autocast) embeddings against fp32 ones on the fixture models' text cases: cosine >= 0.999 each, the
 * accuracy `--dtype auto` trades for speed on CPUs with native bf16 (src/tensor/cpu.ts). The fp32 side is
 * itself checked against sentence-transformers (models.parity.test.ts); here it is checked to stay within 1e-5
 * of the oracle, so the comparison is against the reference, not only against ourselves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SentenceEncoder } from '../src/models/index.js';
import { cosine, fixturesDir, maxAbsDiff, readJson } from './helpers.js';

interface Oracle {
  text_cases: { text: string; embedding: number[] }[];
}

for (const name of ['gtr-t5-tiny-relu', 'tasb-distilbert-tiny', 'bert-tiny-mean']) {
  test(`${name}: bf16 embeddings have cosine >= 0.999 to the fp32 (sentence-transformers) ones`, () => {
    const dir = join(fixturesDir, 'models', name);
    const oracle = readJson<Oracle>(join(dir, 'oracle.json'));
    const texts = oracle.text_cases.map((c) => c.text);
    const fp32 = SentenceEncoder.load(dir, { dtype: 'fp32' });
    const bf16 = SentenceEncoder.load(dir, { dtype: 'bf16' });
    try {
      const ref = fp32.embed(texts, 'passage', { batchSize: 4 }).vectors;
      const got = bf16.embed(texts, 'passage', { batchSize: 4 }).vectors;
      const dim = fp32.dim;
      let worst = 1;
      oracle.text_cases.forEach((c, i) => {
        assert.ok(maxAbsDiff(ref.subarray(i * dim, (i + 1) * dim), c.embedding) <= 1e-5, `${name} case ${i}: fp32 vs oracle`);
        worst = Math.min(worst, cosine(got.subarray(i * dim, (i + 1) * dim), c.embedding));
      });
      assert.ok(worst >= 0.999, `${name}: worst cosine ${worst}`);
      // bf16 really ran in lower precision (a silent fp32 fallback would pass the bound trivially).
      assert.ok(maxAbsDiff(got, ref) > 1e-6, `${name}: bf16 output identical to fp32`);
    } finally {
      fp32.dispose();
      bf16.dispose();
    }
  });
}
