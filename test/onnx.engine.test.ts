/**
 * The onnx engine (src/backends/onnx/engine.ts) on folders `densekit export --format onnx` writes from the fixture
 * models: vectors equal sentence-transformers' (oracle.json text_cases) and the torch engine's within 1e-5; an int8
 * export stays within cosine 0.999 of sentence-transformers; model identity (fp32 = the source model, int8 its own);
 * encode manifests refuse a resume with another engine; --engine errors are one line, including a missing
 * onnxruntime-node.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openTextEncoder } from '../src/encode/index.js';
import { INT8_IDENTITY_SUFFIX, OnnxTextEncoder } from '../src/backends/onnx/engine.js';
import { readEmbeddings, readManifest } from '../src/formats/index.js';
import * as ort from 'onnxruntime-node';
import { ModelProto } from '../src/backends/onnx/schema.js';
import { runCli } from './cli.js';
import { cosine, fixturesDir, maxAbsDiff, readJson } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'dk-onnx-engine-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const FIXTURES = ['tasb-distilbert-tiny', 'bert-tiny-mean', 'gtr-t5-tiny-relu'] as const;
interface Oracle { text_cases: Array<{ text: string; embedding: number[] }> }

const exported = new Map<string, string>();
/** `densekit export` of a fixture (once per fixture and quantization). */
function exportFixture(name: string, quantize?: 'int8'): string {
  const key = `${name}:${quantize ?? 'fp32'}`;
  const done = exported.get(key);
  if (done) return done;
  const out = join(tmp, `export-${name}-${quantize ?? 'fp32'}`);
  const r = runCli(['export', '--model', join(fixturesDir, 'models', name), '--format', 'onnx', '--output', out, ...(quantize ? ['--quantize', quantize] : [])]);
  assert.equal(r.code, 0, r.stderr);
  exported.set(key, out);
  return out;
}

for (const name of FIXTURES) {
  test(`onnx engine = sentence-transformers and the torch engine within 1e-5: ${name}`, async () => {
    const oracle = readJson<Oracle>(join(fixturesDir, 'models', name, 'oracle.json'));
    const texts = oracle.text_cases.map((c) => c.text);
    const onnx = await openTextEncoder(exportFixture(name), { engine: 'auto' });
    const torch = await openTextEncoder(join(fixturesDir, 'models', name), { engine: 'torch' });
    try {
      assert.ok(onnx instanceof OnnxTextEncoder, 'auto picks onnx for an exported folder');
      assert.equal(onnx.model, join(fixturesDir, 'models', name), 'an fp32 export has the identity of its source model');
      assert.equal(onnx.dim, torch.dim);
      assert.equal(onnx.similarity, torch.similarity);
      assert.deepEqual(onnx.maxLength, torch.maxLength);
      // Batched (length-sorted, padded) as in encode, and one text at a time.
      const a = (await onnx.encode(texts, 'passage')).vectors;
      const b = (await torch.encode(texts, 'passage')).vectors;
      assert.ok(maxAbsDiff(a, b) <= 1e-5, `onnx vs torch: ${maxAbsDiff(a, b)}`);
      const st = Float32Array.from(oracle.text_cases.flatMap((c) => c.embedding));
      assert.ok(maxAbsDiff(a, st) <= 1e-5, `onnx vs sentence-transformers: ${maxAbsDiff(a, st)}`);
    } finally {
      await onnx.close();
      await torch.close();
    }
  });

  test(`int8 export: cosine >= 0.999 to sentence-transformers, its own identity, the command reports it: ${name}`, async () => {
    const oracle = readJson<Oracle>(join(fixturesDir, 'models', name, 'oracle.json'));
    const dir = exportFixture(name, 'int8');
    const enc = await openTextEncoder(dir, { engine: 'onnx', batchSize: 1 });
    try {
      assert.equal(enc.model, join(fixturesDir, 'models', name) + INT8_IDENTITY_SUFFIX);
      const v = (await enc.encode(oracle.text_cases.map((c) => c.text), 'passage')).vectors;
      oracle.text_cases.forEach((c, i) => {
        const cos = cosine(v.subarray(i * enc.dim, (i + 1) * enc.dim), c.embedding);
        assert.ok(cos >= 0.999, `text ${i} ${JSON.stringify(c.text.slice(0, 30))}: cosine ${cos}`);
        assert.ok(cos < 1 - 1e-9, 'int8 vectors differ from fp32 ones (the weights were quantized)');
      });
    } finally {
      await enc.close();
    }
    // What ONNX Runtime's CPU optimizer makes of it: every weight product in its fused int8 kernels.
    const optimized = join(tmp, `opt-${name}.onnx`);
    await (await ort.InferenceSession.create(join(dir, 'model.onnx'), { graphOptimizationLevel: 'all', optimizedModelFilePath: optimized })).release();
    const ops = new Set((ModelProto.decode(readFileSync(optimized)) as unknown as { graph: { node: Array<{ op_type: string }> } }).graph.node.map((n) => n.op_type));
    assert.ok(ops.has('DynamicQuantizeMatMul') || ops.has('MatMulIntegerToFloat'), [...ops].join(', '));
    assert.ok(!ops.has('MatMulInteger'), `unfused MatMulInteger left: ${[...ops].join(', ')}`);
  });
}

