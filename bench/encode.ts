/**
 * npm run bench:encode — passages/s of DistilBERT-base-size (TAS-B) and T5-base-size (GTR-Base) encoders with
 * random weights on 2,000 passages whose lengths spread over 20-200 tokens, fp32 and bf16, 2 threads, in fixed
 * batches of 32 and in length buckets of at most BENCH_TOKEN_BUDGET padded tokens (default 4096); each line
 * with its ratio to the best peer measured in the same run.
 * When Debian's python3-torch is installed, the same forward passes in PyTorch (bench/reference/torch_encode.py,
 * the same batches of token ids) are timed in the same run for comparison.
 * Then the same weights exported to ONNX run through densekit's onnx engine (onnxruntime-node, the same batches):
 * fp32, and int8 after densekit's dynamic-quantization pass (with its cosine to the fp32 vectors); and through
 * transformers.js (its own tokenizer and pipeline, fp32 and q8 = the same int8 file) from a folder in its layout.
 * The export is densekit's own (`densekit export --format onnx [--quantize int8]`).
 * BENCH_ENGINES=densekit,pytorch,onnx,transformers.js picks the engines timed.
 */
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { mkdirSync, copyFileSync } from 'node:fs';
import { createTokenEncoder, ModelInput, lengthSortedBatches, RandomWeights, SentenceEncoder, type TokenEncoder } from '../src/models/index.js';
import { OnnxTextEncoder } from '../src/backends/onnx/engine.js';
import { exportOnnx } from '../src/backends/onnx/export.js';
import { parseHfConfig, writeSentenceTransformer, type HfConfig } from '../src/io/index.js';
import { manualSeed, setNumThreads, getNumThreads, cpuCapabilities } from '../src/tensor/index.js';
import { seededRandom as mulberry } from '../src/util/random.js';

const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const N = Number(process.env.BENCH_PASSAGES ?? 2000);
/** Length-bucketed batching timed beside fixed batch 32: at most BENCH_TOKEN_BUDGET padded tokens per pass. */
const TOKEN_BUDGET = Number(process.env.BENCH_TOKEN_BUDGET ?? 4096);
const BUDGET_MAX_BATCH = 256;
/** e.g. BENCH_ONLY=distilbert:fp32,t5:fp32 times only those configurations. */
const ONLY = process.env.BENCH_ONLY;
const ENGINES = new Set((process.env.BENCH_ENGINES ?? 'densekit,pytorch,onnx,transformers.js').split(','));
const repo = new URL('..', import.meta.url).pathname.replace(/dist\/$/, '');
const shared = join(repo, '../shared');

const distilbert = {
  architectures: ['DistilBertModel'], model_type: 'distilbert', vocab_size: 30522, dim: 768, n_layers: 6, n_heads: 12,
  hidden_dim: 3072, activation: 'gelu', max_position_embeddings: 512, sinusoidal_pos_embds: false, pad_token_id: 0,
};
const t5 = {
  architectures: ['T5EncoderModel'], model_type: 't5', vocab_size: 32000, d_model: 768, d_kv: 64, num_heads: 12, d_ff: 3072,
  num_layers: 12, feed_forward_proj: 'relu', relative_attention_num_buckets: 32, relative_attention_max_distance: 128,
  layer_norm_epsilon: 1e-6, pad_token_id: 0, eos_token_id: 1,
};

/** Writes a random-weight sentence-transformers folder around a real tokenizer. */
function makeModel(dir: string, config: Record<string, unknown>, tokenizerDir: string, pooling: 'cls' | 'mean'): void {
  const parsed: HfConfig = parseHfConfig(config, 'bench config');
  manualSeed(0);
  const enc: TokenEncoder = createTokenEncoder(parsed, new RandomWeights(0.02));
  const weights = new Map([...enc.namedParameters()].map(([k, t]) => [k, t.toHost()] as const));
  enc.dispose();
  writeSentenceTransformer(dir, {
    weights, config, sourceDir: tokenizerDir, maxSeqLength: 200,
    modules: [
      { kind: 'Transformer' },
      { kind: 'Pooling', mode: { cls: pooling === 'cls', max: false, mean: pooling === 'mean', meanSqrtLen: false }, dim: 768 },
      ...(pooling === 'mean' ? [{ kind: 'Normalize' } as const] : []),
    ],
  });
}

