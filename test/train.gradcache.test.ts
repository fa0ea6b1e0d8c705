/**
 * GradCache and gradient accumulation against the whole-batch backward pass, on the fixture models: GradCache
 * must give the same parameter gradients as the full batch (it is the same loss, computed in chunks).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tensor, type Tensor } from '../src/tensor/index.js';
import { SentenceEncoder } from '../src/models/index.js';
import { forwardBackward, type StepOptions, type TextBatch } from '../src/train/step.js';
import { Rng } from '../src/train/rng.js';
import { sharedDir } from './helpers.js';
import { pathToFileURL } from 'node:url';

const shared = pathToFileURL(sharedDir + '/');
const modelDir = (name: string) => new URL(`fixtures/models/${name}`, shared).pathname;

function words(model: string): string[] {
  const vocab = readFileSync(new URL(`fixtures/models/${model}/vocab.txt`, shared), 'utf8').split('\n');
  return vocab.filter((w) => /^[a-z]{3,}$/.test(w));
}

function randomBatch(vocab: string[], b: number, seed: number): TextBatch {
  const rng = new Rng(seed);
  const text = (n: number) => Array.from({ length: n }, () => vocab[rng.int(vocab.length)]).join(' ');
  const ids = (p: string) => Array.from({ length: b }, (_, i) => `${p}${i}`);
  return {
    qids: ids('q'), queries: ids('q').map(() => text(2 + rng.int(5))),
    positiveIds: ids('p'), positives: ids('p').map(() => text(5 + rng.int(20))),
    negativeIds: ids('n'), negatives: ids('n').map(() => text(5 + rng.int(20))),
    posScores: Float32Array.from({ length: b }, () => 5 + 10 * rng.nextFloat()),
    negScores: Float32Array.from({ length: b }, () => 10 * rng.nextFloat()),
  };
}

function gradients(model: SentenceEncoder, batch: TextBatch, options: StepOptions): { loss: number; grads: Map<string, Float32Array> } {
  const params = [...model.namedParameters()];
  for (const [, p] of params) {
    p.requiresGrad_(true);
    p.zeroGrad();
  }
  const { loss } = forwardBackward(model, batch, options);
  const grads = new Map<string, Float32Array>();
  for (const [name, p] of params) {
    const g = p.grad;
    grads.set(name, g ? g.toFloat32Array() : new Float32Array(0));
    g?.dispose();
  }
  return { loss, grads };
}

function assertSameGradients(a: Map<string, Float32Array>, b: Map<string, Float32Array>, what: string): void {
  let globalMax = 0;
  for (const g of a.values()) for (const v of g) globalMax = Math.max(globalMax, Math.abs(v));
  assert.ok(globalMax > 0, 'gradients are not all zero');
  for (const [name, ga] of a) {
    const gb = b.get(name)!;
    assert.equal(ga.length, gb.length, `${what}: ${name} length`);
    for (let i = 0; i < ga.length; i++) {
      assert.ok(Math.abs(ga[i]! - gb[i]!) <= 1e-5 * globalMax, `${what}: ${name}[${i}] ${ga[i]} vs ${gb[i]}`);
    }
  }
}

const base: StepOptions = { loss: 'gtr', logitScale: 100, inBatchWeight: 0, gradientAccumulation: 1, gradCacheChunk: 0, dropoutSeed: 17 };

test('GradCache gives the whole-batch gradients: GTR loss with hard negatives and duplicate masking', () => {
  const model = SentenceEncoder.load(modelDir('gtr-t5-tiny-relu'));
  model.train(false);
  const vocab = readFileSync(new URL('fixtures/models/gtr-t5-tiny-relu/oracle.json', shared), 'utf8').match(/[a-z]{4,}/g)!.slice(0, 300);
  const batch = randomBatch([...new Set(vocab)], 8, 1);
  batch.positiveIds[5] = batch.positiveIds[2]!; // the same passage twice: masked, not a negative
  batch.positives[5] = batch.positives[2]!;
  const full = gradients(model, batch, base);
  for (const chunk of [1, 3, 8]) {
    const cached = gradients(model, batch, { ...base, gradCacheChunk: chunk });
    assert.ok(Math.abs(cached.loss - full.loss) <= 1e-5 * Math.abs(full.loss), `loss ${cached.loss} vs ${full.loss}`);
    assertSameGradients(full.grads, cached.grads, `chunk ${chunk}`);
  }
  model.dispose();
});

test('GradCache gives the whole-batch gradients: TAS-B dual-teacher loss; dropout is replayed between its passes', () => {
  const model = SentenceEncoder.load(modelDir('tasb-distilbert-tiny'));
  const batch = randomBatch(words('tasb-distilbert-tiny'), 6, 2);
  const teacherScores = (q: readonly string[], p: readonly string[]): Tensor => {
    const rng = new Rng(q.length * 31 + p[0]!.length);
    return tensor(Float32Array.from({ length: q.length * p.length }, () => 20 * rng.nextFloat()), { shape: [q.length, p.length], dtype: 'float32' });
  };
  const options: StepOptions = { ...base, loss: 'tas-b', inBatchWeight: 0.75, teacher: { scores: teacherScores, dispose() {} } };
  model.train(false);
  const full = gradients(model, batch, options);
  assertSameGradients(full.grads, gradients(model, batch, { ...options, gradCacheChunk: 4 }).grads, 'eval, chunk 4');
  // With dropout on, a single chunk draws the same masks as the whole batch: identical gradients show that the
  // cached pass and the re-encoding pass saw the same dropout.
  model.train(true);
  const trainFull = gradients(model, batch, options);
  assertSameGradients(trainFull.grads, gradients(model, batch, { ...options, gradCacheChunk: 6 }).grads, 'train, one chunk');
  // and dropout does change them (the check above is not vacuous)
  const other = gradients(model, batch, { ...options, dropoutSeed: 99 });
  assert.ok([...other.grads].some(([name, g]) => g.some((v, i) => Math.abs(v - trainFull.grads.get(name)![i]!) > 1e-6)));
  model.dispose();
});

test('gradient accumulation: micro-batches of a pairwise loss add up to the whole-batch gradient', () => {
  // L_pair is a mean over independent queries, so k equal micro-batches scaled by 1/k give the same gradient.
  const model = SentenceEncoder.load(modelDir('tasb-distilbert-tiny'));
  model.train(false);
  const batch = randomBatch(words('tasb-distilbert-tiny'), 6, 3);
  const options: StepOptions = { ...base, loss: 'tas-b', inBatchWeight: 0 };
  const full = gradients(model, batch, options);
  const accumulated = gradients(model, batch, { ...options, gradientAccumulation: 3 });
  assert.ok(Math.abs(accumulated.loss - full.loss) <= 1e-5 * full.loss);
  assertSameGradients(full.grads, accumulated.grads, 'accumulation 3');
  model.dispose();
});
