/**
 * What a training run decides about the model it writes: the head a recipe states (pooling, projection,
 * similarity) is built onto a plain Hugging Face start model and checked against a sentence-transformers one;
 * the token limits trained with are saved and used when the model is loaded again; a finished run asked for
 * more steps continues (constant schedule) or says why not; warnings for warm-up and lengths; the progress line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './cli.js';
import { SentenceEncoder } from '../src/models/index.js';
import { Progress } from '../src/util/progress.js';
import { sharedDir } from './helpers.js';

const fixture = join(sharedDir, 'fixtures/models/tasb-distilbert-tiny');
const dir = mkdtempSync(join(tmpdir(), 'densekit-train-head-'));

// The fixture's transformer alone, as a plain Hugging Face folder (no modules.json: no head of its own).
const plain = join(dir, 'plain-distilbert');
mkdirSync(plain);
for (const f of ['config.json', 'model.safetensors', 'vocab.txt', 'tokenizer_config.json', 'special_tokens_map.json']) copyFileSync(join(fixture, f), join(plain, f));

const WORDS = 'capital france quick brown fox jumps over lazy dog deep learning model information retrieval query document'.split(' ');
const queries: string[] = [];
const collection: string[] = [];
const qrels = ['query-id\tcorpus-id\tscore'];
for (let i = 0; i < 16; i++) {
  const w = (k: number) => WORDS[(i * 3 + k) % WORDS.length]!;
  queries.push(`q${i}\t${w(0)} ${w(1)}`);
  collection.push(`d${i}\t${w(0)} ${w(1)} ${w(2)} ${w(3)}`);
  qrels.push(`q${i}\td${i}\t1`);
}
writeFileSync(join(dir, 'queries.tsv'), queries.join('\n') + '\n');
writeFileSync(join(dir, 'collection.tsv'), collection.join('\n') + '\n');
writeFileSync(join(dir, 'qrels.tsv'), qrels.join('\n') + '\n');

function recipe(name: string, stage: Record<string, unknown>): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({
    name, seed: 7, threads: 2,
    stages: [{
      name: 'gtr', loss: 'gtr', batchSize: 4, queryMaxLength: 8, passageMaxLength: 16, steps: 2, logEvery: 1, checkpointEvery: 1,
      data: { queries: join(dir, 'queries.tsv'), collection: join(dir, 'collection.tsv'), qrels: join(dir, 'qrels.tsv') },
      optimizer: { name: 'adam', lr: 1e-4 },
      ...stage,
    }],
  }));
  return file;
}

/** The CLI in a child process (its summary goes to stdout, which in-process belongs to the test reporter). */
async function cli(args: string[]): Promise<{ code: number; err: string; out: string }> {
  const r = runCli(args);
  return { code: r.code, err: r.stderr, out: r.stdout };
}

const modulesOf = (model: string) => (JSON.parse(readFileSync(join(model, 'modules.json'), 'utf8')) as { type: string }[]).map((m) => m.type.split('.').pop());
const poolingOf = (model: string) => JSON.parse(readFileSync(join(model, '1_Pooling', 'config.json'), 'utf8')) as Record<string, unknown>;

test('a plain Hugging Face start model needs a stated pooling', async () => {
  const r = await cli(['train', '--recipe', recipe('no-head', { model: plain }), '--output', join(dir, 'out-no-head'), '--quiet']);
  assert.equal(r.code, 1);
  assert.match(r.err, /^densekit: error: .*plain Hugging Face model without pooling; state pooling/m);
  assert.equal(r.err.trim().split('\n').length, 1, r.err);
});

test('the TAS-B head (CLS, dot product) is built onto a plain model and saved with the trained lengths', async () => {
  const out = join(dir, 'out-tasb');
  const r = await cli(['train', '--recipe', recipe('tasb-head', { model: plain, pooling: 'cls', projection: 0, similarity: 'dot' }), '--output', out,
    '--query-max-length', '6', '--passage-max-length', '12', '--quiet']);
  assert.equal(r.code, 0, r.err);
  const final = join(out, 'gtr', 'final');
  assert.deepEqual(modulesOf(final), ['Transformer', 'Pooling']);
  assert.equal(poolingOf(final).pooling_mode_cls_token, true);
  assert.equal(poolingOf(final).pooling_mode_mean_tokens, false);
  const model = SentenceEncoder.load(final);
  try {
    assert.equal(model.similarity, 'dot');
    assert.deepEqual(model.maxLength, { query: 6, passage: 12 });
  } finally {
    model.dispose();
  }
});