/** SciFact abstracts cut to lengths spread log-normally over 20-200 tokens (median ~80, as MS MARCO passages). */
function passages(): string[] {
  const rnd = mulberry(7);
  const docs = readFileSync(join(shared, 'datasets/scifact/corpus.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { title: string; text: string });
  const out: string[] = [];
  for (let i = 0; i < N; i++) {
    const d = docs[i % docs.length]!;
    const words = `${d.title} ${d.text}`.split(/\s+/);
    const gauss = Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
    const tokens = Math.min(200, Math.max(20, Math.round(Math.exp(Math.log(80) + 0.5 * gauss))));
    out.push(words.slice(0, Math.round(tokens / 1.4)).join(' '));
  }
  return out;
}

/** model.onnx bytes of densekit's own export of the random-weight folder, fp32 and int8. */
async function exportBoth(dir: string): Promise<{ fp32: Uint8Array; int8: Uint8Array }> {
  await exportOnnx(dir, { output: join(dir, 'onnx-fp32') });
  await exportOnnx(dir, { output: join(dir, 'onnx-int8'), quantize: 'int8' });
  return { fp32: readFileSync(join(dir, 'onnx-fp32/model.onnx')), int8: readFileSync(join(dir, 'onnx-int8/model.onnx')) };
}

function cosines(a: Float32Array, b: Float32Array, dim: number): { min: number; mean: number } {
  let min = 1, sum = 0;
  const n = a.length / dim;
  for (let r = 0; r < n; r++) {
    let ab = 0, aa = 0, bb = 0;
    for (let i = r * dim; i < (r + 1) * dim; i++) {
      ab += a[i]! * b[i]!;
      aa += a[i]! * a[i]!;
      bb += b[i]! * b[i]!;
    }
    const c = ab / Math.sqrt(aa * bb);
    min = Math.min(min, c);
    sum += c;
  }
  return { min, mean: sum / n };
}

/**
 * transformers.js on the same ONNX files, from a folder in its layout (config.json, tokenizer.json, onnx/model.onnx
 * and onnx/model_quantized.onnx), offline; its feature-extraction pipeline reads `token_embeddings` and pools.
 * Its pipelines (fp32, q8), or why it cannot run.
 */
type Extractor = (texts: string[], o: { pooling: 'cls' | 'mean' }) => Promise<unknown>;
async function transformersJs(dir: string, fp32: Uint8Array, int8: Uint8Array, tokenizerDir: string): Promise<Array<[string, Extractor & { dispose(): Promise<void> }]> | string> {
  let tjs: typeof import('@huggingface/transformers');
  try {
    tjs = await import('@huggingface/transformers');
  } catch {
    return 'transformers.js: not installed (npm install --save-dev @huggingface/transformers)';
  }
  if (!existsSync(join(tokenizerDir, 'tokenizer.json'))) return 'transformers.js: needs tokenizer.json, the tokenizer folder has none';
  const root = join(dir, 'tjs'), name = 'model';
  mkdirSync(join(root, name, 'onnx'), { recursive: true });
  copyFileSync(join(dir, 'config.json'), join(root, name, 'config.json'));
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) if (existsSync(join(tokenizerDir, f))) copyFileSync(join(tokenizerDir, f), join(root, name, f));
  writeFileSync(join(root, name, 'onnx/model.onnx'), fp32);
  writeFileSync(join(root, name, 'onnx/model_quantized.onnx'), int8);
  tjs.env.allowRemoteModels = false;
  tjs.env.allowLocalModels = true;
  tjs.env.localModelPath = root + '/';
  const out: Array<[string, Extractor & { dispose(): Promise<void> }]> = [];
  for (const dtype of ['fp32', 'q8'] as const) {
    try {
      const p = await tjs.pipeline('feature-extraction', name, { dtype, device: 'cpu', session_options: { intraOpNumThreads: THREADS, interOpNumThreads: 1 } });
      const f = Object.assign((t: string[], o: { pooling: 'cls' | 'mean' }) => p(t, o), { dispose: () => p.dispose() });
      out.push([dtype, f]);
    } catch (e) {
      return `transformers.js ${dtype} failed: ${String((e as Error).message ?? e).split('\n')[0]}`;
    }
  }
  return out;
}

function torchAvailable(): boolean {
  return spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
}

setNumThreads(THREADS);
const work = mkdtempSync(join(tmpdir(), 'dk-bench-enc-'));
const texts = passages();
const haveTorch = existsSync('/usr/bin/python3') && torchAvailable();
/** Rounds over all engines: each round times every engine once, in turn, so load changes hit all of them alike. */
const REPS = Number(process.env.BENCH_REPS ?? 3);

/** An engine timed by passes: `pass` encodes all texts once and returns its seconds (NaN + note: it cannot run). */
interface Runner { engine: string; pass: () => Promise<number>; note?: () => string; close?: () => Promise<void> | void }

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
try {
  for (const [name, config, tok, pooling] of [
    ['DistilBERT-base (TAS-B size)', distilbert, join(shared, 'fixtures/tokenizers/bert-base-uncased'), 'cls'],
    ['T5-base encoder (GTR-Base size)', t5, join(shared, 'fixtures/tokenizers/legal-t5-32k'), 'mean'],
  ] as const) {
    const short = name.split(' ')[0]!.split('-')[0]!.toLowerCase();
    const wanted = (dtype: string) => !ONLY || ONLY.split(',').includes(`${short}:${dtype}`);
    if (!['fp32', 'bf16', 'int8', 'onnx'].some(wanted)) continue;
    const dir = join(work, name.split(' ')[0]!);
    makeModel(dir, config, tok, pooling);
    const label = name.padEnd(32);
    const input = ModelInput.load(dir);
    const encodings = input.encode(texts, 'passage');
    const mean = encodings.reduce((a, e) => a + e.ids.length, 0) / encodings.length;
    const runners: Runner[] = [];
    const missing: string[] = [];
    const idsFile = join(dir, 'ids.json');
    writeFileSync(idsFile, JSON.stringify(encodings.map((e) => e.ids)));
    /** The densekit torch engine's vectors by dtype (batch 32), for the cosine of bf16 / int8 to fp32. */
    const torchVectors = new Map<string, Float32Array>();
    for (const dtype of ['fp32', 'bf16', 'int8'] as const) {
      if (!wanted(dtype)) continue;
      if (ENGINES.has('pytorch') && dtype !== 'int8') {
        if (!haveTorch) missing.push(`PyTorch ${dtype}: not installed (apt-get install python3-torch)`);
        else runners.push({
          engine: `PyTorch 1.13 ${dtype} batch 32`, note: () => '(same batches of token ids)',
          pass: async () => {
            const r = spawnSync('/usr/bin/python3', [join(repo, 'bench/reference/torch_encode.py'), join(dir, 'config.json'), idsFile, dtype, String(THREADS), pooling], { encoding: 'utf8' });
            if (r.status !== 0) throw new Error(`PyTorch failed: ${r.stderr.trim().split('\n').at(-1)}`);
            return N / Number(r.stdout.trim());
          },
        });
      }
      if (ENGINES.has('densekit')) {
        const enc = SentenceEncoder.load(dir, { dtype });
        enc.embed(texts.slice(0, 64), 'passage', { batchSize: 32 }); // warm-up
        const timed = (opts: { batchSize: number; tokenBudget?: number }) => async () => {
          const t0 = performance.now();
          const { vectors } = enc.embed(texts, 'passage', opts);
          const s = (performance.now() - t0) / 1000;
          if (opts.tokenBudget === undefined) torchVectors.set(dtype, vectors);
          return s;
        };
        const vsFp32 = () => {
          const [a, b] = [torchVectors.get('fp32'), torchVectors.get(dtype)];
          if (dtype === 'fp32' || !a || !b) return '';
          const c = cosines(a, b, 768);
          return `, cosine to fp32: min ${c.min.toFixed(5)}, mean ${c.mean.toFixed(5)}`;
        };
        runners.push({ engine: `densekit ${dtype} batch 32`, pass: timed({ batchSize: 32 }), note: () => `(mean ${mean.toFixed(0)} tokens${vsFp32()})` });
        runners.push({ engine: `densekit ${dtype} budget ${TOKEN_BUDGET}`, pass: timed({ batchSize: BUDGET_MAX_BATCH, tokenBudget: TOKEN_BUDGET }), close: () => enc.dispose() });
      }
    }
    if (wanted('onnx') && (ENGINES.has('onnx') || ENGINES.has('transformers.js'))) {
      {
        const { fp32: exported, int8 } = await exportBoth(dir);
        const info = { model: dir, dim: 768, similarity: (pooling === 'mean' ? 'cosine' : 'dot') as 'dot' | 'cosine' };
        if (ENGINES.has('onnx')) {
          const vectors = new Map<string, Float32Array>();
          for (const [q, bytes] of [['fp32', exported], ['int8', int8]] as const) {
            const e = await OnnxTextEncoder.fromBytes(bytes, input, { ...info, quantization: q === 'fp32' ? 'none' : 'int8' }, { batchSize: 32, threads: THREADS });
            await e.encode(texts.slice(0, 64), 'passage'); // warm-up
            runners.push({
              engine: `densekit onnx ${q} batch 32`,
              pass: async () => {
                const t0 = performance.now();
                vectors.set(q, (await e.encode(texts, 'passage')).vectors);
                return (performance.now() - t0) / 1000;
              },
              note: () => {
                if (q === 'fp32') return '(onnxruntime-node 1.30, same batches)';
                const c = cosines(vectors.get('fp32')!, vectors.get('int8')!, info.dim);
                return `(cosine to onnx fp32: min ${c.min.toFixed(5)}, mean ${c.mean.toFixed(5)})`;
              },
              close: () => e.close(),
            });
          }
        }
        if (ENGINES.has('transformers.js')) {
          const batches = lengthSortedBatches(encodings, 32).map((b) => b.map((i) => texts[i]!));
          const t = await transformersJs(dir, exported, int8, tok);
          if (typeof t === 'string') missing.push(t);
          else for (const [d, extractor] of t) {
            await extractor(batches[0]!.slice(0, 8), { pooling }); // warm-up
            runners.push({
              engine: `transformers.js 4.3 ${d} batch 32`,
              pass: async () => {
                const t0 = performance.now();
                for (const b of batches) await extractor(b, { pooling });
                return (performance.now() - t0) / 1000;
              },
              note: () => (d === 'q8' ? '(the same int8 file; its own tokenizer)' : '(its own tokenizer and pipeline)'),
              close: () => extractor.dispose(),
            });
          }
        }
      }
    }
    const seconds = runners.map(() => [] as number[]);
    const failed = new Map<number, string>();
    for (let rep = 0; rep < REPS; rep++) {
      for (const [i, r] of runners.entries()) {
        if (failed.has(i)) continue;
        try {
          seconds[i]!.push(await r.pass());
        } catch (e) {
          failed.set(i, String((e as Error).message ?? e).split('\n')[0]!);
        }
      }
    }
    const rate = (i: number) => (seconds[i]?.length ? N / median(seconds[i]!) : NaN);
    const base = rate(runners.findIndex((r) => r.engine.startsWith('PyTorch 1.13 fp32')));
    const best = Math.max(...runners.map((_, i) => rate(i)).filter((x) => !Number.isNaN(x)));
    for (const [i, r] of runners.entries()) {
      const v = rate(i);
      console.log(`${label}  ${r.engine.padEnd(30)}${Number.isNaN(v) ? '      -' : v.toFixed(1).padStart(7)} passages/s` +
        (Number.isNaN(v) || Number.isNaN(base) ? '' : `  ${(v / base).toFixed(2)}x PyTorch fp32`) + (Number.isNaN(v) ? '' : `  ${(v / best).toFixed(2)}x fastest`) +
        `  ${failed.get(i) ?? r.note?.() ?? ''}`);
      await r.close?.();
    }
    for (const m of missing) console.log(`${label}  ${m}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(`threads ${getNumThreads()}, ${N} passages, length-sorted batches, median of ${REPS} rounds (engines alternated pass by pass), load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}; CPU flags: ${[...cpuCapabilities().flags].filter((f) => /avx512_bf16|amx|avx512f$|avx512_vnni/.test(f)).join(' ') || 'no AVX-512'}`);
