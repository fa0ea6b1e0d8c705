/**
 * Device placement, proved on a CPU-only machine with libtorch's meta device: a meta tensor has a shape and a
 * dtype but no storage, and an op mixing it with a (non-scalar) CPU tensor fails with a device mismatch, exactly
 * as a CUDA tensor would. So a forward pass that completes on a model loaded onto meta created every batch,
 * position id, mask, relative-position bucket and autocast region on the model's device, as it must on CUDA.
 *
 * libtorch 1.13's C++ build lacks meta kernels for five ops the encoders use (index_select under embedding,
 * layer_norm, relu, abs, where; PyTorch supplies them from Python, torch/_meta_registrations.py). This test
 * supplies the same shape rules for those five, with libtorch's device rule (every tensor argument on one device,
 * 0-dim CPU tensors excepted); every other op is libtorch's own meta kernel and device check.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SentenceEncoder, type Precision, type WeightsDtype } from '../src/models/index.js';
import { cudaDeviceCount, empty, noGrad, resolveDevice, scope, tensor } from '../src/tensor/index.js';
import { native, type Handle, type NativeAddon } from '../src/tensor/native.js';
import { expectOneLineError, fixturesDir } from './helpers.js';
import { runCli } from './cli.js';

type Fn = (...args: never[]) => unknown;
const originals = new Map<string, Fn>();

/** libtorch's rule: all tensor arguments on one device (a 0-dim CPU tensor may join any device). */
function commonDevice(op: string, handles: Array<Handle | undefined>): string {
  const a = native();
  const devices = new Set(handles.filter((h): h is Handle => h !== undefined && !(a.device(h) === 'cpu' && a.shape(h).length === 0)).map((h) => a.device(h)));
  if (devices.size > 1) throw new Error(`${op}: Expected all tensors to be on the same device, but found at least two devices, ${[...devices].join(' and ')}!`);
  return [...devices][0] ?? 'cpu';
}

function broadcast(...shapes: number[][]): number[] {
  const n = Math.max(...shapes.map((s) => s.length));
  return Array.from({ length: n }, (_, i) => Math.max(...shapes.map((s) => s[s.length - n + i] ?? 1)));
}

/** Wraps an addon op: on meta inputs, the output's shape and dtype by the op's rule; otherwise libtorch runs it. */
function supplyMeta<K extends keyof NativeAddon>(op: K, tensors: (args: unknown[]) => Array<Handle | undefined>, out: (args: unknown[]) => { shape: number[]; dtype: Handle }): void {
  const a = native() as unknown as Record<string, Fn>;
  const original = a[op]!;
  originals.set(op, original);
  a[op] = ((...args: unknown[]) => {
    if (commonDevice(op, tensors(args)) !== 'meta') return (original as (...x: unknown[]) => unknown)(...args);
    const o = out(args);
    return native().empty(o.shape, o.dtype, 'meta');
  }) as Fn;
}

before(() => {
  const a = native();
  const h = (x: unknown) => x as Handle;
  supplyMeta('embedding', ([w, ids]) => [h(w), h(ids)], ([w, ids]) => ({ shape: [...a.shape(h(ids)), a.shape(h(w))[1]!], dtype: a.dtype(h(w)) as Handle }));
  supplyMeta('layerNorm', ([x, , w, b]) => [h(x), h(w), h(b)], ([x]) => ({ shape: a.shape(h(x)), dtype: a.dtype(h(x)) as Handle }));
  supplyMeta('relu', ([x]) => [h(x)], ([x]) => ({ shape: a.shape(h(x)), dtype: a.dtype(h(x)) as Handle }));
  supplyMeta('abs', ([x]) => [h(x)], ([x]) => ({ shape: a.shape(h(x)), dtype: a.dtype(h(x)) as Handle }));
  supplyMeta('where', ([x, c, o]) => [h(x), h(c), h(o)], ([x, c, o]) => {
    assert.equal(a.dtype(h(x)), a.dtype(h(o)), 'where: the model only selects between tensors of one dtype');
    return { shape: broadcast(a.shape(h(x)), a.shape(h(c)), a.shape(h(o))), dtype: a.dtype(h(x)) as Handle };
  });
});

/**
 * libtorch's meta kernels of these ops skip the same-device check their CPU and CUDA kernels make (meta adopts a
 * CPU operand silently); the test adds it and lets libtorch run them.
 */
function checkDevices<K extends keyof NativeAddon>(op: K, tensors: (args: unknown[]) => Array<Handle | undefined>): void {
  const a = native() as unknown as Record<string, Fn>;
  const original = a[op]!;
  originals.set(op, original);
  a[op] = ((...args: unknown[]) => {
    commonDevice(op, tensors(args));
    return (original as (...x: unknown[]) => unknown)(...args);
  }) as Fn;
}

before(() => {
  const h = (x: unknown) => x as Handle;
  for (const op of ['matmul', 'mm', 'bmm'] as const) checkDevices(op, ([x, y]) => [h(x), h(y)]);
  checkDevices('linear', ([x, w, b]) => [h(x), h(w), b === undefined ? undefined : h(b)]);
  checkDevices('maskedFill', ([x, mask]) => [h(x), h(mask)]);
  for (const op of ['cat', 'stack'] as const) checkDevices(op, ([list]) => (list as Handle[]).map(h));
});

