/**
 * `--quantize int8` (src/backends/onnx/quantize-int8.ts) on a hand-built graph, checked with ONNX Runtime against
 * plain float64 arithmetic done here: MatMul + bias-first Add (torch's export), Gemm with transB/alpha/beta, and an
 * activation x activation MatMul that must stay fp32. Also: ORT's optimizer fuses what the pass writes (the point
 * of its exact shape), per-column scales are max |W[:, j]| / 127, and bad models are refused in one line.
 * The same pass on the exported fixture models (cosine to sentence-transformers >= 0.999) is in onnx.engine.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { quantizeColumns, quantizeDynamicInt8 } from '../src/backends/onnx/quantize-int8.js';
import { seededRandom } from '../src/util/random.js';
import { cosine, expectOneLineError } from './helpers.js';
import { ModelProto } from '../src/backends/onnx/schema.js';

// The exporter's protobufjs schema (onnx.proto's field names) writes the graph; ONNX Runtime, which reads it, is the judge.
const onnx = { ModelProto: { create: (o: object) => ModelProto.fromObject(o), encode: (m: any) => ({ finish: () => ModelProto.encode(ModelProto.fromObject(m)).finish() }), decode: (b: Uint8Array): any => ModelProto.decode(b) } };

const FLOAT = 1;
const B = 5, K = 16, H = 32, O = 24;
const rnd = seededRandom(11);
const randn = (n: number, s = 1) => Float32Array.from({ length: n }, () => (rnd() + rnd() + rnd() - 1.5) * 2 * s);
const W1 = randn(K * H, 0.5), B1 = randn(H, 0.1), W2 = randn(O * H, 0.5), B2 = randn(O, 0.1);
const ALPHA = 0.5, BETA = 2;
const X = randn(B * K);

function init(name: string, dims: number[], data: Float32Array) {
  return { name, dims, data_type: FLOAT, raw_data: new Uint8Array(data.buffer.slice(0)) };
}
function info(name: string, dims: Array<number | string>) {
  return { name, type: { tensor_type: { elem_type: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } } };
}

/** x [b, K] -> relu(x W1 + B1) -> Gemm(., W2^T, B2, alpha, beta) = y [b, O];  t = x x^T [b, b]. */
function model(opset = 17): any {
  return onnx.ModelProto.create({
    ir_version: 8, opset_import: [{ domain: '', version: opset }], producer_name: 'test',
    graph: {
      name: 'g',
      input: [info('x', ['b', K])],
      output: [info('y', ['b', O]), info('t', ['b', 'b'])],
      initializer: [init('W1', [K, H], W1), init('B1', [H], B1), init('W2', [O, H], W2), init('B2', [O], B2)],
      node: [
        { op_type: 'MatMul', input: ['x', 'W1'], output: ['h0'], name: 'mm1' },
        { op_type: 'Add', input: ['B1', 'h0'], output: ['h1'], name: 'bias1' },
        { op_type: 'Relu', input: ['h1'], output: ['h2'] },
        { op_type: 'Gemm', input: ['h2', 'W2', 'B2'], output: ['y'], name: 'gemm', attribute: [
          { name: 'transB', type: 2, i: 1 }, { name: 'alpha', type: 1, f: ALPHA }, { name: 'beta', type: 1, f: BETA }] },
        { op_type: 'Transpose', input: ['x'], output: ['xt'] },
        { op_type: 'MatMul', input: ['x', 'xt'], output: ['t'] },
      ],
    },
  });
}

/** The graph's function in float64, written out. */
function reference(): { y: Float64Array; t: Float64Array } {
  const y = new Float64Array(B * O), t = new Float64Array(B * B);
  for (let r = 0; r < B; r++) {
    const h = new Float64Array(H);
    for (let j = 0; j < H; j++) {
      let s = B1[j]!;
      for (let k = 0; k < K; k++) s += X[r * K + k]! * W1[k * H + j]!;
      h[j] = Math.max(0, s);
    }
    for (let o = 0; o < O; o++) {
      let s = 0;
      for (let j = 0; j < H; j++) s += h[j]! * W2[o * H + j]!;
      y[r * O + o] = ALPHA * s + BETA * B2[o]!;
    }
    for (let c = 0; c < B; c++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += X[r * K + k]! * X[c * K + k]!;
      t[r * B + c] = s;
    }
  }
  return { y, t };
}

