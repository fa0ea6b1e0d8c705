import assert from 'node:assert/strict';
import { test } from 'node:test';
import { arange, ones, tensor, zeros } from '../src/tensor/index.js';
import { assertClose, erf, randomValues } from './tensor.helpers.js';

const x23 = () => tensor([1, 2, 3, 4, 5, 6], { shape: [2, 3] });

test('reshape, view, transpose, permute, flatten', () => {
  const x = arange(24).reshape([2, 3, 4]);
  assert.deepEqual(x.shape, [2, 3, 4]);
  assert.equal(x.ndim, 3);
  assert.equal(x.numel(), 24);
  assert.deepEqual(x.view([6, 4]).shape, [6, 4]);
  assert.deepEqual(x.reshape([-1, 12]).shape, [2, 12]);
  const t = x.transpose(0, 2);
  assert.deepEqual(t.shape, [4, 3, 2]);
  // t[i][j][k] = x[k][j][i] = 12k + 4j + i
  const expected: number[] = [];
  for (let i = 0; i < 4; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 2; k++) expected.push(12 * k + 4 * j + i);
  assert.deepEqual(t.toArray(), expected);
  assert.deepEqual(x.permute([2, 1, 0]).toArray(), expected);
  assert.throws(() => t.view([24]), /^Error: view: /);
  assert.deepEqual(t.contiguous().view([24]).toArray(), expected);
  assert.deepEqual(x.flatten(1).shape, [2, 12]);
  assert.deepEqual(x.flatten().shape, [24]);
});

test('unsqueeze, squeeze, expand, repeat', () => {
  const x = tensor([1, 2, 3]);
  assert.deepEqual(x.unsqueeze(0).shape, [1, 3]);
  assert.deepEqual(x.unsqueeze(-1).shape, [3, 1]);
  assert.deepEqual(x.unsqueeze(0).unsqueeze(2).squeeze().shape, [3]);
  assert.deepEqual(x.unsqueeze(0).squeeze(0).shape, [3]);
  const e = x.unsqueeze(0).expand([2, 3]);
  assert.deepEqual(e.toArray(), [1, 2, 3, 1, 2, 3]);
  assert.deepEqual(x.repeat([2]).toArray(), [1, 2, 3, 1, 2, 3]);
  assert.deepEqual(x.unsqueeze(1).repeat([1, 2]).toArray(), [1, 1, 2, 2, 3, 3]);
});

test('slice, select, narrow, indexSelect, gather', () => {
  const x = arange(10);
  assert.deepEqual(x.slice(0, 2, 5).toArray(), [2, 3, 4]);
  assert.deepEqual(x.slice(0, 1, undefined, 3).toArray(), [1, 4, 7]);
  assert.deepEqual(x.slice(0, -3).toArray(), [7, 8, 9]);
  assert.deepEqual(x.slice(0, 8, 100).toArray(), [8, 9], 'out-of-range end is clamped as in Python');
  const m = x23();
  assert.deepEqual(m.select(1, 2).toArray(), [3, 6]);
  assert.deepEqual(m.select(0, -1).toArray(), [4, 5, 6]);
  assert.deepEqual(m.narrow(1, 1, 2).toArray(), [2, 3, 5, 6]);
  const idx = tensor(new BigInt64Array([2n, 0n, 2n]));
  assert.deepEqual(m.indexSelect(1, idx).toArray(), [3, 1, 3, 6, 4, 6]);
  const g = tensor(new BigInt64Array([0n, 0n, 1n, 1n, 0n, 1n]), { shape: [3, 2] });
  const src = tensor([10, 20, 30, 40, 50, 60], { shape: [3, 2] });
  assert.deepEqual(src.gather(1, g).toArray(), [10, 10, 40, 40, 50, 60]);
  assert.throws(() => m.select(0, 5), /^Error: select: /);
});

