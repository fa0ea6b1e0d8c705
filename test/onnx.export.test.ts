/**
 * ONNX export (src/backends/onnx): the graph recorded from densekit's own model definitions, run by an independent
 * onnxruntime-node session, reproduces sentence-transformers' oracle (../shared/fixtures/models/*\/oracle.json)
 * and the float64 references of the T5 shape families (test/fixtures/t5-shapes), within 1e-5, at several batch
 * sizes and lengths through one file; and agrees with densekit's libtorch path on the same batches.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { exportOnnx, type OnnxExportOptions } from '../src/backends/onnx/export.js';
import { OnnxRecorder } from '../src/backends/onnx/recorder.js';
import { writeSafetensors } from '../src/io/index.js';
import { SentenceEncoder } from '../src/models/index.js';
import { noGrad, scope, tensor, Tensor, withBackend, zeros, arange } from '../src/tensor/index.js';
import { cosine, fixturesDir, maxAbsDiff, readJson, repoRoot } from './helpers.js';
import { runCli } from './cli.js';

interface Case { input_ids: number[]; attention_mask: number[]; token_type_ids?: number[]; embedding: number[]; last_hidden_state?: number[][] }
interface Oracle {
  cases: Case[];
  padded_batch: { input_ids: number[][]; attention_mask: number[][]; token_type_ids?: number[][]; embeddings: number[][] };
}

const TOL = 1e-5;
const MODELS = ['gtr-t5-tiny-relu', 'tasb-distilbert-tiny', 'bert-tiny-mean'];
const work = mkdtempSync(join(tmpdir(), 'densekit-onnx-'));
after(() => rmSync(work, { recursive: true, force: true }));

async function exported(src: string, name: string, opts: Partial<OnnxExportOptions> = {}): Promise<string> {
  const out = join(work, name);
  await exportOnnx(src, { output: out, ...opts });
  return out;
}

function int64(rows: number[][]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0]!.length]);
}

async function runOrt(session: ort.InferenceSession, ids: number[][], mask: number[][]): Promise<{ sentence: Float32Array; tokens: Float32Array; dims: readonly number[] }> {
  const out = await session.run({ input_ids: int64(ids), attention_mask: int64(mask) });
  return { sentence: out.sentence_embedding!.data as Float32Array, tokens: out.token_embeddings!.data as Float32Array, dims: out.token_embeddings!.dims };
}

function runTorch(enc: SentenceEncoder, ids: number[][], mask: number[][]): Float32Array {
  return noGrad(() =>
    scope(() => {
      const shape = [ids.length, ids[0]!.length];
      return enc.forward({ inputIds: tensor(ids.flat(), { shape, dtype: 'int64' }), attentionMask: tensor(mask.flat(), { shape, dtype: 'int64' }) }).toFloat32Array();
    }),
  );
}

/** Rows whose token types are all zero: the graph encodes single texts (types zero), as densekit's encoder does. */
function singleTextRows(types: number[][] | undefined, n: number): number[] {
  return [...Array(n).keys()].filter((r) => !types || types[r]!.every((t) => t === 0));
}

function rowsOf(flat: ArrayLike<number>, dim: number, rows: number[]): number[] {
  return rows.flatMap((r) => Array.from({ length: dim }, (_, i) => flat[r * dim + i]!));
}

