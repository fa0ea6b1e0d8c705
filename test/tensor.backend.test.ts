/**
 * The backend seam (src/tensor/backend.ts): creation follows the current backend, a tensor keeps the backend
 * that made it (its ops and its dispose go there after withBackend has returned), and withBackend restores the
 * previous backend on a throw.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OnnxRecorder } from '../src/backends/onnx/recorder.js';
import { currentBackend, liveTensorCount, withBackend, zeros, type TensorBackend } from '../src/tensor/index.js';

/** The recorder's backend with its dispose calls counted. */
function countingBackend(): { backend: TensorBackend; disposed: number[] } {
  const disposed: number[] = [];
  const inner = new OnnxRecorder().backend;
  const backend = { ...inner, dispose: (h: number) => void disposed.push(h) } as unknown as TensorBackend;
  return { backend, disposed };
}

test('a tensor made inside withBackend keeps that backend: ops and dispose go there, not to libtorch', () => {
  const { backend, disposed } = countingBackend();
  const before = liveTensorCount();
  const t = withBackend(backend, () => zeros([2, 3]));
  assert.equal(currentBackend() === backend, false, 'withBackend restored the previous backend');
  assert.equal(t.backend, backend);
  const u = t.unsqueeze(0);
  assert.equal(u.backend, backend);
  assert.deepEqual(u.shape, [1, 2, 3]);
  assert.equal(liveTensorCount(), before, 'no libtorch tensor was made');
  const h = u.handle;
  u.dispose();
  assert.deepEqual(disposed, [h]);
  const real = zeros([2]);
  assert.notEqual(real.backend, backend, 'outside withBackend creation is libtorch again');
  assert.equal(liveTensorCount(), before + 1);
  real.dispose();
});

test('withBackend restores the previous backend when fn throws, and refuses a Promise', () => {
  const { backend } = countingBackend();
  const outer = currentBackend();
  assert.throws(() => withBackend(backend, () => { throw new Error('boom'); }), /boom/);
  assert.equal(currentBackend(), outer);
  assert.throws(() => withBackend(backend, async () => 1), /withBackend: fn returned a Promise/);
  assert.equal(currentBackend(), outer);
});
