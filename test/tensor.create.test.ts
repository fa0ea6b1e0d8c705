import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostToFloat32 } from '../src/io/host-tensor.js';
import { arange, cat, empty, fromHost, full, libtorchVersion, ones, rand, randint, randn, manualSeed, stack, tensor, zeros } from '../src/tensor/index.js';
import { assertClose, bf16Bits, bf16Round, f16Round, randomValues } from './tensor.helpers.js';

test('plain numbers default to float32 with PyTorch rounding (float64 -> float32)', () => {
  const values = [0.1, -2.5, 1e-40, 3.4e38, 1 / 3];
  const t = tensor(values);
  assert.equal(t.dtype, 'float32');
  assert.deepEqual(t.shape, [5]);
  assert.deepEqual(Array.from(t.toFloat32Array()), values.map(Math.fround));
  const scalar = tensor(2.5);
  assert.deepEqual(scalar.shape, []);
  assert.equal(scalar.item(), 2.5);
});

test('typed arrays keep their dtype and round-trip exactly', () => {
  const f32 = new Float32Array(randomValues(50, 1, 100));
  assert.deepEqual(tensor(f32).toFloat32Array(), f32);
  const f64 = new Float64Array(randomValues(50, 2, 1e6));
  const t64 = tensor(f64);
  assert.equal(t64.dtype, 'float64');
  assert.deepEqual(t64.toFloat64Array(), f64);
  const i32 = new Int32Array([-(2 ** 31), -1, 0, 7, 2 ** 31 - 1]);
  assert.equal(tensor(i32).dtype, 'int32');
  assert.deepEqual(tensor(i32).toInt32Array(), i32);
  const i64 = new BigInt64Array([-(2n ** 63n), -1n, 0n, 2n ** 53n + 1n, 2n ** 63n - 1n]);
  const t = tensor(i64);
  assert.equal(t.dtype, 'int64');
  assert.deepEqual(t.toBigInt64Array(), i64);
  assert.throws(() => t.toArray(), /not exactly representable/);
  const u8 = new Uint8Array([0, 1, 128, 255]);
  assert.equal(tensor(u8).dtype, 'uint8');
  assert.deepEqual(tensor(u8).toArray(), [0, 1, 128, 255]);
  assert.deepEqual(tensor(new Int8Array([-128, 5, 127])).toArray(), [-128, 5, 127]);
});

test('every dtype converts and reports itself', () => {
  const values = [0, 1, -3, 42];
  for (const dtype of ['float32', 'float16', 'bfloat16', 'float64', 'int64', 'int32', 'int8', 'uint8'] as const) {
    const t = tensor(dtype === 'uint8' ? [0, 1, 3, 42] : values, { dtype, shape: [2, 2] });
    assert.equal(t.dtype, dtype);
    assert.deepEqual(t.shape, [2, 2]);
    assert.deepEqual(t.toArray(), dtype === 'uint8' ? [0, 1, 3, 42] : values, dtype);
    const host = t.toHost();
    assert.equal(host.dtype, dtype);
    assert.deepEqual(fromHost(host).toArray(), t.toArray(), `${dtype} host round trip`);
  }
  const b = tensor([0, 2, -1, 0.5], { dtype: 'bool' });
  assert.equal(b.dtype, 'bool');
  assert.deepEqual(b.toArray(), [0, 1, 1, 1]);
  assert.deepEqual(Array.from(b.toHost().data), [0, 1, 1, 1]);
});

test('bfloat16 rounds to nearest even like c10::BFloat16', () => {
  const one = 1;
  const ulp = 2 ** -7;
  const ties = [one + ulp / 2, one + (3 * ulp) / 2, -(one + ulp / 2), 3 + 2 ** -6 / 2];
  const values = [...ties, ...randomValues(200, 3, 50), 1e-40, 3.3e38, -0];
  const f32 = new Float32Array(values);
  const t = tensor(f32, { dtype: 'bfloat16' });
  const expected = Array.from(f32, bf16Round);
  assert.deepEqual(Array.from(t.toFloat32Array()), expected);
  const host = t.toHost();
  const bits = new Uint16Array(host.data.buffer, host.data.byteOffset, values.length);
  assert.deepEqual(Array.from(bits), Array.from(f32, bf16Bits));
  // The reader in src/io decodes the same bytes to the same values.
  assert.deepEqual(Array.from(hostToFloat32(host)), expected);
  // Plain numbers go float64 -> float32 -> bfloat16, as torch.tensor(x, dtype=torch.bfloat16) does.
  const x = 1 + 2 ** -8 + 2 ** -30;
  assert.equal(tensor([x], { dtype: 'bfloat16' }).item(), bf16Round(Math.fround(x)));
});