for (const name of MODELS) {
  const src = join(fixturesDir, 'models', name);
  const oracle = readJson<Oracle>(join(src, 'oracle.json'));

  test(`${name}: ONNX Runtime on the exported graph matches sentence-transformers and the libtorch path`, async () => {
    const dir = await exported(src, name);
    for (const f of ['model.onnx', 'densekit-onnx.json']) assert.ok(existsSync(join(dir, f)), f);
    const session = await ort.InferenceSession.create(join(dir, 'model.onnx'));
    assert.deepEqual(session.inputNames, ['input_ids', 'attention_mask']);
    assert.deepEqual([...session.outputNames].sort(), ['sentence_embedding', 'token_embeddings']);
    const enc = SentenceEncoder.load(src);
    try {
      const dim = enc.dim;
      const pb = oracle.padded_batch;
      const got = await runOrt(session, pb.input_ids, pb.attention_mask);
      const rows = singleTextRows(pb.token_type_ids, pb.input_ids.length);
      assert.ok(rows.length >= pb.input_ids.length - 1);
      const vsOracle = maxAbsDiff(rowsOf(got.sentence, dim, rows), rowsOf(pb.embeddings.flat(), dim, rows));
      const vsTorch = maxAbsDiff(got.sentence, runTorch(enc, pb.input_ids, pb.attention_mask));
      console.log(`# ${name}: padded batch [${pb.input_ids.length}, ${pb.input_ids[0]!.length}] max abs diff vs oracle ${vsOracle.toExponential(2)}, vs libtorch ${vsTorch.toExponential(2)}`);
      assert.ok(vsOracle <= TOL, `padded batch vs oracle: ${vsOracle}`);
      assert.ok(vsTorch <= TOL, `padded batch vs libtorch: ${vsTorch}`);
      // Batch 1 at every case's own length, through the same file: the axes are dynamic.
      let worst = 0;
      for (const [i, c] of oracle.cases.entries()) {
        if (c.token_type_ids?.some((t) => t !== 0)) continue;
        const one = await runOrt(session, [c.input_ids], [c.attention_mask]);
        worst = Math.max(worst, maxAbsDiff(one.sentence, c.embedding));
        assert.ok(maxAbsDiff(one.sentence, c.embedding) <= TOL, `case ${i} (len ${c.input_ids.length}): ${maxAbsDiff(one.sentence, c.embedding)}`);
        if (c.last_hidden_state) {
          assert.deepEqual(one.dims, [1, c.input_ids.length, c.last_hidden_state[0]!.length]);
          assert.ok(maxAbsDiff(one.tokens, c.last_hidden_state.flat()) <= TOL, `case ${i} token_embeddings: ${maxAbsDiff(one.tokens, c.last_hidden_state.flat())}`);
        }
      }
      console.log(`# ${name}: ${oracle.cases.length} cases unbatched, worst max abs diff vs oracle ${worst.toExponential(2)}`);
    } finally {
      enc.dispose();
    }
  });
}

test('densekit-onnx.json describes the vectors, the limits and the graph', async () => {
  const dir = await exported(join(fixturesDir, 'models', 'gtr-t5-tiny-relu'), 'manifest');
  const m = readJson<Record<string, unknown>>(join(dir, 'densekit-onnx.json'));
  assert.equal(m.similarity, 'cosine');
  assert.equal(m.dim, 64);
  assert.deepEqual(m.pooling, { cls: false, max: false, mean: true, meanSqrtLen: false });
  assert.deepEqual(m.maxLength, { query: 64, passage: 64 });
  assert.equal(m.opset, 17);
  assert.equal(m.weightsDtype, 'fp32');
  assert.match(String(m.modelDigest), /^[0-9a-f]{64}$|sha256/);
  assert.ok(existsSync(join(dir, 'spiece.model')), 'the tokenizer travels with the graph');
});