test('the GTR head (mean, 768-style projection, cosine) is built onto a plain model', async () => {
  const out = join(dir, 'out-gtr');
  const r = await cli(['train', '--recipe', recipe('gtr-head', { model: plain, pooling: 'mean', projection: 24, similarity: 'cosine' }), '--output', out, '--quiet']);
  assert.equal(r.code, 0, r.err);
  const final = join(out, 'gtr', 'final');
  assert.deepEqual(modulesOf(final), ['Transformer', 'Pooling', 'Dense', 'Normalize']);
  const dense = JSON.parse(readFileSync(join(final, '2_Dense', 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(dense.out_features, 24);
  assert.equal(dense.bias, false);
  const model = SentenceEncoder.load(final);
  try {
    assert.equal(model.dim, 24);
    assert.equal(model.similarity, 'cosine');
  } finally {
    model.dispose();
  }
});

test('a stated head that disagrees with a sentence-transformers model is refused', async () => {
  const r = await cli(['train', '--recipe', recipe('mismatch', { model: fixture, pooling: 'mean' }), '--output', join(dir, 'out-mismatch'), '--quiet']);
  assert.equal(r.code, 1);
  assert.match(r.err, /densekit: error: .*modules\.json: the model pools with cls but pooling "mean" was asked for/);
});

test('a finished run asked for more steps continues with a constant schedule, and refuses with a decaying one', async () => {
  const out = join(dir, 'out-continue');
  const file = recipe('continue', { model: fixture });
  assert.equal((await cli(['train', '--recipe', file, '--output', out, '--quiet'])).code, 0);
  const same = await cli(['train', '--recipe', file, '--output', out, '--quiet']);
  assert.match(same.out, /gtr: 2 steps \(already trained: nothing to do\)/);
  const more = await cli(['train', '--recipe', file, '--output', out, '--steps', '4', '--quiet']);
  assert.equal(more.code, 0, more.err);
  assert.match(more.out, /gtr: 4 steps, loss/);
  const state = JSON.parse(readFileSync(join(out, 'gtr', 'done.json'), 'utf8')) as { steps: number };
  assert.equal(state.steps, 4);

  const linearOut = join(dir, 'out-linear');
  const linear = recipe('linear', { model: fixture, schedule: { kind: 'linear', warmupSteps: 0 } });
  assert.equal((await cli(['train', '--recipe', linear, '--output', linearOut, '--quiet'])).code, 0);
  const refused = await cli(['train', '--recipe', linear, '--output', linearOut, '--steps', '4', '--quiet']);
  assert.equal(refused.code, 1);
  assert.match(refused.err, /finished at step 2 with a linear schedule that decayed to 0 there/);
});

test('warnings: warm-up beyond the steps, and a length beyond the model positions (cut to them)', async () => {
  const out = join(dir, 'out-warn');
  const r = await cli(['train', '--recipe', recipe('warn', { model: fixture }), '--output', out, '--warmup', '10', '--passage-max-length', '200', '--quiet']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /densekit: warning: .*warmupSteps 10 exceeds steps 2/);
  assert.match(r.err, /densekit: warning: .*passageMaxLength 200 exceeds the model's 64 positions/);
  const model = SentenceEncoder.load(join(out, 'gtr', 'final'));
  try {
    assert.equal(model.maxLength.passage, 64);
  } finally {
    model.dispose();
  }
});

test('progress: no rate or ETA before one is measured, then the measured one', async () => {
  let text = '';
  const stream = { isTTY: true, write: (s: string) => ((text += s), true) } as unknown as NodeJS.WriteStream;
  const p = new Progress({ label: 'train', total: 10, unit: 'steps', stream, intervalMs: 0 });
  p.tick(1, 'loss 1.0000');
  assert.equal(text, '', 'the first update only starts the clock');
  await new Promise((r) => setTimeout(r, 50));
  p.tick(1, 'loss 0.5000');
  assert.match(text, /train: 2\/10 20\.0% steps loss 0\.5000 \d+\.\d steps\/s ETA \d+s$/);
  const perStep = 0.05; // one step took at least 50 ms, so 8 more take at least ~0.4 s: never the 0 s of a guess
  const rate = Number(/ (\d+\.\d) steps\/s/.exec(text)![1]);
  assert.ok(rate <= 1 / perStep + 1, `rate ${rate} measured from the second update`);
});

test('the package exports train and loadRecipe: a recipe runs from the public API', async () => {
  const api = await import('../src/index.js');
  const summaries = await api.train({ recipe: api.loadRecipe(recipe('api', { model: fixture })), output: join(dir, 'out-api') });
  assert.equal(summaries.length, 1);
  assert.equal(summaries[0]!.steps, 2);
  assert.equal(summaries[0]!.trainedNow, 2);
});