test('elementwise arithmetic broadcasts like PyTorch', () => {
  const a = tensor(randomValues(6, 1), { shape: [2, 1, 3] });
  const b = tensor(randomValues(4, 2), { shape: [4, 1] });
  const av = a.toArray();
  const bv = b.toArray();
  const s = a.add(b, 2);
  assert.deepEqual(s.shape, [2, 4, 3]);
  const expected: number[] = [];
  for (let i = 0; i < 2; i++) for (let j = 0; j < 4; j++) for (let k = 0; k < 3; k++) expected.push(Math.fround(av[i * 3 + k]! + 2 * bv[j]!));
  assertClose(s.toArray(), expected, 1e-6);
  assert.deepEqual(a.sub(b).shape, [2, 4, 3]);
  assertClose(a.mul(3).toArray(), av.map((v) => v * 3), 1e-6);
  assertClose(a.div(4).toArray(), av.map((v) => v / 4), 1e-6);
  assertClose(a.sub(1, 0.5).toArray(), av.map((v) => v - 0.5), 1e-6);
  assertClose(a.neg().toArray(), av.map((v) => -v), 0);
  assertClose(a.pow(2).toArray(), av.map((v) => v * v), 1e-6);
  assertClose(a.abs().pow(a.abs()).toArray(), av.map((v) => Math.abs(v) ** Math.abs(v)), 1e-5);
  assert.throws(() => ones([2, 3]).add(ones([4])), (err: Error) => /^add: .*size of tensor a \(3\) must match/.test(err.message));
});

test('integral scalars keep integer tensors integral (Python int semantics)', () => {
  const i = tensor(new Int32Array([1, 2, 3]));
  assert.equal(i.add(1).dtype, 'int32');
  assert.equal(i.mul(2).dtype, 'int32');
  assert.equal(i.add(0.5).dtype, 'float32');
  assert.deepEqual(i.add(0.5).toArray(), [1.5, 2.5, 3.5]);
  assert.equal(i.div(2).dtype, 'float32', 'div is true division');
});

test('unary math against JS', () => {
  const values = randomValues(50, 5, 3);
  const x = tensor(values, { dtype: 'float64' });
  const pos = values.map((v) => Math.abs(v) + 0.1);
  const p = tensor(pos, { dtype: 'float64' });
  const tol = 1e-12;
  assertClose(p.sqrt().toArray(), pos.map(Math.sqrt), tol, 'sqrt');
  assertClose(p.rsqrt().toArray(), pos.map((v) => 1 / Math.sqrt(v)), tol, 'rsqrt');
  assertClose(x.exp().toArray(), values.map(Math.exp), tol, 'exp');
  assertClose(p.log().toArray(), pos.map(Math.log), tol, 'log');
  assertClose(x.abs().toArray(), values.map(Math.abs), 0, 'abs');
  assertClose(x.square().toArray(), values.map((v) => v * v), tol, 'square');
  assertClose(x.tanh().toArray(), values.map(Math.tanh), tol, 'tanh');
  assertClose(x.sigmoid().toArray(), values.map((v) => 1 / (1 + Math.exp(-v))), tol, 'sigmoid');
  assertClose(x.relu().toArray(), values.map((v) => Math.max(0, v)), 0, 'relu');
  assertClose(x.erf().toArray(), values.map(erf), 1e-12, 'erf');
  assertClose(x.gelu().toArray(), values.map((v) => 0.5 * v * (1 + erf(v / Math.SQRT2))), 1e-12, 'gelu');
  const c = Math.sqrt(2 / Math.PI);
  assertClose(x.gelu('tanh').toArray(), values.map((v) => 0.5 * v * (1 + Math.tanh(c * (v + 0.044715 * v ** 3)))), 1e-12, 'gelu tanh');
  assertClose(x.sign().toArray(), values.map(Math.sign), 0, 'sign');
  assertClose(p.reciprocal().toArray(), pos.map((v) => 1 / v), tol, 'reciprocal');
  assertClose(x.floor().toArray(), values.map(Math.floor), 0, 'floor');
  assertClose(x.clamp(-1, 0.5).toArray(), values.map((v) => Math.min(0.5, Math.max(-1, v))), 0, 'clamp');
  assertClose(x.clamp(undefined, 0).toArray(), values.map((v) => Math.min(0, v)), 0, 'clamp max only');
});