// The shape families of the published GTR-XL/XXL checkpoints (v1.1 gated-gelu, d_kv * heads != d_model, shared +
// embed_tokens, Dense with bias, fp16 storage): ORT against their float64 references and the libtorch path.
for (const family of ['v11-gated-fp16-sharded-st', 'v10-relu-sharded-bin']) {
  test(`T5 shape family ${family}: ONNX Runtime matches the float64 reference and libtorch`, async () => {
    const src = join(work, `src-${family}`);
    cpSync(join(repoRoot, 'test/fixtures/t5-shapes', family), src, { recursive: true });
    for (const f of ['spiece.model', 'tokenizer_config.json', 'special_tokens_map.json']) cpSync(join(fixturesDir, 'models/gtr-t5-tiny-relu', f), join(src, f));
    const oracle = readJson<Oracle>(join(src, 'oracle.json'));
    const dir = await exported(src, family);
    const session = await ort.InferenceSession.create(join(dir, 'model.onnx'));
    const enc = SentenceEncoder.load(src, { weightsDtype: 'fp32' });
    try {
      const pb = oracle.padded_batch;
      const got = await runOrt(session, pb.input_ids, pb.attention_mask);
      const vsRef = maxAbsDiff(got.sentence, pb.embeddings.flat());
      const vsTorch = maxAbsDiff(got.sentence, runTorch(enc, pb.input_ids, pb.attention_mask));
      console.log(`# ${family}: padded batch max abs diff vs float64 reference ${vsRef.toExponential(2)}, vs libtorch ${vsTorch.toExponential(2)}`);
      assert.ok(vsRef <= TOL, `vs reference: ${vsRef}`);
      assert.ok(vsTorch <= TOL, `vs libtorch: ${vsTorch}`);
      for (const [i, c] of oracle.cases.entries()) {
        const one = await runOrt(session, [c.input_ids], [c.input_ids.map(() => 1)]);
        assert.ok(maxAbsDiff(one.sentence, c.embedding) <= TOL, `case ${i}: ${maxAbsDiff(one.sentence, c.embedding)}`);
      }
    } finally {
      enc.dispose();
    }
  });
}

test('fp16 weights: about half the file, and ONNX Runtime within cosine 0.999 of the fp32 export', async () => {
  const src = join(fixturesDir, 'models', 'tasb-distilbert-tiny');
  const fp32 = await exported(src, 'w32');
  const fp16 = await exported(src, 'w16', { weightsDtype: 'fp16' });
  const s32 = statSync(join(fp32, 'model.onnx')).size;
  const s16 = statSync(join(fp16, 'model.onnx')).size;
  assert.ok(s16 < 0.6 * s32, `fp16 ${s16} bytes vs fp32 ${s32}`);
  const pb = readJson<Oracle>(join(src, 'oracle.json')).padded_batch;
  const a = await runOrt(await ort.InferenceSession.create(join(fp32, 'model.onnx')), pb.input_ids, pb.attention_mask);
  const b = await runOrt(await ort.InferenceSession.create(join(fp16, 'model.onnx')), pb.input_ids, pb.attention_mask);
  let worst = 1;
  for (let r = 0; r < pb.input_ids.length; r++) worst = Math.min(worst, cosine(a.sentence.subarray(r * 64, (r + 1) * 64), b.sentence.subarray(r * 64, (r + 1) * 64)));
  console.log(`# fp16 weights: model.onnx ${s16} vs ${s32} bytes, worst cosine to fp32 ${worst.toFixed(6)}`);
  assert.ok(worst >= 0.999, `worst cosine ${worst}`);
  assert.ok(maxAbsDiff(a.sentence, b.sentence) > 0, 'fp16 storage must change the numbers a little (else it was not applied)');
});

test('weights over the threshold go to model.onnx_data (external data), with the same results', async () => {
  const src = join(fixturesDir, 'models', 'bert-tiny-mean');
  const inline = await exported(src, 'inline');
  const ext = await exported(src, 'external', { externalDataThreshold: 10_000 });
  assert.ok(!existsSync(join(inline, 'model.onnx_data')));
  assert.ok(existsSync(join(ext, 'model.onnx_data')));
  assert.ok(statSync(join(ext, 'model.onnx')).size < 50_000, 'model.onnx keeps only the graph and small constants');
  assert.ok(statSync(join(ext, 'model.onnx_data')).size > 300_000);
  assert.equal(readJson<{ externalData: string }>(join(ext, 'densekit-onnx.json')).externalData, 'model.onnx_data');
  const pb = readJson<Oracle>(join(src, 'oracle.json')).padded_batch;
  const a = await runOrt(await ort.InferenceSession.create(join(inline, 'model.onnx')), pb.input_ids, pb.attention_mask);
  const b = await runOrt(await ort.InferenceSession.create(join(ext, 'model.onnx')), pb.input_ids, pb.attention_mask);
  assert.deepEqual(Array.from(b.sentence), Array.from(a.sentence));
});