test('float16 rounds to nearest even, overflows to infinity and keeps subnormals', () => {
  const values = [1 / 3, 65504, 65519, 65520, -70000, 2 ** -24, 2 ** -25, 3 * 2 ** -25, 1 + 2 ** -11, 1 + 3 * 2 ** -11, ...randomValues(100, 4, 1000)];
  const f32 = new Float32Array(values);
  const t = tensor(f32, { dtype: 'float16' });
  assert.deepEqual(Array.from(t.toFloat32Array()), Array.from(f32, f16Round));
  assert.deepEqual(Array.from(hostToFloat32(t.toHost())), Array.from(f32, f16Round));
});

test('fromHost copies a host tensor, int16 widens to int32', () => {
  const data = new Uint8Array(new Int16Array([-5, 300, 32767]).buffer);
  const t = fromHost({ dtype: 'int16', shape: [3], data });
  assert.equal(t.dtype, 'int32');
  assert.deepEqual(t.toArray(), [-5, 300, 32767]);
  const f = fromHost({ dtype: 'float32', shape: [2, 2], data: new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer) }, { dtype: 'float64' });
  assert.equal(f.dtype, 'float64');
  assert.deepEqual(f.toArray(), [1, 2, 3, 4]);
  assert.throws(() => fromHost({ dtype: 'float32', shape: [3], data: new Uint8Array(8) }), /expected 12 bytes/);
});

test('shape validation and bad data are reported', () => {
  assert.throws(() => tensor([1, 2, 3], { shape: [2, 2] }), /needs 4 values, got 3/);
  assert.throws(() => tensor([1, [2]] as unknown as number[]), /data\[1\] is an array/);
  assert.throws(() => tensor([1], { device: 'gpu' as 'cpu' }), /unknown device/);
});

test('constant, range and random constructors', () => {
  assert.deepEqual(zeros([2, 3]).toArray(), [0, 0, 0, 0, 0, 0]);
  assert.deepEqual(ones([2], { dtype: 'int64' }).toArray(), [1, 1]);
  assert.deepEqual(full([3], 2.5).toArray(), [2.5, 2.5, 2.5]);
  assert.deepEqual(empty([4, 5]).shape, [4, 5]);
  const r = arange(5);
  assert.equal(r.dtype, 'int64');
  assert.deepEqual(r.toArray(), [0, 1, 2, 3, 4]);
  assert.deepEqual(arange(2, 8, 3).toArray(), [2, 5]);
  const fr = arange(0, 1, 0.25);
  assert.equal(fr.dtype, 'float32');
  assert.deepEqual(fr.toArray(), [0, 0.25, 0.5, 0.75]);
  manualSeed(7);
  const a = randn([1000]).toArray();
  manualSeed(7);
  assert.deepEqual(randn([1000]).toArray(), a, 'manualSeed makes randn repeatable');
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  const variance = a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length;
  assert.ok(Math.abs(mean) < 0.15 && Math.abs(variance - 1) < 0.15, `randn moments ${mean} ${variance}`);
  const u = rand([1000]).toArray();
  assert.ok(u.every((v) => v >= 0 && v < 1));
  const ints = randint(3, 6, [500]);
  assert.equal(ints.dtype, 'int64');
  assert.deepEqual([...new Set(ints.toArray())].sort(), [3, 4, 5]);
  const g = ones([2], { requiresGrad: true });
  assert.equal(g.requiresGrad, true);
});

test('cat and stack', () => {
  const a = tensor([1, 2, 3, 4], { shape: [2, 2] });
  const b = tensor([5, 6], { shape: [1, 2] });
  assert.deepEqual(cat([a, b]).toArray(), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(cat([a, b.reshape([2, 1])], 1).toArray(), [1, 2, 5, 3, 4, 6]);
  const s = stack([b, b], 0);
  assert.deepEqual(s.shape, [2, 1, 2]);
  assert.throws(() => cat([a, tensor([1, 2, 3])]), /^Error: cat: /);
});

test('libtorch version is reported', () => {
  assert.match(libtorchVersion(), /^\d+\.\d+\.\d+/);
});
