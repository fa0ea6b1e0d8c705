import assert from 'node:assert/strict';
import { test } from 'node:test';
import { F, isGradEnabled, noGrad, tensor, type Tensor } from '../src/tensor/index.js';
import { assertClose, randomValues } from './tensor.helpers.js';

/** Central finite differences of a scalar function of one float64 tensor, element by element. */
function numericGrad(f: (x: Tensor) => Tensor, values: number[], shape: number[], h = 1e-6): number[] {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const plus = values.slice();
    const minus = values.slice();
    plus[i]! += h;
    minus[i]! -= h;
    const fp = noGrad(() => f(tensor(plus, { shape, dtype: 'float64' })).item());
    const fm = noGrad(() => f(tensor(minus, { shape, dtype: 'float64' })).item());
    out.push((fp - fm) / (2 * h));
  }
  return out;
}

function analyticGrad(f: (x: Tensor) => Tensor, values: number[], shape: number[]): number[] {
  const x = tensor(values, { shape, dtype: 'float64', requiresGrad: true });
  f(x).backward();
  const g = x.grad;
  assert.ok(g !== null);
  return g.toArray();
}

function checkGrad(f: (x: Tensor) => Tensor, values: number[], shape: number[], what: string): void {
  assertClose(analyticGrad(f, values, shape), numericGrad(f, values, shape), 1e-6, what);
}

test('gradient of a composite function matches the analytic derivative', () => {
  // f(x) = sum(x^3 + 2 exp(x) * sin-free terms) -> df/dx = 3x^2 + 2 exp(x)
  const values = randomValues(6, 11, 2);
  const x = tensor(values, { dtype: 'float64', requiresGrad: true });
  assert.equal(x.requiresGrad, true);
  x.pow(3).add(x.exp().mul(2)).sum().backward();
  assertClose(x.grad!.toArray(), values.map((v) => 3 * v * v + 2 * Math.exp(v)), 1e-12);
  // Gradients accumulate until zeroGrad drops them.
  x.pow(3).add(x.exp().mul(2)).sum().backward();
  assertClose(x.grad!.toArray(), values.map((v) => 2 * (3 * v * v + 2 * Math.exp(v))), 1e-12);
  x.zeroGrad();
  assert.equal(x.grad, null);
});

test('gradients of shape ops, broadcasting and reductions match finite differences', () => {
  const shape = [2, 3];
  const values = randomValues(6, 12, 1);
  const w = tensor(randomValues(3, 13), { dtype: 'float64' });
  checkGrad((x) => x.mul(w).tanh().sum(), values, shape, 'broadcast mul tanh');
  checkGrad((x) => x.transpose(0, 1).matmul(x).square().mean(), values, shape, 'matmul');
  checkGrad((x) => x.norm(2, -1).sum(), values, shape, 'norm');
  checkGrad((x) => x.amax(1).sum().add(x.slice(1, 1).sigmoid().sum()), values, shape, 'amax and slice');
  checkGrad((x) => x.gelu().mul(x.sqrt()).sum(), values.map((v) => Math.abs(v) + 0.1), shape, 'gelu sqrt');
});

test('gradients through F.linear, F.layerNorm, softmax, F.embedding and F.crossEntropy', () => {
  const xs = randomValues(8, 14, 1);
  const ws = randomValues(12, 15, 1);
  const bs = randomValues(3, 16, 1);
  const weight = tensor(ws, { shape: [3, 4], dtype: 'float64' });
  const bias = tensor(bs, { dtype: 'float64' });
  // linear: d/dW of sum(linear(x, W, b) * c) = c^T x
  checkGrad((w) => F.linear(tensor(xs, { shape: [2, 4], dtype: 'float64' }), w, bias).softmax(-1).select(1, 0).sum(), ws, [3, 4], 'linear weight via softmax');
  checkGrad((x) => F.linear(x, weight, bias).logSoftmax(1).sum(), xs, [2, 4], 'linear input via logSoftmax');
  const gamma = tensor([1.5, 0.5, -1, 2], { dtype: 'float64' });
  const beta = tensor([0.1, 0.2, 0.3, 0.4], { dtype: 'float64' });
  const c = tensor(randomValues(8, 17), { shape: [2, 4], dtype: 'float64' });
  checkGrad((x) => F.layerNorm(x, [4], gamma, beta, 1e-5).mul(c).sum(), xs, [2, 4], 'layerNorm input');
  checkGrad((g) => F.layerNorm(tensor(xs, { shape: [2, 4], dtype: 'float64' }), [4], g, beta).mul(c).sum(), [1.5, 0.5, -1, 2], [4], 'layerNorm weight');
  const ids = tensor(new BigInt64Array([2n, 0n, 2n]));
  checkGrad((table) => F.embedding(table, ids).mul(tensor([1, 2, 3, 4, 5, 6], { shape: [3, 2], dtype: 'float64' })).sum(), randomValues(6, 18), [3, 2], 'embedding');
  const targets = tensor(new BigInt64Array([1n, 3n]));
  checkGrad((logits) => F.crossEntropy(logits, targets), xs, [2, 4], 'crossEntropy');
  checkGrad((logits) => F.crossEntropy(logits, targets, { labelSmoothing: 0.1, reduction: 'sum' }), xs, [2, 4], 'crossEntropy smoothing');
  checkGrad((a) => F.mseLoss(a, c), xs, [2, 4], 'mseLoss');
  checkGrad((a) => F.normalize(a, 2, 1).mul(c).sum(), xs, [2, 4], 'normalize');
});