test('matmul, bmm, mm against JS', () => {
  const av = randomValues(2 * 3 * 4, 6);
  const bv = randomValues(2 * 4 * 5, 7);
  const a = tensor(av, { shape: [2, 3, 4], dtype: 'float64' });
  const b = tensor(bv, { shape: [2, 4, 5], dtype: 'float64' });
  const expected: number[] = [];
  for (let n = 0; n < 2; n++) for (let i = 0; i < 3; i++) for (let j = 0; j < 5; j++) {
    let s = 0;
    for (let k = 0; k < 4; k++) s += av[n * 12 + i * 4 + k]! * bv[n * 20 + k * 5 + j]!;
    expected.push(s);
  }
  assertClose(a.bmm(b).toArray(), expected, 1e-12, 'bmm');
  assertClose(a.matmul(b).toArray(), expected, 1e-12, 'matmul');
  assertClose(a.select(0, 1).mm(b.select(0, 1)).toArray(), expected.slice(15), 1e-12, 'mm');
  assert.deepEqual(a.matmul(b.select(0, 0)).shape, [2, 3, 5], 'matmul broadcasts');
  assert.throws(() => a.mm(b), /^Error: mm: /);
});

test('reductions', () => {
  const values = randomValues(24, 8, 10);
  const x = tensor(values, { shape: [2, 3, 4], dtype: 'float64' });
  const at = (i: number, j: number, k: number) => values[i * 12 + j * 4 + k]!;
  assertClose([x.sum().item()], [values.reduce((s, v) => s + v, 0)], 1e-12, 'sum all');
  assert.deepEqual(x.sum().shape, []);
  assert.deepEqual(x.sum(undefined, true).shape, [1, 1, 1]);
  const sum1: number[] = [];
  for (let i = 0; i < 2; i++) for (let k = 0; k < 4; k++) sum1.push(at(i, 0, k) + at(i, 1, k) + at(i, 2, k));
  assertClose(x.sum(1).toArray(), sum1, 1e-12, 'sum dim 1');
  assert.deepEqual(x.sum(1, true).shape, [2, 1, 4]);
  assertClose(x.mean([0, 2]).toArray(), [0, 1, 2].map((j) => {
    let s = 0;
    for (let i = 0; i < 2; i++) for (let k = 0; k < 4; k++) s += at(i, j, k);
    return s / 8;
  }), 1e-12, 'mean dims');
  assert.equal(x.amax().item(), Math.max(...values));
  assert.equal(x.amin().item(), Math.min(...values));
  const rowMax: number[] = [];
  const rowArg: number[] = [];
  for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) {
    const row = [0, 1, 2, 3].map((k) => at(i, j, k));
    rowMax.push(Math.max(...row));
    rowArg.push(row.indexOf(Math.max(...row)));
  }
  assert.deepEqual(x.amax(-1).toArray(), rowMax);
  const { values: mv, indices } = x.max(2);
  assert.deepEqual(mv.toArray(), rowMax);
  assert.equal(indices.dtype, 'int64');
  assert.deepEqual(indices.toArray(), rowArg);
  assert.deepEqual(x.argmax(2).toArray(), rowArg);
  assert.equal(x.argmax().item(), values.indexOf(Math.max(...values)));
  assertClose([x.norm().item()], [Math.sqrt(values.reduce((s, v) => s + v * v, 0))], 1e-12, 'norm');
  assertClose([x.norm(1).item()], [values.reduce((s, v) => s + Math.abs(v), 0)], 1e-12, 'norm 1');
  assert.deepEqual(x.norm(2, -1, true).shape, [2, 3, 1]);
  const top = tensor([3, 1, 4, 1, 5, 9, 2, 6]).topk(3);
  assert.deepEqual(top.values.toArray(), [9, 6, 5]);
  assert.deepEqual(top.indices.toArray(), [5, 7, 4]);
  assert.deepEqual(tensor([3, 1, 4, 1, 5]).topk(2, 0, false).values.toArray(), [1, 1]);
});

test('softmax and logSoftmax', () => {
  const values = randomValues(12, 9, 5);
  const x = tensor(values, { shape: [3, 4], dtype: 'float64' });
  const expected: number[] = [];
  const expectedLog: number[] = [];
  for (let r = 0; r < 3; r++) {
    const row = values.slice(r * 4, r * 4 + 4);
    const m = Math.max(...row);
    const z = row.reduce((s, v) => s + Math.exp(v - m), 0);
    for (const v of row) {
      expected.push(Math.exp(v - m) / z);
      expectedLog.push(v - m - Math.log(z));
    }
  }
  assertClose(x.softmax(-1).toArray(), expected, 1e-12);
  assertClose(x.logSoftmax(1).toArray(), expectedLog, 1e-12);
});

