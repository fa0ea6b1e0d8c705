/**
 * One training step of each recipe against PyTorch (../shared/fixtures/training): scores, losses, every
 * gradient, and the parameters after one Adam / AdamW / Adafactor step, through the loss, step and optimizer
 * code the training loop uses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tensor, scope, type Tensor } from '../src/tensor/index.js';
import { SentenceEncoder } from '../src/models/index.js';
import { batchLoss } from '../src/train/step.js';
import { gtrLoss } from '../src/train/losses/index.js';
import { Adam, Adafactor, type NamedParameter } from '../src/train/optim/index.js';
import { sharedDir } from './helpers.js';
import { pathToFileURL } from 'node:url';

const shared = pathToFileURL(sharedDir + '/');
const fixture = (name: string) => JSON.parse(readFileSync(new URL(`fixtures/training/${name}`, shared), 'utf8'));
const modelDir = (name: string) => new URL(`fixtures/models/${name}`, shared).pathname;

interface Side { input_ids: number[][]; attention_mask: number[][] }
function tokenBatch(side: Side) {
  const b = side.input_ids.length;
  const l = side.input_ids[0]!.length;
  return {
    inputIds: tensor(side.input_ids.flat(), { shape: [b, l], dtype: 'int64' }),
    attentionMask: tensor(side.attention_mask.flat(), { shape: [b, l], dtype: 'int64' }),
  };
}

/** Fixture names drop sentence-transformers' module prefixes (`0.auto_model.`, `2.`). */
function fixtureName(name: string): string {
  return name.replace(/^0\.auto_model\./, '').replace(/^\d+\./, '');
}

function trainableParameters(model: SentenceEncoder): NamedParameter[] {
  const params = [...model.namedParameters()].map(([name, param]) => ({ name: fixtureName(name), param }));
  for (const p of params) p.param.requiresGrad_(true);
  return params;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < actual.length; i++) {
    const excess = Math.abs(actual[i]! - expected[i]!) - (atol + rtol * Math.abs(expected[i]!));
    if (excess > worst) {
      worst = excess;
      at = i;
    }
  }
  assert.ok(at < 0, `${what}: element ${at} is ${actual[at]}, expected ${expected[at]} (atol ${atol}, rtol ${rtol})`);
}

function checkGradients(params: NamedParameter[], fx: { param_names: string[]; grad_f32: Record<string, number[]> }): void {
  assert.deepEqual(params.map((p) => p.name).sort(), [...fx.param_names].sort());
  let globalMax = 0;
  for (const g of Object.values(fx.grad_f32)) for (const v of g) globalMax = Math.max(globalMax, Math.abs(v));
  for (const { name, param } of params) {
    const grad = param.grad;
    assert.ok(grad, `${name} has a gradient`);
    assertClose(grad.toFloat32Array(), Float32Array.from(fx.grad_f32[name]!), 1e-5 * globalMax, 0, `grad ${name}`);
    grad.dispose();
  }
}

function l2(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i]! * values[i]!;
  return Math.sqrt(s);
}

function checkStep(params: NamedParameter[], step: { params_after_full: Record<string, number[]>; params_after_norm: Record<string, number> }, skip: string[] = []): void {
  for (const { name, param } of params) {
    const after = param.toFloat32Array();
    if (step.params_after_full[name]) assertClose(after, Float32Array.from(step.params_after_full[name]!), 1e-6, 0, `after-step ${name}`);
    if (skip.includes(name)) continue;
    const norm = l2(after);
    const expected = step.params_after_norm[name]!;
    assert.ok(Math.abs(norm - expected) <= 1e-6 * Math.max(1, expected), `after-step norm ${name}: ${norm} vs ${expected}`);
  }
}