test('export --quantize int8 prints the cosine to fp32 (min and mean) and refuses an unknown quantization in one line', () => {
  const out = join(tmp, 'int8-report');
  const r = runCli(['export', '--model', join(fixturesDir, 'models', 'tasb-distilbert-tiny'), '--format', 'onnx', '--quantize', 'int8', '--output', out]);
  assert.equal(r.code, 0, r.stderr);
  const m = /cosine to fp32 on (\d+) texts: min ([01]\.\d+), mean ([01]\.\d+)/.exec(r.stdout + r.stderr);
  assert.ok(m, r.stdout + r.stderr);
  assert.ok(Number(m[2]) >= 0.999 && Number(m[3]) >= Number(m[2]) && Number(m[3]) <= 1, m[0]);
  const bad = runCli(['export', '--model', join(fixturesDir, 'models', 'tasb-distilbert-tiny'), '--format', 'onnx', '--quantize', 'int4', '--output', join(tmp, 'int4')]);
  assert.notEqual(bad.code, 0);
  assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  assert.match(bad.stderr, /^densekit: error: .*--quantize/);
});

test('encode --engine onnx writes the torch engine\'s vectors; a resume with the other engine is refused naming --engine', () => {
  const model = join(fixturesDir, 'models', 'tasb-distilbert-tiny');
  const input = join(tmp, 'corpus.tsv');
  writeFileSync(input, ['d1\tthe first passage about cats', 'd2\tanother passage, about dogs and cats', 'd3\tx', 'd4\tZürich café'].join('\n') + '\n');
  const viaOnnx = join(tmp, 'enc-onnx'), viaTorch = join(tmp, 'enc-torch');
  const a = runCli(['encode', '--model', exportFixture('tasb-distilbert-tiny'), '--engine', 'onnx', '--input', input, '--output', viaOnnx, '--kind', 'passage']);
  assert.equal(a.code, 0, a.stderr);
  assert.match(a.stderr, /engine onnx/);
  const b = runCli(['encode', '--model', model, '--engine', 'torch', '--dtype', 'fp32', '--input', input, '--output', viaTorch, '--kind', 'passage']);
  assert.equal(b.code, 0, b.stderr);
  const [ea, eb] = [readEmbeddings(viaOnnx), readEmbeddings(viaTorch)];
  assert.deepEqual(ea.ids, eb.ids);
  assert.ok(maxAbsDiff(ea.vectors, eb.vectors) <= 1e-5);
  const ma = readManifest(viaOnnx);
  assert.equal(ma.model, model, 'the same model identity as the torch engine: indexes of either are searched with either');
  assert.equal(ma.job?.engine, 'onnx');
  assert.equal(ma.job?.quantization, 'none');
  assert.equal(readManifest(viaTorch).job?.engine, 'torch');
  // The torch job's folder, resumed by the onnx engine (and the reverse): refused before any work, one line.
  for (const [dir, args] of [[viaTorch, ['--model', exportFixture('tasb-distilbert-tiny'), '--engine', 'onnx']], [viaOnnx, ['--model', model, '--engine', 'torch']]] as const) {
    const r = runCli(['encode', ...args, '--input', input, '--output', dir, '--kind', 'passage']);
    assert.notEqual(r.code, 0);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /--engine was "(torch|onnx)", now "(onnx|torch)"/);
  }
  // int8 is another model: its vectors never join an fp32 folder.
  const r = runCli(['encode', '--model', exportFixture('tasb-distilbert-tiny', 'int8'), '--input', input, '--output', viaOnnx, '--kind', 'passage']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /--model was/);
});