test('the recorder refuses what it cannot follow, in one clear message', () => {
  const rec = new OnnxRecorder();
  const b = rec.backend;
  const ids = new Tensor(rec.input('input_ids', 'int64', ['batch', 'sequence']), b);
  const [batch, length] = ids.shape as [number, number];
  assert.throws(() => withBackend(b, () => arange(0, length - 1)), /arithmetic on a symbolic \(batch or sequence\) dimension/);
  assert.throws(() => ids.view([batch * length]), /arithmetic on a symbolic/);
  assert.throws(() => ids.to('float32').topk(2), /recorder: topk is not supported/);
  assert.throws(() => ids.item(), /recorder: item is not supported/);
  // Tensors of two backends never meet in one op.
  const real = zeros([1, 1], { dtype: 'int64' });
  assert.throws(() => ids.add(real), /two backends in one op: onnx-recorder and libtorch/);
  assert.throws(() => real.add(ids), /two backends in one op: libtorch and onnx-recorder/);
  real.dispose();
  // Shape inference follows the symbols through ops: [batch, sequence] -> [batch, sequence, 1].
  assert.deepEqual(ids.unsqueeze(-1).shape, [batch, length, 1]);
});

test('densekit export --format onnx writes the folder; a bad --format or a missing model is one line and a non-zero exit', async () => {
  const out = join(work, 'cli-out');
  const src = join(fixturesDir, 'models', 'tasb-distilbert-tiny');
  const ok = runCli(['export', '--model', src, '--format', 'onnx', '--output', out]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout.trim(), out);
  for (const f of ['model.onnx', 'densekit-onnx.json', 'vocab.txt', 'tokenizer_config.json']) assert.ok(existsSync(join(out, f)), f);
  const session = await ort.InferenceSession.create(join(out, 'model.onnx'));
  const c = readJson<Oracle>(join(src, 'oracle.json')).cases[3]!;
  assert.ok(maxAbsDiff((await runOrt(session, [c.input_ids], [c.attention_mask])).sentence, c.embedding) <= TOL);
  for (const [args, pattern] of [
    [['export', '--model', src, '--format', 'tflite', '--output', join(work, 'x')], /--format expects one of onnx/],
    [['export', '--model', join(work, 'no-such-model'), '--format', 'onnx', '--output', join(work, 'x')], /no-such-model/],
    [['export', '--model', src, '--format', 'onnx', '--weights-dtype', 'int4', '--output', join(work, 'x')], /--weights-dtype expects one of fp32\|fp16/],
  ] as const) {
    const r = runCli(args);
    assert.notEqual(r.code, 0);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^densekit: error: /);
    assert.match(lines[0]!, pattern);
    assert.ok(!existsSync(join(work, 'x')), 'nothing written on error');
  }
});