test('comparisons, logic, where, maskedFill, cumsum, triu', () => {
  const a = tensor([1, 2, 3, 4]);
  const b = tensor([4, 2, 1, 4]);
  assert.deepEqual(a.eq(b).toArray(), [0, 1, 0, 1]);
  assert.equal(a.eq(b).dtype, 'bool');
  assert.deepEqual(a.ne(b).toArray(), [1, 0, 1, 0]);
  assert.deepEqual(a.gt(2).toArray(), [0, 0, 1, 1]);
  assert.deepEqual(a.ge(b).toArray(), [0, 1, 1, 1]);
  assert.deepEqual(a.lt(b).toArray(), [1, 0, 0, 0]);
  assert.deepEqual(a.le(2).toArray(), [1, 1, 0, 0]);
  assert.deepEqual(a.gt(1).logicalNot().toArray(), [1, 0, 0, 0]);
  assert.deepEqual(a.gt(1).logicalAnd(a.lt(4)).toArray(), [0, 1, 1, 0]);
  assert.deepEqual(a.where(a.gt(2), b).toArray(), [4, 2, 3, 4]);
  assert.deepEqual(a.where(a.gt(2), -1).toArray(), [-1, -1, 3, 4]);
  assert.deepEqual(a.maskedFill(a.eq(2), -Infinity).toArray(), [1, -Infinity, 3, 4]);
  assert.deepEqual(a.cumsum(0).toArray(), [1, 3, 6, 10]);
  assert.deepEqual(ones([3, 3]).triu().toArray(), [1, 1, 1, 0, 1, 1, 0, 0, 1]);
  assert.deepEqual(ones([3, 3]).triu(1).toArray(), [0, 1, 1, 0, 0, 1, 0, 0, 0]);
});

test('in-place ops return the same tensor', () => {
  const x = zeros([3]);
  assert.equal(x.add_(1), x);
  x.add_(tensor([1, 2, 3]), 2).sub_(1).mul_(2).div_(tensor([2, 2, 2]));
  assert.deepEqual(x.toArray(), [2, 4, 6]);
  x.sub_(tensor([1, 1, 1]), 2);
  assert.deepEqual(x.toArray(), [0, 2, 4]);
  x.addcmul_(tensor([1, 2, 3]), tensor([2, 2, 2]), 0.5);
  assert.deepEqual(x.toArray(), [1, 4, 7]);
  x.addcdiv_(tensor([4, 4, 4]), tensor([2, 4, 8]), 2);
  assert.deepEqual(x.toArray(), [5, 6, 8]);
  x.lerp_(tensor([9, 10, 16]), 0.25);
  assert.deepEqual(x.toArray(), [6, 7, 10]);
  x.sqrt_().clamp_(2.5, 3);
  assertClose(x.toArray(), [2.5, Math.sqrt(7), 3].map(Math.fround), 0);
  x.copy_(tensor([9, 8, 7]));
  assert.deepEqual(x.toArray(), [9, 8, 7]);
  x.fill_(4);
  assert.deepEqual(x.toArray(), [4, 4, 4]);
  x.zero_();
  assert.deepEqual(x.toArray(), [0, 0, 0]);
  const n = zeros([20000]).normal_(3, 2).toArray();
  const mean = n.reduce((s, v) => s + v, 0) / n.length;
  assert.ok(Math.abs(mean - 3) < 0.1, `normal_ mean ${mean}`);
  const u = zeros([1000]).uniform_(-2, -1).toArray();
  assert.ok(u.every((v) => v >= -2 && v < -1));
});

test('type conversion, clone, detach', () => {
  const x = tensor([1.5, -2.5, 3.7]);
  assert.deepEqual(x.to('int64').toArray(), [1, -2, 3], 'float -> int truncates toward zero as in PyTorch');
  assert.equal(x.to('float64').dtype, 'float64');
  assert.equal(x.to('cpu').device, 'cpu');
  const c = x.clone();
  c.fill_(0);
  assert.deepEqual(x.toArray().map(Math.fround), [1.5, -2.5, Math.fround(3.7)]);
  assert.equal(x.item === undefined, false);
  assert.throws(() => x.item(), /^Error: item: /);
  assert.equal(tensor(new Int32Array([7])).item(), 7);
});
