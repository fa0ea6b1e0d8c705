/**
 * The ColBERT in-batch teacher on a neural-ranking-kd-layout checkpoint built from the tiny DistilBERT fixture:
 * scores against a direct transcription of the released forward_aggregation (compressor, 8 [MASK] query tokens,
 * dot products, document padding at -10000, max over document tokens, query padding zeroed, sum), computed here
 * in float64 loops from the encoder's hidden states.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tensor, noGrad } from '../src/tensor/index.js';
import { loadStateDict, writeSafetensors, type HostTensor } from '../src/io/index.js';
import { loadTransformer } from '../src/models/index.js';
import { loadTokenizer, prepareText } from '../src/text/index.js';
import { ColbertTeacher } from '../src/train/teachers/index.js';
import { Rng } from '../src/train/rng.js';
import { sharedDir } from './helpers.js';

const base = join(sharedDir, 'fixtures/models/tasb-distilbert-tiny');

function makeCheckpoint(): { dir: string; weight: Float32Array; bias: Float32Array } {
  const dir = mkdtempSync(join(tmpdir(), 'densekit-colbert-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'ColBERT', bert_model: base, compression_dim: 8 }));
  const rng = new Rng(3);
  const weight = Float32Array.from({ length: 8 * 64 }, () => 0.2 * rng.normal());
  const bias = Float32Array.from({ length: 8 }, () => 0.1 * rng.normal());
  const tensors = new Map<string, HostTensor>();
  for (const [k, v] of loadStateDict(base)) tensors.set(`bert_model.${k}`, v);
  tensors.set('compressor.weight', { dtype: 'float32', shape: [8, 64], data: new Uint8Array(weight.buffer) });
  tensors.set('compressor.bias', { dtype: 'float32', shape: [8], data: new Uint8Array(bias.buffer) });
  writeSafetensors(join(dir, 'model.safetensors'), tensors);
  return { dir, weight, bias };
}

test('ColBERT teacher: MaxSim scores of every query-passage combination match the released scoring', () => {
  const { dir, weight, bias } = makeCheckpoint();
  const queries = ['what is the capital of france', 'quick brown fox', 'deep learning'];
  const passages = ['the capital of france is paris', 'a quick brown fox jumps over the lazy dog and more words here', 'information retrieval'];
  const teacher = ColbertTeacher.load(dir, { queryMaxLength: 12, passageMaxLength: 10 });
  const scores = teacher.scores(queries, passages).toFloat32Array();
  teacher.dispose();

  const tokenizer = loadTokenizer(base);
  const { encoder } = loadTransformer(base);
  const mask = tokenizer.tokenToId('[MASK]')!;
  const vectors = (text: string, maxLength: number, augment: boolean): number[][] => {
    const ids = [...tokenizer.encode(prepareText(text, { strip: true, lowercase: true }), { maxLength }).ids];
    if (augment) for (let i = 0; i < 8; i++) ids.push(mask);
    const hidden = noGrad(() => encoder.forward({
      inputIds: tensor(ids, { shape: [1, ids.length], dtype: 'int64' }),
      attentionMask: tensor(ids.map(() => 1), { shape: [1, ids.length], dtype: 'int64' }),
    }).toFloat32Array());
    return ids.map((_, t) => Array.from({ length: 8 }, (_, o) => {
      let s = bias[o]!;
      for (let h = 0; h < 64; h++) s += weight[o * 64 + h]! * hidden[t * 64 + h]!;
      return s;
    }));
  };
  // Unpadded per-text encodings: padding must not change a score (document pads are never the max, query pads add 0).
  queries.forEach((q, i) => {
    const qv = vectors(q, 12, true);
    passages.forEach((p, j) => {
      const pv = vectors(p, 10, false);
      let expected = 0;
      for (const qt of qv) expected += Math.max(...pv.map((dt) => dt.reduce((s, x, o) => s + x * qt[o]!, 0)));
      const actual = scores[i * passages.length + j]!;
      assert.ok(Math.abs(actual - expected) <= 1e-4 * Math.max(1, Math.abs(expected)), `score(q${i}, p${j}) = ${actual}, expected ${expected}`);
    });
  });
});

test('ColBERT teacher: a folder that is not a neural-ranking-kd ColBERT checkpoint is one clear error', () => {
  assert.throws(() => ColbertTeacher.load(base), /config\.json: not a neural-ranking-kd ColBERT checkpoint \(expected "model_type": "ColBERT" and "bert_model"\), got model_type "distilbert"/);
});
