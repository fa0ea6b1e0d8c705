/**
 * `--dtype int8` (dynamic quantization of the linear layers, as torch.ao's quantize_dynamic; src/models/layers.ts
 * Linear.quantizeInt8 over the addon's linearInt8Pack): one packed layer against float64 arithmetic done here (the
 * error bound that int8 weights and per-call uint8 activations allow, and the bias inside), the packed form's
 * lifetime (a freed handle's slot, reused by another tensor, is an ordinary tensor again), and whole models
 * against sentence-transformers' embeddings (cosine >= 0.999, the bound `--dtype auto` trades for speed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SentenceEncoder } from '../src/models/index.js';
import { Linear, quantizeDynamicInt8 } from '../src/models/layers.js';
import { StateDictWeights } from '../src/models/weights.js';
import { inMemory } from '../src/io/index.js';
import { F, int8Engine, tensor } from '../src/tensor/index.js';
import { seededRandom } from '../src/util/random.js';
import { cosine, expectOneLineError, fixturesDir, maxAbsDiff, readJson } from './helpers.js';

const rnd = seededRandom(5);
const randn = (n: number, s = 1) => Float32Array.from({ length: n }, () => (rnd() + rnd() + rnd() - 1.5) * 2 * s);
const haveEngine = int8Engine() !== '';

test('linearInt8Pack + linear: x W^T + b within the int8 rounding bound of float64 arithmetic, bias included', { skip: !haveEngine && 'no int8 engine in this libtorch' }, () => {
  const [N, K, O] = [7, 48, 20];
  const X = randn(N * K), W = randn(O * K, 0.3), B = randn(O, 0.5);
  const x = tensor(X, { shape: [N, K] });
  const w = tensor(W, { shape: [O, K] });
  const b = tensor(B, { shape: [O] });
  const packed = F.linearInt8Pack(w, b);
  assert.deepEqual(packed.shape, [O, K]);
  assert.equal(packed.dtype, 'int8');
  const got = F.linear(x, packed).toFloat32Array();
  // Per-row weight scale max|W[o,:]|/127 (half a step of error each), activations in 256 steps over [min(x, 0), max(x, 0)].
  const xmin = Math.min(0, ...X), xmax = Math.max(0, ...X);
  const xstep = (xmax - xmin) / 255;
  let worstRatio = 0;
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < O; o++) {
      let ref = B[o]!, bound = 0;
      const wstep = Math.max(...Array.from(W.subarray(o * K, (o + 1) * K), Math.abs)) / 127;
      for (let k = 0; k < K; k++) {
        const xv = X[n * K + k]!, wv = W[o * K + k]!;
        ref += xv * wv;
        bound += (Math.abs(xv) * wstep + Math.abs(wv) * xstep + (wstep * xstep) / 2) / 2;
      }
      const err = Math.abs(got[n * O + o]! - ref);
      assert.ok(err <= bound + 1e-5, `y[${n},${o}] = ${got[n * O + o]} vs ${ref}: error ${err} over the bound ${bound}`);
      worstRatio = Math.max(worstRatio, err / bound);
    }
  }
  // It really is quantized (an fp32 fallback would sit far inside the bound).
  const exact = F.linear(x, w, b).toFloat32Array();
  assert.ok(maxAbsDiff(got, exact) > 1e-4, 'int8 output equals the fp32 one');
  assert.ok(worstRatio > 0.01);
  expectOneLineError(() => F.linear(x, packed, b), /carries its own bias/);
  for (const t of [x, w, b, packed]) t.dispose();
});

test('a freed packed handle leaves no packing behind: the slot, reused by a float tensor, is a plain weight again', { skip: !haveEngine && 'no int8 engine in this libtorch' }, () => {
  const x = tensor([1, 2, 3, 4, 5, 6], { shape: [2, 3] });
  const packed = F.linearInt8Pack(tensor([1, 0, 0, 0, 1, 0], { shape: [2, 3] }));
  packed.dispose();
  // The next tensors take the freed slots; none of them may be treated as packed.
  const ws = Array.from({ length: 4 }, () => tensor([0, 0, 1, 1, 0, 0], { shape: [2, 3] }));
  for (const w of ws) assert.deepEqual(Array.from(F.linear(x, w).toFloat32Array()), [3, 1, 6, 4]);
  for (const t of [x, ...ws]) t.dispose();
});

test('Linear.quantizeInt8: the float weight and bias are freed and the parameters are the int8 codes only', { skip: !haveEngine && 'no int8 engine in this libtorch' }, () => {
  const W = randn(6 * 4, 0.5), B = randn(6);
  const weights = new StateDictWeights(new Map([['l.weight', inMemory({ dtype: 'float32', shape: [6, 4], data: new Uint8Array(W.buffer) })], ['l.bias', inMemory({ dtype: 'float32', shape: [6], data: new Uint8Array(B.buffer) })]]), 'test');
  const lin = new Linear(weights, 'l', 4, 6, true);
  const before = [lin.weight, lin.bias!];
  assert.equal(quantizeDynamicInt8(lin), 1);
  assert.ok(before.every((t) => t.isDisposed));
  assert.deepEqual([...lin.namedParameters().keys()], ['weight']);
  assert.equal(lin.weight.dtype, 'int8');
  assert.equal(quantizeDynamicInt8(lin), 0, 'already quantized');
  const x = tensor(randn(3 * 4), { shape: [3, 4] });
  const y = lin.forward(x);
  assert.deepEqual(y.shape, [3, 6]);
  for (const t of [x, y]) t.dispose();
  lin.dispose();
});

interface Oracle {
  text_cases: { text: string; embedding: number[] }[];
}

for (const name of ['gtr-t5-tiny-relu', 'tasb-distilbert-tiny', 'bert-tiny-mean']) {
  test(`${name}: int8 embeddings have cosine >= 0.999 to sentence-transformers' fp32 ones`, { skip: !haveEngine && 'no int8 engine in this libtorch' }, () => {
    const dir = join(fixturesDir, 'models', name);
    const oracle = readJson<Oracle>(join(dir, 'oracle.json'));
    const int8 = SentenceEncoder.load(dir, { dtype: 'int8' });
    try {
      assert.equal(int8.dtype, 'int8');
      assert.ok([...int8.namedParameters().values()].some((t) => t.dtype === 'int8'));
      const got = int8.embed(oracle.text_cases.map((c) => c.text), 'passage', { batchSize: 4 }).vectors;
      const dim = int8.dim;
      let worst = 1;
      oracle.text_cases.forEach((c, i) => {
        worst = Math.min(worst, cosine(got.subarray(i * dim, (i + 1) * dim), c.embedding));
      });
      assert.ok(worst >= 0.999, `${name}: worst cosine ${worst}`);
      assert.ok(worst < 1 - 1e-9, 'int8 vectors differ from fp32 ones (the weights were quantized)');
      expectOneLineError(() => int8.save(join(dir, 'never-written')), /cannot be saved/);
      expectOneLineError(() => int8.train(), /inference only/);
    } finally {
      int8.dispose();
    }
  });
}

test('why --dtype auto never picks int8: its vectors move with their batch ~10x more than bf16 ones (fp32: not at all)', { skip: !haveEngine && 'no int8 engine in this libtorch' }, () => {
  // A text alone vs batched with five others (other lengths, so padding differs too). fp32 is batch-invariant;
  // bf16 moves by its rounding; int8 also by the activation scale the whole batch shares.
  const worst: Record<string, number> = {};
  for (const name of ['tasb-distilbert-tiny', 'gtr-t5-tiny-relu']) {
    const dir = join(fixturesDir, 'models', name);
    const texts = readJson<Oracle>(join(dir, 'oracle.json')).text_cases.map((c) => c.text).slice(0, 6);
    for (const dtype of ['fp32', 'bf16', 'int8'] as const) {
      const enc = SentenceEncoder.load(dir, { dtype });
      try {
        const together = enc.embed(texts, 'passage', { batchSize: 6 }).vectors;
        let w = 1;
        texts.forEach((t, i) => {
          const alone = enc.embed([t], 'passage').vectors;
          const batched = together.subarray(i * enc.dim, (i + 1) * enc.dim);
          if (dtype === 'fp32') assert.ok(maxAbsDiff(alone, batched) <= 1e-5, `${name} fp32: batched vs alone`);
          w = Math.min(w, cosine(alone, batched));
        });
        worst[`${name} ${dtype}`] = w;
      } finally {
        enc.dispose();
      }
    }
    const [bf16, int8] = [1 - worst[`${name} bf16`]!, 1 - worst[`${name} int8`]!];
    assert.ok(int8 <= 1e-3, `${name} int8: cosine batched vs alone ${1 - int8}`);
    assert.ok(int8 > 3 * bf16, `${name}: int8 moves ${int8}, bf16 ${bf16}`);
  }
});

test('int8 is refused off the CPU in one line', () => {
  expectOneLineError(() => SentenceEncoder.load(join(fixturesDir, 'models', 'tasb-distilbert-tiny'), { dtype: 'int8', device: 'meta' }), /CPU only/);
});