test('search --engine onnx on an index built with the torch engine; an int8 query encoder is refused as another model', () => {
  const model = join(fixturesDir, 'models', 'tasb-distilbert-tiny');
  const input = join(tmp, 'corpus2.tsv');
  writeFileSync(input, Array.from({ length: 20 }, (_, i) => `d${i}\tpassage ${i} about ${['cats', 'dogs', 'fish', 'birds'][i % 4]} and number ${i * 7}`).join('\n') + '\n');
  const queries = join(tmp, 'queries.tsv');
  writeFileSync(queries, 'q1\tcats\nq2\tnumber 14 dogs\n');
  const emb = join(tmp, 'emb2'), index = join(tmp, 'flat2');
  assert.equal(runCli(['encode', '--model', model, '--engine', 'torch', '--dtype', 'fp32', '--input', input, '--output', emb, '--kind', 'passage']).code, 0);
  assert.equal(runCli(['index', '--type', 'flat', '--input', emb, '--output', index]).code, 0);
  const runs: string[] = [];
  for (const [engine, m] of [['torch', model], ['onnx', exportFixture('tasb-distilbert-tiny')]] as const) {
    const out = join(tmp, `run-${engine}.trec`);
    const r = runCli(['search', '--index', index, '--model', m, '--engine', engine, '--queries', queries, '--k', '5', '--output', out]);
    assert.equal(r.code, 0, r.stderr);
    runs.push(readFileSync(out, 'utf8'));
  }
  const ranking = (run: string) => run.trim().split('\n').map((l) => l.split(/\s+/).slice(0, 3).join(' '));
  assert.deepEqual(ranking(runs[1]!), ranking(runs[0]!));
  const r = runCli(['search', '--index', index, '--model', exportFixture('tasb-distilbert-tiny', 'int8'), '--queries', queries, '--k', '5', '--output', join(tmp, 'int8.trec')]);
  assert.notEqual(r.code, 0);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /built with the model .*tasb-distilbert-tiny but the queries are encoded with .*\+onnx-int8/);
});

test('a published onnx/model.onnx is used when it matches the torch engine, else the torch engine says why', async () => {
  const src = join(fixturesDir, 'models', 'tasb-distilbert-tiny');
  const good = join(tmp, 'published-good'), bad = join(tmp, 'published-bad');
  for (const [dir, from] of [[good, exportFixture('tasb-distilbert-tiny')], [bad, exportFixture('bert-tiny-mean')]] as const) {
    cpSync(src, dir, { recursive: true });
    mkdirSync(join(dir, 'onnx'));
    cpSync(join(from, 'model.onnx'), join(dir, 'onnx', 'model.onnx'));
  }
  const lines: string[] = [];
  const ok = await openTextEncoder(good, { engine: 'onnx', log: (l) => lines.push(l) });
  assert.ok(ok instanceof OnnxTextEncoder, lines.join('\n'));
  assert.equal(ok.model, good);
  await ok.close();
  lines.length = 0;
  const fallback = await openTextEncoder(bad, { engine: 'onnx', log: (l) => lines.push(l) });
  assert.ok(!(fallback instanceof OnnxTextEncoder));
  assert.match(lines.join('\n'), /engine torch: .*onnx\/model\.onnx does not reproduce the model/);
  await fallback.close();
});