test('densekit export --output: a file or a FIFO there is refused in one line and left as it was; a symlinked folder is replaced at its target', () => {
  const src = join(fixturesDir, 'models', 'tasb-distilbert-tiny');
  const file = join(work, 'a-file');
  writeFileSync(file, 'keep me');
  // A FIFO stands for devices (/dev/full): on the old code the test must not replace a real device.
  const fifo = join(work, 'a-fifo');
  execFileSync('mkfifo', [fifo]);
  for (const target of [file, fifo]) {
    const r = runCli(['export', '--model', src, '--format', 'onnx', '--output', target]);
    assert.notEqual(r.code, 0);
    const lines = r.stderr.trim().split('\n');
    assert.match(lines.at(-1)!, /^densekit: error: .*exists and is not a folder/, r.stderr);
    assert.ok(!lines.some((l) => /^\s+at /.test(l)), r.stderr);
  }
  assert.equal(readFileSync(file, 'utf8'), 'keep me');
  assert.ok(lstatSync(fifo).isFIFO(), 'the FIFO is still a FIFO');
  const real = join(work, 'real-out');
  mkdirSync(real);
  writeFileSync(join(real, 'stale.txt'), 'old');
  const link = join(work, 'link-out');
  symlinkSync(real, link);
  const ok = runCli(['export', '--model', src, '--format', 'onnx', '--output', link]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.ok(lstatSync(link).isSymbolicLink(), 'the link stays a link');
  assert.ok(existsSync(join(real, 'model.onnx')) && !existsSync(join(real, 'stale.txt')), 'the target folder was replaced');
});

/** A copy of a fixture with another head: every pooling mode at once, and Dense layers (bias, activation, width change). */
function withHead(fixture: string, name: string, dense: { out: number; bias: boolean; act: string }[], normalize: boolean): string {
  const dir = join(work, `head-${name}`);
  cpSync(join(fixturesDir, 'models', fixture), dir, { recursive: true });
  writeFileSync(join(dir, '1_Pooling', 'config.json'), JSON.stringify({
    word_embedding_dimension: 64, pooling_mode_cls_token: true, pooling_mode_mean_tokens: true, pooling_mode_max_tokens: true, pooling_mode_mean_sqrt_len_tokens: true,
  }));
  const modules: object[] = [{ idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' }, { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' }];
  let width = 4 * 64;
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  dense.forEach((d, i) => {
    const path = `${i + 2}_Dense`;
    mkdirSync(join(dir, path), { recursive: true });
    writeFileSync(join(dir, path, 'config.json'), JSON.stringify({ in_features: width, out_features: d.out, bias: d.bias, activation_function: d.act }));
    const w = Float32Array.from({ length: d.out * width }, () => rand() * 0.2);
    const tensors: Record<string, { dtype: 'float32'; shape: number[]; data: Uint8Array }> = { 'linear.weight': { dtype: 'float32', shape: [d.out, width], data: new Uint8Array(w.buffer) } };
    if (d.bias) tensors['linear.bias'] = { dtype: 'float32', shape: [d.out], data: new Uint8Array(Float32Array.from({ length: d.out }, () => rand()).buffer) };
    writeSafetensors(join(dir, path, 'model.safetensors'), tensors);
    modules.push({ idx: i + 2, name: String(i + 2), path, type: 'sentence_transformers.models.Dense' });
    width = d.out;
  });
  if (normalize) modules.push({ idx: modules.length, name: String(modules.length), path: `${modules.length}_Normalize`, type: 'sentence_transformers.models.Normalize' });
  writeFileSync(join(dir, 'modules.json'), JSON.stringify(modules));
  return dir;
}

for (const [fixture, dense, normalize] of [
  ['tasb-distilbert-tiny', [{ out: 48, bias: true, act: 'torch.nn.modules.activation.Tanh' }, { out: 32, bias: false, act: 'torch.nn.modules.activation.GELU' }], true],
  ['bert-tiny-mean', [{ out: 40, bias: true, act: 'torch.nn.modules.activation.ReLU' }, { out: 24, bias: true, act: 'torch.nn.modules.activation.Sigmoid' }], false],
] as const) {
  test(`${fixture} with cls+max+mean+mean_sqrt_len pooling and Dense ${dense.map((d) => d.out).join('->')}: ONNX Runtime matches libtorch`, async () => {
    const src = withHead(fixture, fixture, [...dense], normalize);
    const dir = await exported(src, `head-out-${fixture}`);
    const session = await ort.InferenceSession.create(join(dir, 'model.onnx'));
    const enc = SentenceEncoder.load(src);
    try {
      assert.equal(enc.dim, dense.at(-1)!.out);
      const pb = readJson<Oracle>(join(src, 'oracle.json')).padded_batch;
      const got = await runOrt(session, pb.input_ids, pb.attention_mask);
      const want = runTorch(enc, pb.input_ids, pb.attention_mask);
      assert.equal(got.sentence.length, want.length);
      console.log(`# ${fixture} head variant: dim ${enc.dim}, max abs diff vs libtorch ${maxAbsDiff(got.sentence, want).toExponential(2)}, first ${Array.from(got.sentence.slice(0, 3), (v) => v.toFixed(5))} vs ${Array.from(want.slice(0, 3), (v) => v.toFixed(5))}`);
      assert.ok(maxAbsDiff(got.sentence, want) <= TOL, `vs libtorch: ${maxAbsDiff(got.sentence, want)}`);
    } finally {
      enc.dispose();
    }
  });
}