test('TAS-B step: dual-teacher Margin-MSE scores, losses, every gradient and one Adam step match PyTorch', () => {
  const fx = fixture('tasb-step.json');
  const model = SentenceEncoder.load(modelDir('tasb-distilbert-tiny'));
  model.train(false);
  const params = trainableParameters(model);
  scope(() => {
    const q = model.forward(tokenBatch(fx.batch.query));
    const p = model.forward(tokenBatch(fx.batch.positive));
    const n = model.forward(tokenBatch(fx.batch.negative));
    const b = fx.teacher.pos_score.length as number;
    const teacher = {
      scores: (_q: readonly string[], passages: readonly string[]): Tensor =>
        tensor((passages[0] === 'p0' ? fx.teacher.T_pos : fx.teacher.T_neg).flat(), { shape: [b, b], dtype: 'float32' }),
      dispose() {},
    };
    const ids = (prefix: string) => Array.from({ length: b }, (_, i) => `${prefix}${i}`);
    const { loss, parts } = batchLoss({ q, p, n }, {
      qids: ids('q'), queries: ids('q'), positiveIds: ids('p'), positives: ids('p'), negativeIds: ids('n'), negatives: ids('n'),
      posScores: Float32Array.from(fx.teacher.pos_score), negScores: Float32Array.from(fx.teacher.neg_score),
    }, { loss: 'tas-b', logitScale: 1, inBatchWeight: 0.75, teacher, gradientAccumulation: 1, gradCacheChunk: 0, dropoutSeed: 0 });
    assertClose(q.matmul(p.transpose(0, 1)).toFloat32Array(), fx.student_scores_f32.S_pos.flat(), 1e-4, 1e-5, 'S_pos');
    assertClose(q.matmul(n.transpose(0, 1)).toFloat32Array(), fx.student_scores_f32.S_neg.flat(), 1e-4, 1e-5, 'S_neg');
    assertClose([parts.l_pair!, parts.l_inb!, loss.item()], [fx.loss_f32.L_pair, fx.loss_f32.L_inb, fx.loss_f32.L], 0, 1e-5, 'losses');
    loss.backward();
  });
  checkGradients(params, fx);
  const opt = new Adam(params, { betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 });
  opt.step(1e-3);
  // k_lin biases have an exactly zero true gradient; Adam turns their float32 noise into lr-sized steps (README).
  checkStep(params, fx.optimizer_steps.adam, fx.f32_vs_f64.params_with_zero_true_gradient);
  opt.dispose();
  model.dispose();
});


test('GTR step: bidirectional in-batch softmax logits, losses, gradients, AdamW and Adafactor steps match PyTorch', () => {
  const fx = fixture('gtr-step.json');
  for (const optimizer of ['adamw', 'adafactor'] as const) {
    const model = SentenceEncoder.load(modelDir('gtr-t5-tiny-relu'));
    model.train(false);
    const params = trainableParameters(model);
    scope(() => {
      const q = model.forward(tokenBatch(fx.batch.query));
      const p = model.forward(tokenBatch(fx.batch.positive));
      const n = model.forward(tokenBatch(fx.batch.negative));
      assertClose(q.toFloat32Array(), fx.embeddings_f32.q_emb.flat(), 1e-5, 1e-5, 'q_emb');
      const ids = (prefix: string) => Array.from({ length: 4 }, (_, i) => `${prefix}${i}`);
      const { loss, parts } = batchLoss({ q, p, n }, {
        qids: ids('q'), queries: ids('q'), positiveIds: ids('p'), positives: ids('p'), negativeIds: ids('n'), negatives: ids('n'),
        posScores: new Float32Array(4), negScores: new Float32Array(4),
      }, { loss: 'gtr', logitScale: 100, inBatchWeight: 0, gradientAccumulation: 1, gradCacheChunk: 0, dropoutSeed: 0 });
      const r = gtrLoss({ queries: q, positives: p, negatives: n, logitScale: 100 });
      assertClose(r.logitsLeft.toFloat32Array(), fx.logits_f32.logits_left.flat(), 1e-4, 1e-5, 'logits_left');
      assertClose(r.logitsRight.toFloat32Array(), fx.logits_f32.logits_right.flat(), 1e-4, 1e-5, 'logits_right');
      assertClose([parts.ce_query_to_passage!, parts.ce_passage_to_query!, loss.item()], [fx.loss_f32.CE_left, fx.loss_f32.CE_right, fx.loss_f32.L], 0, 1e-5, 'losses');
      loss.backward();
    });
    checkGradients(params, fx);
    const opt = optimizer === 'adamw'
      ? new Adam(params, { betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01, decoupled: true })
      : new Adafactor(params, { eps: [1e-30, 1e-3], clipThreshold: 1.0, decayRate: -0.8, weightDecay: 0, scaleParameter: false });
    opt.step(1e-3);
    checkStep(params, fx.optimizer_steps[optimizer]);
    opt.dispose();
    model.dispose();
  }
});
