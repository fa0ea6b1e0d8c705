/**
 * End-to-end training on generated topical data with the tiny TAS-B fixture model: `densekit cluster-queries`
 * style clusters, topic-aware batches, balanced margin sampling, Margin-MSE, dev evaluation, checkpoints,
 * exact resume after a simulated kill, log and plot. The loss must fall and dev nDCG@10 must rise above the
 * untrained model's value.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setNumThreads } from '../src/tensor/index.js';
import { SentenceEncoder } from '../src/models/index.js';
import { openSafetensors } from '../src/io/index.js';
import { Rng } from '../src/train/rng.js';
import { parseRecipe, train, DevSet } from '../src/train/index.js';
import { buildProgram } from '../src/cli/main.js';
import { UsageError } from '../src/errors.js';
import { sharedDir } from './helpers.js';
import { pathToFileURL } from 'node:url';

setNumThreads(2);
const shared = pathToFileURL(sharedDir + '/');
const modelDir = new URL('fixtures/models/tasb-distilbert-tiny', shared).pathname;
const dir = mkdtempSync(join(tmpdir(), 'densekit-train-e2e-'));

// Whole words of the fixture's 256-piece vocabulary, so every word is one token.
const WORDS = ('the of and to in is for on with that by as are from this be at an was which or it not what capital france quick brown ' +
  'fox jumps over lazy dog deep learning model models information retrieval query document relevance need depends upper lower mixed ' +
  'number numbers test text emoji cafe naive resume tabs new lines leading trailing spaces').split(' ');
const LETTERS = 'abcdefghijklmnopqrstuvwxyz'.split('');

function generate(): void {
  const rng = new Rng(2024);
  const topics = 6;
  const words = rng.shuffle(WORDS.slice());
  const topicWords = Array.from({ length: topics }, (_, t) => words.slice(t * 8, t * 8 + 8));
  const pick = (list: string[], n: number) => Array.from({ length: n }, () => list[rng.int(list.length)]!);
  const noise = (n: number) => pick(LETTERS, n);
  const collection: string[] = [];
  const docsByTopic: string[][] = [];
  for (let t = 0; t < topics; t++) {
    docsByTopic.push([]);
    for (let i = 0; i < 30; i++) {
      const id = `d${t}_${i}`;
      docsByTopic[t]!.push(id);
      collection.push(`${id}\t${rng.shuffle([...pick(topicWords[t]!, 5), ...noise(4)]).join(' ')}`);
    }
  }
  const queries: string[] = [];
  const pairs: string[] = [];
  const clusters: string[][] = Array.from({ length: topics }, () => []);
  const devQueries: string[] = [];
  const devQrels: string[] = ['query-id\tcorpus-id\tscore'];
  for (let t = 0; t < topics; t++) {
    for (let i = 0; i < 40; i++) {
      const qid = `q${t}_${i}`;
      queries.push(`${qid}\t${pick(topicWords[t]!, 3).join(' ')}`);
      clusters[t]!.push(qid);
      for (let k = 0; k < 6; k++) {
        const pos = docsByTopic[t]![rng.int(30)]!;
        const other = (t + 1 + rng.int(topics - 1)) % topics;
        const neg = docsByTopic[other]![rng.int(30)]!;
        pairs.push(`${(8 + 4 * rng.nextFloat()).toFixed(3)}\t${(2 * rng.nextFloat()).toFixed(3)}\t${qid}\t${pos}\t${neg}`);
      }
    }
    for (let i = 0; i < 5; i++) {
      const qid = `dev${t}_${i}`;
      devQueries.push(`${qid}\t${pick(topicWords[t]!, 3).join(' ')}`);
      for (const d of docsByTopic[t]!.slice(0, 10)) devQrels.push(`${qid}\t${d}\t1`);
    }
  }
  writeFileSync(join(dir, 'collection.tsv'), collection.join('\n') + '\n');
  writeFileSync(join(dir, 'queries.tsv'), queries.join('\n') + '\n');
  writeFileSync(join(dir, 'pairs.tsv'), pairs.join('\n') + '\n');
  writeFileSync(join(dir, 'clusters.tsv'), clusters.map((c) => c.join('\t')).join('\n') + '\n');
  writeFileSync(join(dir, 'dev-queries.tsv'), devQueries.join('\n') + '\n');
  writeFileSync(join(dir, 'dev-qrels.tsv'), devQrels.join('\n') + '\n');
}
generate();

const recipeText = (steps: number, checkpointEvery: number, logEvery: number) => `
name: e2e
seed: 7
stages:
  - name: tasb-tiny
    model: ${modelDir}
    loss: tas-b
    data: { queries: queries.tsv, collection: collection.tsv, teacherPairs: pairs.tsv, clusters: clusters.tsv }
    sampling: { batches: cluster, pairs: bins }
    batchSize: 16
    queryMaxLength: 16
    passageMaxLength: 16
    steps: ${steps}
    dropout: false
    optimizer: { name: adam, lr: 3.0e-3 }
    schedule: { kind: constant, warmupSteps: 10 }
    eval: { queries: dev-queries.tsv, qrels: dev-qrels.tsv, corpus: collection.tsv, every: 45 }
    logEvery: ${logEvery}
    checkpointEvery: ${checkpointEvery}
`;
const recipeFile = join(dir, 'recipe.yaml');

test('training on generated topical data: loss falls and dev nDCG@10 rises above the untrained model', async () => {
  writeFileSync(recipeFile, recipeText(90, 45, 10));
  const recipe = parseRecipe(readFileSync(recipeFile, 'utf8'), recipeFile);
  const untrained = SentenceEncoder.load(modelDir);
  const dev = (await DevSet.load(recipe.stages[0]!.eval, 'dev'))!;
  const before = dev.evaluate(untrained, 'ndcg_cut_10', false);
  untrained.dispose();

  const output = join(dir, 'out');
  const [summary] = await train({ recipe, output });
  const log = readFileSync(join(output, 'train-log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const losses = log.filter((e) => e.kind === 'train').map((e) => e.loss as number);
  const evals = log.filter((e) => e.kind === 'eval').map((e) => e.value as number);
  assert.equal(summary!.steps, 90);
  assert.ok(losses.at(-1)! < 0.6 * losses[0]!, `loss falls: ${losses.map((l) => l.toFixed(2)).join(' ')}`);
  assert.ok(Math.max(...evals) > before + 0.1, `dev nDCG@10 rises: untrained ${before.toFixed(4)}, during training ${evals.map((v) => v.toFixed(4)).join(' ')}`);
  assert.equal(summary!.bestMetric, Math.max(...evals));
  const live = log.filter((e) => e.kind === 'train').map((e) => e.live_tensors as number);
  assert.ok(live.every((n) => n === live[0]), `no tensor leaks across steps: live tensors ${live.join(' ')}`);
  // the saved models load back (sentence-transformers layout) and reproduce the best dev value
  const best = SentenceEncoder.load(summary!.bestDir!);
  assert.ok(Math.abs(dev.evaluate(best, 'ndcg_cut_10', false) - summary!.bestMetric!) < 1e-6);
  best.dispose();
  assert.ok(existsSync(join(summary!.finalDir, 'model.safetensors')));
  assert.ok(readFileSync(join(output, 'train-plot.html'), 'utf8').includes('new Chart('));
});

test('a run killed after a checkpoint resumes exactly: same weights as an uninterrupted run', async () => {
  writeFileSync(recipeFile, recipeText(12, 5, 4));
  const recipe = parseRecipe(readFileSync(recipeFile, 'utf8'), recipeFile);
  recipe.stages[0]!.eval = { every: 1000, metric: 'ndcg_cut_10', patience: 0 };
  recipe.stages[0]!.dropout = true; // dropout masks must be reproduced after the resume too
  const straight = join(dir, 'straight');
  await train({ recipe, output: straight });
  const resumed = join(dir, 'resumed');
  // "killed" after 8 steps: the last checkpoint is at step 5, so steps 6..8 are redone after the resume
  const partial = await train({ recipe, output: resumed, stopAfterSteps: 8 });
  assert.equal(partial[0]!.steps, 8);
  assert.ok(!existsSync(join(resumed, 'tasb-tiny', 'final')));
  // Resuming another job into the same folder would mix two runs: refused, naming the setting.
  await assert.rejects(train({ recipe: { ...recipe, seed: recipe.seed + 1 }, output: resumed }), (e: Error) => e instanceof UsageError && /another training job \(seed was \d+, now \d+\)/.test(e.message));
  const otherBatch = { ...recipe, stages: [{ ...recipe.stages[0]!, batchSize: recipe.stages[0]!.batchSize + 1 }] };
  await assert.rejects(train({ recipe: otherBatch, output: resumed }), (e: Error) => e instanceof UsageError && /batchSize was \d+, now \d+/.test(e.message));
  const [done] = await train({ recipe, output: resumed });
  assert.equal(done!.steps, 12);
  const a = openSafetensors(join(straight, 'tasb-tiny', 'final', 'model.safetensors'));
  const b = openSafetensors(join(resumed, 'tasb-tiny', 'final', 'model.safetensors'));
  assert.deepEqual(b.keys(), a.keys());
  for (const key of a.keys()) assert.deepEqual(Buffer.from(b.get(key).data), Buffer.from(a.get(key).data), `${key} identical after resume`);
  const log = readFileSync(join(resumed, 'train-log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const steps = log.filter((e) => e.kind === 'train').map((e) => e.step);
  assert.deepEqual(steps, [4, 8, 12], 'the log reads as one run (entries past the checkpoint were dropped on resume)');
});

test('densekit train rejects bad input with one clear line', async () => {
  const run = async (args: string[]) => {
    let message = '';
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => ((message += s), true)) as typeof process.stderr.write;
    try {
      const { main } = await import('../src/cli/main.js');
      return { code: await main(args), message };
    } finally {
      process.stderr.write = write;
    }
  };
  writeFileSync(join(dir, 'bad.yaml'), 'stages:\n  - loss: tas-b\n    batchsize: 4\n');
  let r = await run(['train', '--recipe', join(dir, 'bad.yaml'), '--output', join(dir, 'x')]);
  assert.equal(r.code, 1);
  assert.match(r.message, /^densekit: error: .*bad\.yaml: stages\[0\]: unknown key "batchsize"/);
  writeFileSync(join(dir, 'bad-pairs.tsv'), '1\t2\tq0_0\td0_0\n');
  r = await run(['train', '--recipe', 'tas-b', '--output', join(dir, 'y'), '--model', modelDir, '--queries', join(dir, 'queries.tsv'),
    '--collection', join(dir, 'collection.tsv'), '--teacher-pairs', join(dir, 'bad-pairs.tsv'), '--clusters', join(dir, 'clusters.tsv'), '--quiet']);
  assert.equal(r.code, 1);
  assert.match(r.message, /bad-pairs\.tsv:1: expected 5 columns/);
  writeFileSync(join(dir, 'empty-clusters.tsv'), '\n');
  r = await run(['train', '--recipe', 'tas-b', '--output', join(dir, 'z'), '--model', modelDir, '--queries', join(dir, 'queries.tsv'),
    '--collection', join(dir, 'collection.tsv'), '--teacher-pairs', join(dir, 'pairs.tsv'), '--clusters', join(dir, 'empty-clusters.tsv'), '--quiet']);
  assert.equal(r.code, 1);
  assert.match(r.message, /empty-clusters\.tsv: the cluster file is empty/);
  assert.ok(await buildProgram());
});
