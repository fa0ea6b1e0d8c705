/**
 * Weights in bf16 (half the memory) against sentence-transformers' fp32 outputs on the fixture models, fp16-stored
 * checkpoints (as the published GTR ones are) loaded as bf16 or fp32, and the auto rule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseWeightsDtype, SentenceEncoder, type Precision, type WeightsDtype } from '../src/models/index.js';
import { openSafetensors, writeSafetensors, type HostTensor } from '../src/io/index.js';
import { fromHost, noGrad, scope, tensor } from '../src/tensor/index.js';
import { cosine, fixturesDir, readJson } from './helpers.js';

/** Stated tolerance: every fixture case's embedding has cosine >= this to sentence-transformers' fp32 one. */
const BF16_WEIGHTS_MIN_COSINE = 0.999;
/** bf16 weights and bf16 compute (autocast) together. */
const BF16_ALL_MIN_COSINE = 0.99;
const MODELS = ['gtr-t5-tiny-relu', 'tasb-distilbert-tiny', 'bert-tiny-mean'];

interface Oracle {
  cases: { input_ids: number[]; attention_mask: number[]; token_type_ids?: number[]; embedding: number[] }[];
}

/** The smallest cosine over the oracle's cases. */
function worstCosine(dir: string, opts: { dtype: Precision; weightsDtype: WeightsDtype }): number {
  const oracle = readJson<Oracle>(join(dir, 'oracle.json'));
  const enc = SentenceEncoder.load(dir, opts);
  try {
    let worst = 1;
    for (const c of oracle.cases) {
      const got = noGrad(() =>
        scope(() => {
          const shape = [1, c.input_ids.length];
          const batch = {
            inputIds: tensor(c.input_ids, { shape, dtype: 'int64' }),
            attentionMask: tensor(c.attention_mask, { shape, dtype: 'int64' }),
            ...(c.token_type_ids ? { tokenTypeIds: tensor(c.token_type_ids, { shape, dtype: 'int64' }) } : {}),
          };
          return enc.forward(batch).toFloat32Array();
        }),
      );
      worst = Math.min(worst, cosine(got, c.embedding));
    }
    return worst;
  } finally {
    enc.dispose();
  }
}

for (const name of MODELS) {
  const dir = join(fixturesDir, 'models', name);

  test(`${name}: bf16 weights keep every embedding within cosine ${BF16_WEIGHTS_MIN_COSINE} of sentence-transformers (fp32)`, () => {
    const enc = SentenceEncoder.load(dir, { weightsDtype: 'bf16' });
    try {
      assert.equal(enc.weights.dtype, 'bfloat16');
      for (const [key, p] of enc.namedParameters()) assert.equal(p.dtype, p.ndim >= 2 ? 'bfloat16' : 'float32', key);
    } finally {
      enc.dispose();
    }
    const fp32 = worstCosine(dir, { dtype: 'fp32', weightsDtype: 'fp32' });
    const bf16 = worstCosine(dir, { dtype: 'fp32', weightsDtype: 'bf16' });
    const both = worstCosine(dir, { dtype: 'bf16', weightsDtype: 'bf16' });
    assert.ok(fp32 > 0.999999, `fp32 weights: ${fp32}`);
    assert.ok(bf16 >= BF16_WEIGHTS_MIN_COSINE, `bf16 weights: worst cosine ${bf16}`);
    assert.ok(bf16 < fp32, 'bf16 weights do change the numbers (they were really rounded)');
    assert.ok(both >= BF16_ALL_MIN_COSINE, `bf16 weights and compute: worst cosine ${both}`);
  });
}

test('an fp16-stored checkpoint (as published GTR is) loads as fp32 or bf16, never fp16, and matches the fp32 reference', () => {
  const src = join(fixturesDir, 'models', 'gtr-t5-tiny-relu');
  const dir = mkdtempSync(join(tmpdir(), 'densekit-fp16-'));
  try {
    cpSync(src, dir, { recursive: true });
    const file = openSafetensors(join(src, 'model.safetensors'));
    const half = new Map<string, HostTensor>();
    for (const k of file.keys()) half.set(k, scope(() => fromHost(file.get(k), { dtype: 'float16' }).toHost()));
    writeSafetensors(join(dir, 'model.safetensors'), half);
    assert.equal(openSafetensors(join(dir, 'model.safetensors')).info('shared.weight').dtype, 'float16');
    for (const [weightsDtype, want] of [['fp32', 'float32'], ['bf16', 'bfloat16'], ['auto', 'float32']] as const) {
      const enc = SentenceEncoder.load(dir, { weightsDtype });
      try {
        assert.equal(enc.weights.dtype, want);
        for (const [key, p] of enc.namedParameters()) assert.notEqual(p.dtype, 'float16', key);
      } finally {
        enc.dispose();
      }
    }
    assert.ok(worstCosine(dir, { dtype: 'fp32', weightsDtype: 'fp32' }) >= 0.9999, 'fp16 storage, fp32 weights');
    assert.ok(worstCosine(dir, { dtype: 'fp32', weightsDtype: 'bf16' }) >= BF16_WEIGHTS_MIN_COSINE, 'fp16 storage, bf16 weights');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('auto: fp32 when it fits, bf16 when it would not or when computing in bf16; the choice is said in one line', () => {
  const gib = 2 ** 30;
  const base = { requested: 'auto' as const, compute: 'fp32' as const, fp32Bytes: 4 * gib, device: 'cpu' as const };
  assert.equal(chooseWeightsDtype({ ...base, availableBytes: 16 * gib }).dtype, 'float32');
  const tight = chooseWeightsDtype({ ...base, availableBytes: 5 * gib });
  assert.equal(tight.dtype, 'bfloat16');
  assert.match(tight.reason, /^weights bf16 \(auto: fp32 would not fit in the 5\.0 GiB available; fp32 4\.0 GiB, bf16 2\.0 GiB\)$/);
  assert.equal(chooseWeightsDtype({ ...base, compute: 'bf16', availableBytes: 64 * gib }).dtype, 'bfloat16');
  assert.equal(chooseWeightsDtype({ ...base, requested: 'fp32', availableBytes: gib }).dtype, 'float32');
  assert.equal(chooseWeightsDtype({ ...base, requested: 'bf16', availableBytes: 64 * gib }).dtype, 'bfloat16');
  const lines: string[] = [];
  const enc = SentenceEncoder.load(join(fixturesDir, 'models', 'gtr-t5-tiny-relu'), { log: (l) => lines.push(l) });
  enc.dispose();
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /weights fp32 \(auto: exact, and it fits/);
});
