/**
 * The shape families of the published GTR-XL/XXL checkpoints (T5 v1.0 and v1.1, d_kv * num_heads != d_model,
 * the d_model -> smaller Dense, sharded safetensors and sharded .bin, fp16 storage) load as published and match
 * a plain-PyTorch float64 reference: test/fixtures/t5-shapes/make.py wrote the tiny models and their outputs.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SentenceEncoder, type WeightsDtype } from '../src/models/index.js';
import { noGrad, scope, tensor } from '../src/tensor/index.js';
import { expectOneLineError, fixturesDir, maxAbsDiff, readJson, repoRoot } from './helpers.js';

interface Oracle {
  cases: { input_ids: number[]; embedding: number[] }[];
  padded_batch: { input_ids: number[][]; attention_mask: number[][]; embeddings: number[][] };
}

const FAMILIES = ['v11-gated-fp16-sharded-st', 'v10-relu-sharded-bin'];
/** fp32 compute against the float64 reference. */
const TOL = 1e-5;
const work = mkdtempSync(join(tmpdir(), 'densekit-t5-shapes-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** The family's folder plus the GTR fixture's tokenizer (the reference feeds token ids; loading needs one). */
function modelDir(family: string): string {
  const dir = join(work, family);
  cpSync(join(repoRoot, 'test/fixtures/t5-shapes', family), dir, { recursive: true });
  for (const f of ['spiece.model', 'tokenizer_config.json', 'special_tokens_map.json'])
    cpSync(join(fixturesDir, 'models/gtr-t5-tiny-relu', f), join(dir, f));
  return dir;
}

function embed(enc: SentenceEncoder, ids: number[][], mask: number[][]): Float32Array {
  return noGrad(() =>
    scope(() => {
      const shape = [ids.length, ids[0]!.length];
      return enc.forward({ inputIds: tensor(ids.flat(), { shape, dtype: 'int64' }), attentionMask: tensor(mask.flat(), { shape, dtype: 'int64' }) }).toFloat32Array();
    }),
  );
}

function worstCosine(a: Float32Array, b: number[], dim: number): number {
  let worst = 1;
  for (let r = 0; r < a.length / dim; r++) {
    let ab = 0, aa = 0, bb = 0;
    for (let i = r * dim; i < (r + 1) * dim; i++) {
      ab += a[i]! * b[i]!;
      aa += a[i]! * a[i]!;
      bb += b[i]! * b[i]!;
    }
    worst = Math.min(worst, ab / Math.sqrt(aa * bb));
  }
  return worst;
}

for (const family of FAMILIES) {
  const dir = modelDir(family);
  const oracle = readJson<Oracle>(join(dir, 'oracle.json'));

  for (const weightsDtype of ['fp32', 'bf16'] as WeightsDtype[]) {
    test(`${family}, ${weightsDtype} weights: every case and the padded batch match the float64 reference`, () => {
      const enc = SentenceEncoder.load(dir, { weightsDtype });
      try {
        assert.equal(enc.dim, oracle.cases[0]!.embedding.length);
        const { input_ids: ids, attention_mask: mask, embeddings } = oracle.padded_batch;
        const batch = embed(enc, ids, mask);
        if (weightsDtype === 'fp32') {
          for (const [i, c] of oracle.cases.entries()) {
            const got = embed(enc, [c.input_ids], [c.input_ids.map(() => 1)]);
            assert.ok(maxAbsDiff(got, c.embedding) <= TOL, `case ${i} (len ${c.input_ids.length}): ${maxAbsDiff(got, c.embedding)}`);
          }
          assert.ok(maxAbsDiff(batch, embeddings.flat()) <= TOL, `padded batch: ${maxAbsDiff(batch, embeddings.flat())}`);
        } else {
          const cos = worstCosine(batch, embeddings.flat(), enc.dim);
          assert.ok(cos >= 0.999, `bf16 weights: worst cosine ${cos}`);
        }
      } finally {
        enc.dispose();
      }
    });
  }
}

test('a corrupt byte in a streamed .bin shard is caught by its CRC-32: one line naming the shard', () => {
  const dir = join(work, 'corrupt-bin');
  cpSync(modelDir('v10-relu-sharded-bin'), dir, { recursive: true });
  const shard = join(dir, 'pytorch_model-00001-of-00002.bin');
  const bytes = readFileSync(shard);
  bytes[Math.floor(bytes.length / 2)] ^= 0x55;
  writeFileSync(shard, bytes);
  expectOneLineError(() => SentenceEncoder.load(dir, { weightsDtype: 'fp32' }), /pytorch_model-00001-of-00002\.bin/, /CRC-32 mismatch/);
});
