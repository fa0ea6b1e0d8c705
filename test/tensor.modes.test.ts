import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { autocast, cudaAvailable, cudaDeviceCount, F, fromHost, getNumThreads, libtorchVersion, mmapFile, ones, setNumThreads, tensor } from '../src/tensor/index.js';
import { assertClose, bf16Round, randomValues } from './tensor.helpers.js';

test('autocast(bfloat16) runs matmul in bfloat16 on CPU and restores float32 after', () => {
  const av = randomValues(4 * 8, 21, 2);
  const bv = randomValues(8 * 3, 22, 2);
  const a = tensor(av, { shape: [4, 8] });
  const b = tensor(bv, { shape: [8, 3] });
  const out = autocast('bfloat16', () => {
    const inner = autocast('bfloat16', () => a.matmul(b), 'cpu');
    assert.equal(inner.dtype, 'bfloat16', 'nested autocast');
    return a.matmul(b);
  }, 'cpu');
  assert.equal(out.dtype, 'bfloat16');
  assert.equal(a.matmul(b).dtype, 'float32', 'autocast is off again');
  assert.equal(F.linear(a, b.transpose(0, 1)).dtype, 'float32');
  assert.equal(autocast('bfloat16', () => F.linear(a, b.transpose(0, 1)), 'cpu').dtype, 'bfloat16');
  // Reference: inputs rounded to bfloat16, products accumulated exactly, result rounded to bfloat16.
  const expected: number[] = [];
  for (let i = 0; i < 4; i++) for (let j = 0; j < 3; j++) {
    let s = 0;
    for (let k = 0; k < 8; k++) s += bf16Round(av[i * 8 + k]!) * bf16Round(bv[k * 3 + j]!);
    expected.push(bf16Round(s));
  }
  assertClose(out.toArray(), expected, 2 ** -7, 'bf16 matmul within one bf16 ulp');
  // Precision-sensitive ops stay float32 under autocast (softmax of a float32 input).
  assert.equal(autocast('bfloat16', () => a.softmax(-1), 'cpu').dtype, 'float32');
});

test('libtorch errors become JS Errors naming the op', () => {
  assert.throws(() => ones([2, 3]).matmul(ones([2, 3])), (err: Error) => err instanceof Error && /^matmul: mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x3\)$/.test(err.message));
  assert.throws(() => ones([2, 3]).reshape([4]), (err: Error) => /^reshape: shape '\[4\]' is invalid/.test(err.message) && !err.message.includes('\n'));
  assert.throws(() => F.crossEntropy(ones([2, 3]), ones([2])), /^Error: crossEntropy: /);
  assert.throws(() => ones([2]).to('cuda:7'), /^Error: to: /);
  assert.throws(() => fromHost({ dtype: 'float32', shape: [3], data: new Uint8Array(8) }), /^Error: fromHost: expected 12 bytes/);
});

test('threads and devices are reported', () => {
  const n = getNumThreads();
  assert.ok(n >= 1);
  setNumThreads(1);
  assert.equal(getNumThreads(), 1);
  setNumThreads(n);
  assert.equal(typeof cudaAvailable(), 'boolean');
  assert.equal(cudaAvailable(), cudaDeviceCount() > 0);
  // torch.nn.functional.scaled_dot_product_attention exists from libtorch 2.0 on.
  assert.equal(F.scaledDotProductAttention !== undefined, Number(libtorchVersion().split('.')[0]) >= 2);
});

test('mmapFile maps a file without copying it and rejects missing files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'densekit-mmap-'));
  try {
    const bytes = new Uint8Array(10000).map((_, i) => (i * 7) % 256);
    writeFileSync(join(dir, 'data.bin'), bytes);
    writeFileSync(join(dir, 'empty.bin'), new Uint8Array(0));
    const mapped = mmapFile(join(dir, 'data.bin'));
    assert.equal(mapped.byteLength, 10000);
    assert.deepEqual(new Uint8Array(mapped), bytes);
    assert.equal(mmapFile(join(dir, 'empty.bin')).byteLength, 0);
    assert.throws(() => mmapFile(join(dir, 'missing.bin')), /missing\.bin: No such file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the addon loads and computes in worker threads alongside the main thread', async () => {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const moduleUrl = new URL(`../src/tensor/index${ext}`, import.meta.url).href;
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    // Under tsx (node --import tsx) the worker registers the same loader before importing TypeScript.
    const ready = workerData.moduleUrl.endsWith('.ts') ? import('tsx/esm/api').then((tsx) => tsx.register()) : Promise.resolve();
    ready.then(() => import(workerData.moduleUrl)).then((m) => {
      const x = m.tensor([1, 2, 3], { requiresGrad: true });
      m.scope(() => x.mul(x).sum().backward());
      const grad = x.grad.toArray();
      parentPort.postMessage({ grad, sum: m.noGrad(() => m.ones([4, 4]).matmul(m.ones([4, 4])).sum().item()) });
    });`;
  const run = () =>
    new Promise<{ grad: number[]; sum: number }>((resolve, reject) => {
      const worker = new Worker(code, { eval: true, workerData: { moduleUrl } });
      worker.once('message', (m) => {
        resolve(m);
        void worker.terminate();
      });
      worker.once('error', reject);
    });
  const [a, b] = await Promise.all([run(), run()]);
  const main = ones([2]).add(1).toArray();
  for (const r of [a, b]) {
    assert.deepEqual(r.grad, [2, 4, 6]);
    assert.equal(r.sum, 64);
  }
  assert.deepEqual(main, [2, 2]);
});
