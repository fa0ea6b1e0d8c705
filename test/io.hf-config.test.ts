/**
 * config.json parsing (BERT, DistilBERT, T5 v1.0 / v1.1) on the fixture models and variants of them that real
 * checkpoints have (T5 v1.1 gated FFN). Weights are checked against the config where they are loaded (models/weights.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseHfConfig, readHfConfig, type T5Config } from '../src/io/hf-config.js';
import { fixturesDir, expectOneLineError } from './helpers.js';

const models = join(fixturesDir, 'models');
const raw = (name: string): Record<string, unknown> => JSON.parse(readFileSync(join(models, name, 'config.json'), 'utf8')) as Record<string, unknown>;
const tmp = mkdtempSync(join(tmpdir(), 'densekit-io-cfg-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));


test('BERT fixture config', () => {
  const j = raw('bert-tiny-mean');
  const c = readHfConfig(join(models, 'bert-tiny-mean'));
  assert.equal(c.modelType, 'bert');
  if (c.modelType !== 'bert') return;
  assert.deepEqual(
    [c.vocabSize, c.hiddenSize, c.numHiddenLayers, c.numAttentionHeads, c.intermediateSize, c.hiddenAct, c.maxPositionEmbeddings, c.typeVocabSize, c.layerNormEps, c.padTokenId, c.positionEmbeddingType, c.hiddenDropoutProb, c.attentionProbsDropoutProb],
    [j.vocab_size, j.hidden_size, j.num_hidden_layers, j.num_attention_heads, j.intermediate_size, j.hidden_act, j.max_position_embeddings, j.type_vocab_size, j.layer_norm_eps, j.pad_token_id, j.position_embedding_type, j.hidden_dropout_prob, j.attention_probs_dropout_prob],
  );
});

test('DistilBERT fixture config', () => {
  const j = raw('tasb-distilbert-tiny');
  const c = readHfConfig(join(models, 'tasb-distilbert-tiny', 'config.json'));
  assert.equal(c.modelType, 'distilbert');
  if (c.modelType !== 'distilbert') return;
  assert.deepEqual(
    [c.vocabSize, c.dim, c.nLayers, c.nHeads, c.hiddenDim, c.activation, c.maxPositionEmbeddings, c.sinusoidalPosEmbds, c.dropout, c.attentionDropout],
    [j.vocab_size, j.dim, j.n_layers, j.n_heads, j.hidden_dim, j.activation, j.max_position_embeddings, j.sinusoidal_pos_embds, j.dropout, j.attention_dropout],
  );
});

test('T5 v1.0 (GTR) fixture config: relu, not gated', () => {
  const j = raw('gtr-t5-tiny-relu');
  const c = readHfConfig(join(models, 'gtr-t5-tiny-relu')) as T5Config;
  assert.equal(c.modelType, 't5');
  assert.deepEqual(
    [c.vocabSize, c.dModel, c.dKv, c.numHeads, c.dFf, c.numLayers, c.relativeAttentionNumBuckets, c.relativeAttentionMaxDistance, c.layerNormEpsilon, c.feedForwardProj],
    [j.vocab_size, j.d_model, j.d_kv, j.num_heads, j.d_ff, j.num_layers, j.relative_attention_num_buckets, j.relative_attention_max_distance, j.layer_norm_epsilon, j.feed_forward_proj],
  );
  assert.deepEqual(c.feedForward, { gated: false, act: 'relu' });
  assert.equal(c.tieWordEmbeddings, true);
});

test('T5 feed_forward_proj is interpreted as transformers does ("gated-gelu" means gelu_new)', () => {
  const base = raw('gtr-t5-tiny-relu');
  const ff = (proj: string | undefined) => {
    const j = { ...base, feed_forward_proj: proj };
    return (parseHfConfig(j, 'config.json') as T5Config).feedForward;
  };
  assert.deepEqual(ff('gated-gelu'), { gated: true, act: 'gelu_new' });
  assert.deepEqual(ff('gated-gelu_new'), { gated: true, act: 'gelu_new' });
  assert.deepEqual(ff('gated-silu'), { gated: true, act: 'silu' });
  assert.deepEqual(ff('gated-relu'), { gated: true, act: 'relu' });
  assert.deepEqual(ff('gelu'), { gated: false, act: 'gelu' });
  // Configs from before feed_forward_proj existed (the original t5-base) default to relu.
  assert.deepEqual(ff(undefined), { gated: false, act: 'relu' });
  expectOneLineError(() => ff('dense-gelu'), /config\.json/, /field "feed_forward_proj"/, /"dense-gelu"/);
  expectOneLineError(() => ff('gated-gelu-x'), /field "feed_forward_proj"/);
  expectOneLineError(() => ff('gated-mish'), /field "feed_forward_proj"/, /"mish" is not supported/);
});

test('T5 v1.1-style config: d_kv * num_heads != d_model, untied, defaults for old fields', () => {
  const j = { model_type: 't5', vocab_size: 32128, d_model: 512, d_kv: 64, num_heads: 6, d_ff: 1024, num_layers: 8, feed_forward_proj: 'gated-gelu', tie_word_embeddings: false };
  const c = parseHfConfig(j, 'v11/config.json') as T5Config;
  assert.equal(c.numHeads * c.dKv, 384);
  assert.equal(c.tieWordEmbeddings, false);
  assert.equal(c.relativeAttentionMaxDistance, 128);
  assert.equal(c.relativeAttentionNumBuckets, 32);
  assert.equal(c.layerNormEpsilon, 1e-6);
});

test('model type from architectures when model_type is absent; unsupported types and missing fields', () => {
  const j = raw('bert-tiny-mean');
  delete j.model_type;
  assert.equal(parseHfConfig(j, 'c.json').modelType, 'bert');
  const d = raw('tasb-distilbert-tiny');
  delete d.model_type;
  assert.equal(parseHfConfig(d, 'c.json').modelType, 'distilbert');
  expectOneLineError(() => parseHfConfig({ model_type: 'roberta' }, 'x/config.json'), /x\/config\.json/, /"model_type"/, /roberta/);
  expectOneLineError(() => parseHfConfig({ architectures: ['GPT2Model'] }, 'x/config.json'), /"architectures"/, /GPT2Model/);
  expectOneLineError(() => parseHfConfig({}, 'x/config.json'), /"model_type" is missing/);
  const noHidden = raw('bert-tiny-mean');
  delete noHidden.hidden_size;
  expectOneLineError(() => parseHfConfig(noHidden, 'x/config.json'), /x\/config\.json: field "hidden_size": is missing/);
  expectOneLineError(() => parseHfConfig({ ...raw('bert-tiny-mean'), position_embedding_type: 'relative_key' }, 'x/config.json'), /field "position_embedding_type"/, /only "absolute"/);
  expectOneLineError(() => parseHfConfig({ ...raw('bert-tiny-mean'), num_hidden_layers: 2.5 }, 'x/config.json'), /field "num_hidden_layers"/);
  expectOneLineError(() => parseHfConfig({ ...raw('tasb-distilbert-tiny'), activation: 'mish' }, 'x/config.json'), /field "activation"/);
  const bad = join(tmp, 'config.json');
  writeFileSync(bad, '{ nope');
  expectOneLineError(() => readHfConfig(tmp), /config\.json: not valid JSON/);
});