test('functional values match their definitions', () => {
  const xs = randomValues(8, 19, 2);
  const x = tensor(xs, { shape: [2, 4], dtype: 'float64' });
  // crossEntropy with label smoothing: (1-e) * -log p_y + e/C * sum_c -log p_c, averaged over rows.
  const targets = [1, 3];
  const eps = 0.2;
  let total = 0;
  for (let r = 0; r < 2; r++) {
    const row = xs.slice(r * 4, r * 4 + 4);
    const lse = Math.log(row.reduce((s, v) => s + Math.exp(v), 0));
    const logp = row.map((v) => v - lse);
    total += (1 - eps) * -logp[targets[r]!]! + (eps / 4) * logp.reduce((s, v) => s - v, 0);
  }
  const ce = F.crossEntropy(x, tensor(new BigInt64Array([1n, 3n])), { labelSmoothing: eps });
  assertClose([ce.item()], [total / 2], 1e-12, 'crossEntropy');
  const none = F.crossEntropy(x, tensor(new BigInt64Array([1n, 3n])), { reduction: 'none' });
  assert.deepEqual(none.shape, [2]);
  // layerNorm: biased variance, eps inside the sqrt.
  const ln = F.layerNorm(x, [4], undefined, undefined, 1e-5).toArray();
  const expected: number[] = [];
  for (let r = 0; r < 2; r++) {
    const row = xs.slice(r * 4, r * 4 + 4);
    const mean = row.reduce((s, v) => s + v, 0) / 4;
    const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / 4;
    for (const v of row) expected.push((v - mean) / Math.sqrt(variance + 1e-5));
  }
  assertClose(ln, expected, 1e-12, 'layerNorm');
  // normalize: x / max(||x||, eps)
  const n = F.normalize(x, 2, 1).toArray();
  for (let r = 0; r < 2; r++) {
    const row = xs.slice(r * 4, r * 4 + 4);
    const norm = Math.sqrt(row.reduce((s, v) => s + v * v, 0));
    assertClose(n.slice(r * 4, r * 4 + 4), row.map((v) => v / norm), 1e-12, 'normalize');
  }
  assert.deepEqual(F.normalize(tensor([0, 0], { shape: [1, 2] })).toArray(), [0, 0], 'eps guards zero vectors');
  // dropout: identity when not training, zeros or x/(1-p) when training.
  assert.deepEqual(F.dropout(x, 0.5, false).toArray(), xs);
  const d = F.dropout(x, 0.5, true).toArray();
  d.forEach((v, i) => assert.ok(v === 0 || Math.abs(v - 2 * xs[i]!) < 1e-12));
});

test('noGrad disables recording and restores the mode, even on throw', () => {
  const x = tensor([1, 2], { requiresGrad: true });
  assert.equal(isGradEnabled(), true);
  const y = noGrad(() => {
    assert.equal(isGradEnabled(), false);
    return x.mul(2);
  });
  assert.equal(y.requiresGrad, false);
  assert.equal(x.mul(2).requiresGrad, true);
  assert.throws(() => noGrad(() => {
    throw new Error('boom');
  }), /boom/);
  assert.equal(isGradEnabled(), true);
  assert.throws(() => noGrad(() => Promise.resolve(1)), /Promise/);
  // detach cuts the graph.
  assert.equal(x.mul(2).detach().requiresGrad, false);
  // in-place updates of a leaf are allowed only without grad (as in optimizers).
  assert.throws(() => x.add_(1), /^Error: add_: .*leaf Variable that requires grad/);
  noGrad(() => x.add_(1));
  assert.deepEqual(x.toArray(), [2, 3]);
  // backward with an explicit gradient (vector-Jacobian product).
  const z = x.mul(x);
  z.backward(tensor([1, 10]));
  assert.deepEqual(x.grad!.toArray(), [4, 60]);
});
