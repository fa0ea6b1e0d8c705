/**
 * npm run bench:encode — passages/s of DistilBERT-base-size (TAS-B) and T5-base-size (GTR-Base) encoders with
 * random weights on 2,000 passages whose lengths spread over 20-200 tokens, fp32 and bf16, 2 threads, in fixed
 * batches of 32 and in length buckets of at most BENCH_TOKEN_BUDGET padded tokens (default 4096); each line
 * with its ratio to the best peer measured in the same run.
 * When Debian's python3-torch is installed, the same forward passes in PyTorch (bench/reference/torch_encode.py,
 * the same batches of token ids) are timed in the same run for comparison.
 */
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createTokenEncoder, RandomWeights, SentenceEncoder, type TokenEncoder } from '../src/models/index.js';
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

function torchAvailable(): boolean {
  return spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
}

setNumThreads(THREADS);
const work = mkdtempSync(join(tmpdir(), 'dk-bench-enc-'));
const texts = passages();
const rows: string[] = [];
const haveTorch = existsSync('/usr/bin/python3') && torchAvailable();
try {
  for (const [name, config, tok, pooling] of [
    ['DistilBERT-base (TAS-B size)', distilbert, join(shared, 'fixtures/tokenizers/bert-base-uncased'), 'cls'],
    ['T5-base encoder (GTR-Base size)', t5, join(shared, 'fixtures/tokenizers/legal-t5-32k'), 'mean'],
  ] as const) {
    const dir = join(work, name.split(' ')[0]!);
    makeModel(dir, config, tok, pooling);
    for (const dtype of ['fp32', 'bf16'] as const) {
      if (ONLY && !ONLY.split(',').includes(`${name.split(' ')[0]!.split('-')[0]!.toLowerCase()}:${dtype}`)) continue;
      const enc = SentenceEncoder.load(dir, { dtype });
      const encodings = enc.tokenizeTexts(texts, 'passage');
      const lengths = encodings.map((e) => e.ids.length);
      enc.embed(texts.slice(0, 64), 'passage', { batchSize: 32 }); // warm-up
      const timed = (opts: { batchSize: number; tokenBudget?: number }) => {
        const t0 = performance.now();
        enc.embed(texts, 'passage', opts);
        return N / ((performance.now() - t0) / 1000);
      };
      const fixed = timed({ batchSize: 32 });
      const bucketed = timed({ batchSize: BUDGET_MAX_BATCH, tokenBudget: TOKEN_BUDGET });
      enc.dispose();
      let torchRate = NaN;
      let torchNote = haveTorch ? '' : 'PyTorch: not installed (apt-get install python3-torch)';
      if (haveTorch) {
        const idsFile = join(work, 'ids.json');
        writeFileSync(idsFile, JSON.stringify(encodings.map((e) => e.ids)));
        const r = spawnSync('/usr/bin/python3', [join(repo, 'bench/reference/torch_encode.py'), join(dir, 'config.json'), idsFile, dtype, String(THREADS), pooling], { encoding: 'utf8' });
        if (r.status === 0) torchRate = Number(r.stdout.trim());
        else torchNote = `PyTorch failed: ${r.stderr.trim().split('\n').at(-1)}`;
      }
      const mean = lengths.reduce((a, b) => a + b, 0) / lengths.length;
      const vsPeer = (x: number) => (Number.isNaN(torchRate) ? '' : `  ${(x / torchRate).toFixed(2)}x best peer`);
      const label = `${name.padEnd(32)} ${dtype}`;
      rows.push(
        `${label}  densekit batch 32          ${fixed.toFixed(1).padStart(7)} passages/s${vsPeer(fixed)}  (mean ${mean.toFixed(0)} tokens)`,
        `${label}  densekit ${`budget ${TOKEN_BUDGET} tokens`.padEnd(18)}${bucketed.toFixed(1).padStart(7)} passages/s${vsPeer(bucketed)}  (${(bucketed / fixed).toFixed(2)}x batch 32)`,
        Number.isNaN(torchRate) ? `${label}  ${torchNote}` : `${label}  PyTorch 1.13 batch 32      ${torchRate.toFixed(1).padStart(7)} passages/s  1.00x best peer (same batches of token ids)`,
      );
      for (const r of rows.slice(-3)) console.log(r);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(`threads ${getNumThreads()}, ${N} passages, length-sorted batches, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}; CPU flags: ${[...cpuCapabilities().flags].filter((f) => /avx512_bf16|amx|avx512f$|avx512_vnni/.test(f)).join(' ') || 'no AVX-512'}`);