after(() => {
  const a = native() as unknown as Record<string, Fn>;
  for (const [op, fn] of originals) a[op] = fn;
});

test('libtorch refuses to mix meta and CPU tensors (the rule this test relies on), 0-dim CPU tensors excepted', () => {
  scope(() => {
    const m = empty([2, 3], { device: 'meta' });
    assert.throws(() => m.add(tensor(new Float32Array(6), { shape: [2, 3] })), /same device/);
    assert.throws(() => m.matmul(tensor(new Float32Array(6), { shape: [3, 2] })), /device/);
    assert.equal(m.add(tensor(1)).device, 'meta');
  });
});

const MODELS = ['gtr-t5-tiny-relu', 'tasb-distilbert-tiny', 'bert-tiny-mean'];
const TEXTS = ['what causes tides?', 'the moon pulls the oceans; a much longer passage about tides, gravity and water', 'x'];

// Autocast affects CPU and CUDA tensors only, so on meta a bf16 compute run keeps fp32 weights (bf16 weights are
// covered by the fp32-compute run, which widens them as it uses them).
const RUNS: Array<{ dtype: Precision; weightsDtype: WeightsDtype }> = [
  { dtype: 'fp32', weightsDtype: 'fp32' }, { dtype: 'fp32', weightsDtype: 'bf16' }, { dtype: 'bf16', weightsDtype: 'fp32' },
];

for (const name of MODELS) {
  for (const { dtype, weightsDtype } of RUNS) {
    test(`${name} (compute ${dtype}, weights ${weightsDtype}): weights load onto meta and a forward pass creates every tensor there`, () => {
      const enc = SentenceEncoder.load(join(fixturesDir, 'models', name), { device: 'meta', dtype, weightsDtype });
      try {
        assert.equal(enc.device, 'meta');
        for (const [key, p] of enc.namedParameters()) assert.equal(p.device, 'meta', key);
        noGrad(() =>
          scope(() => {
            for (const kind of ['query', 'passage'] as const) {
              const batch = enc.tokenize(TEXTS, kind);
              const out = enc.forward(batch);
              assert.equal(out.device, 'meta');
              assert.deepEqual(out.shape, [TEXTS.length, enc.dim]);
              assert.equal(enc.tokenEmbeddings(batch).device, 'meta');
            }
          }),
        );
      } finally {
        enc.dispose();
      }
    });
  }
}

test('the check can fail: a batch made on the CPU is refused by a model on meta', () => {
  const dir = join(fixturesDir, 'models', 'gtr-t5-tiny-relu');
  const onCpu = SentenceEncoder.load(dir);
  const onMeta = SentenceEncoder.load(dir, { device: 'meta' });
  try {
    scope(() => {
      const cpuBatch = onCpu.tokenize(TEXTS, 'passage');
      assert.throws(() => onMeta.forward(cpuBatch), /device/);
    });
  } finally {
    onCpu.dispose();
    onMeta.dispose();
  }
});

test('SentenceEncoder.to moves the parameters in place (same objects, requires_grad kept) and later batches follow', () => {
  const enc = SentenceEncoder.load(join(fixturesDir, 'models', 'bert-tiny-mean'));
  try {
    const before = [...enc.namedParameters().values()];
    before[0]!.requiresGrad_(true);
    assert.equal(before[0]!.device, 'cpu');
    enc.to('meta');
    const after = [...enc.namedParameters().values()];
    assert.equal(after.length, before.length);
    after.forEach((p, i) => {
      assert.equal(p, before[i], 'the parameter object is kept');
      assert.equal(p.device, 'meta');
    });
    assert.equal(after[0]!.requiresGrad, true);
    assert.equal(enc.device, 'meta');
    scope(() => assert.equal(enc.forward(enc.tokenize(TEXTS, 'query')).device, 'meta'));
  } finally {
    enc.dispose();
  }
});

test('device names: bad syntax is refused; a CUDA device this libtorch cannot see is refused in one line', () => {
  expectOneLineError(() => resolveDevice('gpu'), /unknown device 'gpu'/);
  expectOneLineError(() => resolveDevice('cuda:01'), /unknown device/);
  const count = cudaDeviceCount();
  const model = join(fixturesDir, 'models', 'gtr-t5-tiny-relu');
  if (count === 0) {
    for (const d of ['cuda', 'cuda:0', 'cuda:3'] as const)
      expectOneLineError(() => SentenceEncoder.load(model, { device: d }), new RegExp(`device '${d}'`), /sees no CUDA device/);
  }
  expectOneLineError(() => resolveDevice(`cuda:${Math.max(count, 1) + 7}`), /cuda/);
});

test('densekit encode --device cuda on a CPU-only libtorch: one error line, non-zero exit, nothing written', (t) => {
  if (cudaDeviceCount() > 0) {
    t.skip('this libtorch sees a GPU');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'densekit-device-'));
  try {
    const input = join(dir, 'q.tsv');
    writeFileSync(input, 'q1\twhat causes tides?\n');
    for (const device of ['cuda', 'cuda:2', 'meta', 'tpu']) {
      const r = runCli(['encode', '--model', join(fixturesDir, 'models', 'gtr-t5-tiny-relu'), '--input', input, '--output', join(dir, 'out'), '--device', device]);
      assert.notEqual(r.code, 0, device);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, /--device/);
      assert.match(lines[0]!, /error/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
