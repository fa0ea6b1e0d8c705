/** sentence-transformers folders: reading the fixture models, plain HF folders, and writing (atomically) a layout that reads back. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSentenceTransformer, writeSentenceTransformer, type ModuleSpec } from '../src/io/sentence-transformers.js';
import { openSafetensors } from '../src/io/safetensors.js';
import { loadStateDict } from '../src/io/state-dict.js';
import type { HostTensor } from '../src/io/host-tensor.js';
import { fixturesDir, readJson, expectOneLineError } from './helpers.js';

const models = join(fixturesDir, 'models');
const tmp = mkdtempSync(join(tmpdir(), 'densekit-io-stm-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const strip = (m: ModuleSpec): unknown => (m.kind === 'Dense' ? { ...m, weight: undefined, biasTensor: undefined } : m);
const f32 = (shape: number[], seed: number): HostTensor => {
  const v = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(seed + i));
  return { dtype: 'float32', shape, data: new Uint8Array(v.buffer) };
};

test('GTR fixture: Transformer -> mean Pooling -> Dense (no bias, identity) -> Normalize without its folder', () => {
  const dir = join(models, 'gtr-t5-tiny-relu');
  const spec = readSentenceTransformer(dir);
  assert.equal(spec.dir, dir);
  assert.equal(spec.maxSeqLength, 64);
  assert.equal(spec.doLowerCase, false);
  assert.equal(spec.similarity, undefined);
  assert.deepEqual(spec.modules.map(strip), [
    { kind: 'Transformer', path: '' },
    { kind: 'Pooling', path: '1_Pooling', mode: { cls: false, max: false, mean: true, meanSqrtLen: false }, dim: 64 },
    { kind: 'Dense', path: '2_Dense', inFeatures: 64, outFeatures: 64, bias: false, activation: 'identity', weight: undefined, biasTensor: undefined },
    { kind: 'Normalize', path: '3_Normalize' },
  ]);
  const dense = spec.modules[2] as Extract<ModuleSpec, { kind: 'Dense' }>;
  const ref = openSafetensors(join(dir, '2_Dense/model.safetensors')).get('linear.weight');
  assert.deepEqual(dense.weight.shape, [64, 64]);
  assert.ok(Buffer.from(dense.weight.data).equals(Buffer.from(ref.data)));
  assert.equal(dense.biasTensor, undefined);
  assert.ok(!existsSync(join(dir, '3_Normalize')));
});

test('TAS-B fixture: CLS pooling, no normalization; BERT fixture: mean + Normalize', () => {
  const tasb = readSentenceTransformer(join(models, 'tasb-distilbert-tiny'));
  assert.deepEqual(tasb.modules.map((m) => m.kind), ['Transformer', 'Pooling']);
  assert.deepEqual((tasb.modules[1] as Extract<ModuleSpec, { kind: 'Pooling' }>).mode, { cls: true, max: false, mean: false, meanSqrtLen: false });
  const bert = readSentenceTransformer(join(models, 'bert-tiny-mean'));
  assert.deepEqual(bert.modules.map((m) => m.kind), ['Transformer', 'Pooling', 'Normalize']);
});

test('a folder without modules.json is a plain HF model: Transformer + mean pooling over hidden size', () => {
  const dir = join(tmp, 'plain-bert');
  mkdirSync(dir);
  for (const f of ['config.json', 'model.safetensors', 'vocab.txt']) copyFileSync(join(models, 'bert-tiny-mean', f), join(dir, f));
  const spec = readSentenceTransformer(dir);
  assert.deepEqual(spec.modules, [
    { kind: 'Transformer', path: '' },
    { kind: 'Pooling', path: '', mode: { cls: false, max: false, mean: true, meanSqrtLen: false }, dim: 64 },
  ]);
  assert.equal(spec.maxSeqLength, undefined);
});

test('writes a layout that reads back: Dense with bias, out != in, tanh; several pooling modes; prompts', () => {
  const src = join(models, 'gtr-t5-tiny-relu');
  const weights = loadStateDict(src);
  const out = join(tmp, 'written');
  const weight = f32([32, 128], 1);
  const bias = f32([32], 2);
  writeSentenceTransformer(out, {
    weights, sourceDir: src,
    modules: [
      { kind: 'Transformer' },
      { kind: 'Pooling', mode: { cls: false, max: true, mean: true, meanSqrtLen: false }, dim: 64 },
      { kind: 'Dense', inFeatures: 128, outFeatures: 32, bias: true, activation: 'tanh', weight, biasTensor: bias },
      { kind: 'Normalize' },
    ],
    maxSeqLength: 128, similarity: 'cosine', prompts: { query: 'query: ', passage: '' },
  });
  assert.deepEqual(readJson(join(out, 'modules.json')), [
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
    { idx: 2, name: '2', path: '2_Dense', type: 'sentence_transformers.models.Dense' },
    { idx: 3, name: '3', path: '3_Normalize', type: 'sentence_transformers.models.Normalize' },
  ]);
  assert.deepEqual(readJson(join(out, '2_Dense/config.json')),
    { in_features: 128, out_features: 32, bias: true, activation_function: 'torch.nn.modules.activation.Tanh' });
  assert.deepEqual(readJson(join(out, '1_Pooling/config.json')), {
    word_embedding_dimension: 64, pooling_mode_cls_token: false, pooling_mode_mean_tokens: true,
    pooling_mode_max_tokens: true, pooling_mode_mean_sqrt_len_tokens: false,
  });
  assert.deepEqual(readJson(join(out, 'sentence_bert_config.json')), { max_seq_length: 128, do_lower_case: false });
  assert.deepEqual(readJson(join(out, 'config.json')), readJson(join(src, 'config.json')));
  for (const f of ['spiece.model', 'tokenizer_config.json', 'special_tokens_map.json']) {
    assert.ok(readFileSync(join(out, f)).equals(readFileSync(join(src, f))), f);
  }
  assert.equal(openSafetensors(join(out, 'model.safetensors')).metadata.format, 'pt');

  const back = readSentenceTransformer(out);
  assert.equal(back.maxSeqLength, 128);
  assert.equal(back.similarity, 'cosine');
  assert.deepEqual(back.prompts, { query: 'query: ', passage: '' });
  const dense = back.modules[2] as Extract<ModuleSpec, { kind: 'Dense' }>;
  assert.deepEqual([dense.inFeatures, dense.outFeatures, dense.bias, dense.activation], [128, 32, true, 'tanh']);
  assert.ok(Buffer.from(dense.weight.data).equals(Buffer.from(weight.data)));
  assert.ok(Buffer.from(dense.biasTensor!.data).equals(Buffer.from(bias.data)));
  const reread = loadStateDict(out);
  assert.deepEqual([...reread.keys()].sort(), [...weights.keys()].sort());
  for (const [k, t] of weights) assert.ok(Buffer.from(reread.get(k)!.data).equals(Buffer.from(t.data)), k);
});

test('writing replaces an existing folder whole and leaves no temp folders; a failed write leaves nothing', () => {
  const parent = join(tmp, 'atomic');
  mkdirSync(parent);
  const out = join(parent, 'model');
  const src = join(models, 'bert-tiny-mean');
  const weights = loadStateDict(src);
  const base = { weights, sourceDir: src, modules: [{ kind: 'Transformer' as const }, { kind: 'Pooling' as const, mode: { cls: true, max: false, mean: false, meanSqrtLen: false }, dim: 64 }] };
  writeSentenceTransformer(out, { ...base, modules: [...base.modules, { kind: 'Normalize' }] });
  assert.ok(existsSync(join(out, '2_Normalize')));
  writeSentenceTransformer(out, base);
  assert.ok(!existsSync(join(out, '2_Normalize')), 'old content must not survive');
  assert.deepEqual(readdirSync(parent), ['model']);

  const failed = join(parent, 'failed');
  assert.throws(() => writeSentenceTransformer(failed, {
    ...base, modules: [...base.modules, { kind: 'Dense', inFeatures: 64, outFeatures: 8, bias: false, activation: 'identity', weight: f32([8, 32], 0) }],
  }), /module 2 \(Dense\): weight has shape \[8, 32\], expected \[8, 64\]/);
  assert.deepEqual(readdirSync(parent), ['model']);
});

test('bad module folders fail with one line naming the file and field', () => {
  const make = (name: string, mutate: (dir: string) => void): string => {
    const dir = join(tmp, name);
    cpSync(join(models, 'gtr-t5-tiny-relu'), dir, { recursive: true });
    mutate(dir);
    return dir;
  };
  const unknown = make('unknown-type', (d) => {
    const list = readJson<Array<Record<string, unknown>>>(join(d, 'modules.json'));
    list[2]!.type = 'sentence_transformers.models.CNN';
    writeFileSync(join(d, 'modules.json'), JSON.stringify(list));
  });
  expectOneLineError(() => readSentenceTransformer(unknown), /modules\.json/, /modules\.json\[2\]/, /CNN/);

  const noMode = make('no-mode', (d) => writeFileSync(join(d, '1_Pooling/config.json'), JSON.stringify({ word_embedding_dimension: 64, pooling_mode_mean_tokens: false })));
  expectOneLineError(() => readSentenceTransformer(noMode), /1_Pooling\/config\.json: no pooling mode is enabled/);

  const lastToken = make('last-token', (d) => writeFileSync(join(d, '1_Pooling/config.json'), JSON.stringify({ word_embedding_dimension: 64, pooling_mode_lasttoken: true })));
  expectOneLineError(() => readSentenceTransformer(lastToken), /1_Pooling\/config\.json: field "pooling_mode_lasttoken"/);

  const noWeights = make('no-dense-weights', (d) => rmSync(join(d, '2_Dense/model.safetensors')));
  expectOneLineError(() => readSentenceTransformer(noWeights), /2_Dense: Dense module has no weights/);

  const wrongShape = make('dense-shape', (d) => writeFileSync(join(d, '2_Dense/config.json'), JSON.stringify({ in_features: 64, out_features: 32, bias: false, activation_function: 'torch.nn.modules.linear.Identity' })));
  expectOneLineError(() => readSentenceTransformer(wrongShape), /2_Dense\/model\.safetensors: tensor linear\.weight has shape \[64, 64\], config implies \[32, 64\]/);

  const badAct = make('dense-act', (d) => writeFileSync(join(d, '2_Dense/config.json'), JSON.stringify({ in_features: 64, out_features: 64, bias: false, activation_function: 'torch.nn.modules.activation.Softplus' })));
  expectOneLineError(() => readSentenceTransformer(badAct), /2_Dense\/config\.json: field "activation_function"/, /Softplus/);

  const missingBias = make('dense-bias', (d) => writeFileSync(join(d, '2_Dense/config.json'), JSON.stringify({ in_features: 64, out_features: 64, bias: true, activation_function: 'torch.nn.modules.linear.Identity' })));
  expectOneLineError(() => readSentenceTransformer(missingBias), /tensor linear\.bias is missing/);

  expectOneLineError(() => readSentenceTransformer(join(tmp, 'nowhere')), /nowhere: model folder does not exist/);
});