async function run(bytes: Uint8Array, optimized?: string) {
  const s = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', ...(optimized ? { optimizedModelFilePath: optimized } : {}) });
  const r = await s.run({ x: new ort.Tensor('float32', X, [B, K]) });
  const out = { y: r.y!.data as Float32Array, t: r.t!.data as Float32Array };
  await s.release();
  return out;
}

test('int8 pass: vectors within cosine 0.9999 of float64 math, attention-like MatMul untouched, weights int8 per column', async () => {
  const ref = reference();
  const fp32 = await run(onnx.ModelProto.encode(model()).finish());
  const m = onnx.ModelProto.decode(onnx.ModelProto.encode(model()).finish());
  const report = quantizeDynamicInt8(m);
  assert.equal(report.quantized, 2, 'the two weight products, not x x^T');
  const bytes: Uint8Array = onnx.ModelProto.encode(m).finish();
  const dir = mkdtempSync(join(tmpdir(), 'dk-int8-'));
  try {
    const optimizedPath = join(dir, 'opt.onnx');
    const int8 = await run(bytes, optimizedPath);
    for (let r = 0; r < B; r++) {
      const row = (a: ArrayLike<number>) => Array.from(a).slice(r * O, (r + 1) * O);
      assert.ok(cosine(row(fp32.y), row(ref.y)) > 0.999999, 'fp32 graph = reference');
      const c = cosine(row(int8.y), row(ref.y));
      assert.ok(c >= 0.9999, `row ${r}: int8 cosine ${c}`);
      assert.ok(c < 1 - 1e-9, 'int8 output differs from fp32 (the weights were quantized)');
    }
    for (let i = 0; i < B * B; i++) assert.ok(Math.abs(int8.t[i]! - ref.t[i]!) <= 1e-4 * Math.max(1, Math.abs(ref.t[i]!)), 'x x^T stays fp32');
    // The graph ORT runs after its optimizer: every MatMulInteger fused into its accelerated kernels.
    const opt = onnx.ModelProto.decode(readFileSync(optimizedPath));
    const ops = new Set<string>(opt.graph.node.map((n: { op_type: string }) => n.op_type));
    assert.ok(ops.has('DynamicQuantizeMatMul') || ops.has('MatMulIntegerToFloat'), `fused: ${[...ops].join(', ')}`);
    assert.ok(!ops.has('MatMulInteger'), `no unfused MatMulInteger left: ${[...ops].join(', ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // The float weights are gone from the file; int8 matrices replace them.
  const names = new Map<string, any>(m.graph.initializer.map((t: any) => [t.name, t]));
  assert.ok(!names.has('W1') && !names.has('W2'));
  const q = [...names.values()].filter((t) => t.data_type === 3 && t.dims.length === 2);
  assert.deepEqual(q.map((t) => t.dims.map(Number)).sort(), [[H, O], [K, H]].sort(), 'W2 stored transposed to [K, N] for MatMulInteger');
});

test('int8 columns: scale max|W[:, j]|/127, codes reach +-127 and reconstruct W within half a step', () => {
  const k = 7, n = 5;
  const w = randn(k * n);
  w.fill(0, 0, 0);
  for (let i = 0; i < k; i++) w[i * n + 4] = 0; // an all-zero column
  const { q, scales } = quantizeColumns(w, k, n);
  for (let j = 0; j < n; j++) {
    let max = 0, maxQ = 0;
    for (let i = 0; i < k; i++) {
      max = Math.max(max, Math.abs(w[i * n + j]!));
      maxQ = Math.max(maxQ, Math.abs(q[i * n + j]!));
      assert.ok(Math.abs(q[i * n + j]! * scales[j]! - w[i * n + j]!) <= scales[j]! / 2 + 1e-7);
    }
    if (max === 0) assert.equal(maxQ, 0);
    else {
      assert.ok(Math.abs(scales[j]! - max / 127) <= 1e-7 * max);
      assert.equal(maxQ, 127);
    }
  }
});

test('int8 pass refuses, in one line, an old opset and a graph with nothing to quantize', () => {
  const old = onnx.ModelProto.decode(onnx.ModelProto.encode(model(10)).finish());
  expectOneLineError(() => quantizeDynamicInt8(old), /opset is 10/, /11/);
  const none = onnx.ModelProto.decode(onnx.ModelProto.encode(model()).finish());
  none.graph.node = none.graph.node.filter((n: { op_type: string; input: string[] }) => n.op_type === 'Transpose' || (n.op_type === 'MatMul' && n.input[1] === 'xt'));
  expectOneLineError(() => quantizeDynamicInt8(none), /no MatMul or Gemm with a weight matrix/);
});