test('--engine errors are one line: unknown engine, no ONNX model, bf16 on onnx, onnxruntime-node missing', () => {
  const model = join(fixturesDir, 'models', 'tasb-distilbert-tiny');
  const input = join(tmp, 'one.tsv');
  writeFileSync(input, 'd1\thello\n');
  const cases: Array<[string[], RegExp, NodeJS.ProcessEnv?]> = [
    [['encode', '--model', model, '--engine', 'tensorflow', '--input', input, '--output', join(tmp, 'e1')], /--engine expects one of torch\|onnx\|auto/],
    [['encode', '--model', model, '--engine', 'onnx', '--input', input, '--output', join(tmp, 'e2')], /not an ONNX export and has no onnx\/model\.onnx; export it with `densekit export/],
    [['encode', '--model', exportFixture('tasb-distilbert-tiny'), '--engine', 'onnx', '--dtype', 'bf16', '--input', input, '--output', join(tmp, 'e3')], /--dtype bf16 applies to --engine torch/],
  ];
  const broken = join(tmp, 'broken-export');
  cpSync(exportFixture('tasb-distilbert-tiny'), broken, { recursive: true });
  const manifest = readJson<Record<string, unknown>>(join(broken, 'densekit-onnx.json'));
  writeFileSync(join(broken, 'densekit-onnx.json'), JSON.stringify({ ...manifest, dim: 'sixty-four' }));
  cases.push([['encode', '--model', broken, '--input', input, '--output', join(tmp, 'e5')], /densekit-onnx\.json: field "dim" must be a positive integer/]);
  // onnxruntime-node hidden from the module resolver, as on an install without optional dependencies.
  const hook = join(tmp, 'hide-ort.mjs');
  writeFileSync(hook, `import { register } from 'node:module';\nregister('data:text/javascript,' + encodeURIComponent("export async function resolve(s, c, next) { if (s === 'onnxruntime-node') { const e = new Error('Cannot find package onnxruntime-node'); e.code = 'ERR_MODULE_NOT_FOUND'; throw e; } return next(s, c); }"));\n`);
  cases.push([['encode', '--model', exportFixture('tasb-distilbert-tiny'), '--input', input, '--output', join(tmp, 'e4')], /needs onnxruntime-node.*npm install onnxruntime-node/, { NODE_OPTIONS: `--import ${pathToFileURL(hook).href}` }]);
  for (const [args, pattern, env] of cases) {
    const r = runCli(args, env ? { env } : {});
    assert.notEqual(r.code, 0, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^densekit: error: /);
    assert.match(r.stderr, pattern);
  }
});

test('serve with the onnx engine (in its worker) answers as the torch engine does', async () => {
  const { openService } = await import('../src/serve/launch.js');
  const model = join(fixturesDir, 'models', 'tasb-distilbert-tiny');
  const input = join(tmp, 'corpus3.tsv');
  writeFileSync(input, Array.from({ length: 12 }, (_, i) => `d${i}\tpassage ${i} about ${['cats', 'dogs', 'fish'][i % 3]}`).join('\n') + '\n');
  const emb = join(tmp, 'emb3'), index = join(tmp, 'flat3');
  assert.equal(runCli(['encode', '--model', model, '--engine', 'torch', '--dtype', 'fp32', '--input', input, '--output', emb, '--kind', 'passage']).code, 0);
  assert.equal(runCli(['index', '--type', 'flat', '--input', emb, '--output', index]).code, 0);
  const answers: unknown[] = [];
  const logs: string[] = [];
  for (const [m, engine] of [[model, 'torch'], [exportFixture('tasb-distilbert-tiny'), 'onnx']] as const) {
    const { app } = await openService({ indexes: [index], model: m, encoder: { engine, dtype: 'fp32' }, log: (l) => logs.push(l) });
    try {
      const res = await app.inject({ method: 'POST', url: '/search', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ queries: ['cats', 'fish 4'], k: 3, fields: [] }) });
      assert.equal(res.statusCode, 200, res.body);
      answers.push((res.json() as { results: Array<{ hits: Array<{ id: string }> }> }).results.map((r) => r.hits.map((h) => h.id)));
    } finally {
      await app.close();
    }
  }
  assert.deepEqual(answers[1], answers[0]);
  assert.ok(!logs.some((l) => l.includes('warning')), `an fp32 export is the index's model: ${logs.join(' | ')}`);
});
