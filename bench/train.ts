/**
 * npm run bench:train — training samples/s (one sample = a query with its positive and negative passage) of
 * - a DistilBERT-base-size TAS-B student: batch 32, queries 30 / passages 200 tokens, dual-teacher Margin-MSE
 *   (pairwise + 0.75 * in-batch, teacher scores fixed so only the student is timed), Adam;
 * - a T5-base-size GTR step: batch 32, queries 30 / passages 200 tokens, bidirectional in-batch softmax with
 *   hard negatives, Adafactor;
 * each in fp32 and bf16 (autocast), 2 libtorch threads (BENCH_THREADS), random weights, SciFact text.
 * The timed step is the training loop's own: forwardBackward + optimizer.step. BENCH_STEPS (default 3) timed
 * steps follow one warm-up step.
 * With Debian's python3-torch installed, bench/reference/torch_train.py times the same step in PyTorch beside it.
 * BENCH_ONLY=tasb:fp32 (or gtr:bf16, ...) times one configuration.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createTokenEncoder, RandomWeights, SentenceEncoder, type TokenEncoder } from '../src/models/index.js';
import { parseHfConfig, writeSentenceTransformer, type HfConfig, type ModuleToWrite } from '../src/io/index.js';
import { manualSeed, randn, setNumThreads, getNumThreads, tensor } from '../src/tensor/index.js';
import { forwardBackward, type TextBatch } from '../src/train/step.js';
import { Adam, Adafactor, type NamedParameter, type Optimizer } from '../src/train/optim/index.js';
import { seededRandom } from '../src/util/random.js';

const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const STEPS = Number(process.env.BENCH_STEPS ?? 3);
const BATCH = Number(process.env.BENCH_BATCH ?? 32);
const repo = new URL('..', import.meta.url).pathname.replace(/dist\/$/, '');
const shared = join(repo, '../shared');

const distilbert = {
  architectures: ['DistilBertModel'], model_type: 'distilbert', vocab_size: 30522, dim: 768, n_layers: 6, n_heads: 12,
  hidden_dim: 3072, activation: 'gelu', max_position_embeddings: 512, sinusoidal_pos_embds: false, pad_token_id: 0, dropout: 0.1, attention_dropout: 0.1,
};
const t5 = {
  architectures: ['T5EncoderModel'], model_type: 't5', vocab_size: 32000, d_model: 768, d_kv: 64, num_heads: 12, d_ff: 3072,
  num_layers: 12, feed_forward_proj: 'relu', relative_attention_num_buckets: 32, relative_attention_max_distance: 128,
  layer_norm_epsilon: 1e-6, pad_token_id: 0, eos_token_id: 1, dropout_rate: 0.1,
};

function makeModel(dir: string, config: Record<string, unknown>, tokenizerDir: string, gtr: boolean): void {
  const parsed: HfConfig = parseHfConfig(config, 'bench config');
  manualSeed(0);
  const enc: TokenEncoder = createTokenEncoder(parsed, new RandomWeights(0.02));
  const weights = new Map([...enc.namedParameters()].map(([k, t]) => [k, t.toHost()] as const));
  enc.dispose();
  const modules: ModuleToWrite[] = [
    { kind: 'Transformer' },
    { kind: 'Pooling', mode: { cls: !gtr, max: false, mean: gtr, meanSqrtLen: false }, dim: 768 },
  ];
  if (gtr) {
    const w = randn([768, 768]).mul(0.02);
    modules.push({ kind: 'Dense', inFeatures: 768, outFeatures: 768, bias: false, activation: 'identity', weight: w.toHost() });
    modules.push({ kind: 'Normalize' });
  }
  writeSentenceTransformer(dir, { weights, config, sourceDir: tokenizerDir, maxSeqLength: 200, modules });
}

/** SciFact claims as queries and abstracts as passages (long enough to fill 30 / 200 tokens). */
function batches(count: number): TextBatch[] {
  const rnd = seededRandom(11);
  const docs = readFileSync(join(shared, 'datasets/scifact/corpus.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { title: string; text: string });
  const long = docs.filter((d) => d.text.split(/\s+/).length > 180);
  const text = () => { const d = long[Math.floor(rnd() * long.length)]!; return `${d.title} ${d.text}`; };
  const out: TextBatch[] = [];
  for (let b = 0; b < count; b++) {
    const ids = (p: string) => Array.from({ length: BATCH }, (_, i) => `${p}${b}_${i}`);
    out.push({
      qids: ids('q'), queries: ids('q').map(() => text().split(/\s+/).slice(0, 40).join(' ')),
      positiveIds: ids('p'), positives: ids('p').map(text), negativeIds: ids('n'), negatives: ids('n').map(text),
      posScores: Float32Array.from({ length: BATCH }, () => 10 + rnd()), negScores: Float32Array.from({ length: BATCH }, () => rnd()),
    });
  }
  return out;
}

setNumThreads(THREADS);
/** Debian's python3-torch (the same libtorch 1.13) times the same step shapes when installed. */
const haveTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
const ONLY = process.env.BENCH_ONLY; // e.g. "tasb:fp32" to time one configuration
const work = mkdtempSync(join(tmpdir(), 'dk-bench-train-'));
const data = batches(STEPS + 1);
const teacherScores = tensor(Float32Array.from({ length: BATCH * BATCH }, (_, i) => (i * 7919) % 13), { shape: [BATCH, BATCH], dtype: 'float32' }).keep();
const rows: string[] = [];
try {
  for (const [name, config, tok, gtr] of [
    ['DistilBERT-base TAS-B (Margin-MSE, Adam)', distilbert, join(shared, 'fixtures/tokenizers/bert-base-uncased'), false],
    ['T5-base GTR (in-batch softmax + hard negatives, Adafactor)', t5, join(shared, 'fixtures/tokenizers/legal-t5-32k'), true],
  ] as const) {
    const dir = join(work, gtr ? 't5' : 'distilbert');
    makeModel(dir, config, tok, gtr);
    for (const dtype of ['fp32', 'bf16'] as const) {
      if (ONLY && ONLY !== `${gtr ? 'gtr' : 'tasb'}:${dtype}`) continue;
      // As the trainer loads it (src/train/trainer.ts): weights stay float32 whatever the compute precision.
      const model = SentenceEncoder.load(dir, { dtype, weightsDtype: 'fp32', queryMaxLength: 30, passageMaxLength: 200 });
      model.train(true);
      const params: NamedParameter[] = [...model.namedParameters()].map(([n, p]) => ({ name: n, param: p.requiresGrad_(true) }));
      const opt: Optimizer = gtr ? new Adafactor(params, { decayRate: -0.8 }) : new Adam(params, {});
      const options = {
        loss: gtr ? 'gtr' as const : 'tas-b' as const, logitScale: 100, inBatchWeight: gtr ? 0 : 0.75,
        teacher: gtr ? undefined : { scores: () => teacherScores.clone(), dispose() {} },
        gradientAccumulation: 1, gradCacheChunk: 0, dropoutSeed: 1,
      };
      let seconds = 0;
      data.forEach((batch, i) => {
        const t0 = performance.now();
        for (const p of params) p.param.zeroGrad();
        forwardBackward(model, batch, { ...options, dropoutSeed: i });
        opt.step(gtr ? 1e-3 : 7e-6);
        if (i > 0) seconds += (performance.now() - t0) / 1000;
      });
      const rate = (STEPS * BATCH) / seconds;
      let torchRate = '';
      if (haveTorch) {
        const r = spawnSync('/usr/bin/python3', [join(repo, 'bench/reference/torch_train.py'), gtr ? 'gtr' : 'tasb', dtype, String(THREADS), String(BATCH), String(STEPS)], { encoding: 'utf8' });
        torchRate = `   PyTorch ${r.status === 0 ? r.stdout.trim() : `failed: ${r.stderr.trim().split('\n').at(-1)}`} samples/s`;
      }
      const row = `${name.padEnd(58)} ${dtype}  ${rate.toFixed(2).padStart(7)} samples/s  (${(seconds / STEPS).toFixed(2)} s/step, batch ${BATCH}, ${getNumThreads()} threads)${torchRate}`;
      process.stdout.write(row + '\n');
      rows.push(row);
      opt.dispose();
      model.dispose();
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
