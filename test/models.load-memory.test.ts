/**
 * Loading without a second copy: a GTR-shaped checkpoint of a few hundred MB loads in a fresh process with its
 * peak resident memory at most 1.1x the weights it ends up holding (fp16 storage -> fp32 or bf16 weights, as the
 * published GTR checkpoints load; fp32 storage -> fp32 weights). Memory, not time, is asserted.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProbe, writeRandomGtr, type T5Shape } from '../bench/t5-checkpoint.js';
import { fixturesDir } from './helpers.js';

/** 106M parameters (fp16 file 210 MB); the largest tensor (a feed-forward matrix) is 2% of the whole. */
const SHAPE: T5Shape = { dModel: 1024, dKv: 64, numHeads: 8, dFf: 2048, numLayers: 16, vocabSize: 1024, outDim: 768 };
const MAX_RATIO = 1.1;
const work = mkdtempSync(join(tmpdir(), 'densekit-load-memory-'));
after(() => rmSync(work, { recursive: true, force: true }));
const tokenizer = join(fixturesDir, 'models', 'gtr-t5-tiny-relu');

for (const storage of ['float16', 'float32'] as const) {
  const dir = join(work, storage);
  for (const weightsDtype of storage === 'float16' ? (['fp32', 'bf16'] as const) : (['fp32'] as const)) {
    test(`${storage} checkpoint -> ${weightsDtype} weights: peak resident memory while loading <= ${MAX_RATIO}x the weights`, () => {
      writeRandomGtr(dir, SHAPE, storage, tokenizer);
      const fileBytes = statSync(join(dir, 'model.safetensors')).size;
      assert.ok(fileBytes > 100e6, `a few hundred MB: ${fileBytes}`);
      const r = runProbe({ model: dir, weightsDtype });
      assert.equal(r.weightsDtype, weightsDtype === 'fp32' ? 'float32' : 'bfloat16');
      const ratio = r.loadPeakBytes / r.weightBytes;
      assert.ok(ratio <= MAX_RATIO, `peak ${(r.loadPeakBytes / 2 ** 20).toFixed(1)} MiB for ${(r.weightBytes / 2 ** 20).toFixed(1)} MiB of weights: ${ratio.toFixed(3)}x`);
      assert.ok(ratio >= 0.95, `the probe saw the weights arrive: ${ratio.toFixed(3)}x`);
    });
  }
}
