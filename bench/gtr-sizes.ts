/**
 * npm run bench:gtr-sizes — every GTR size on this machine: random-weight T5 encoders of the Base, Large, XL and
 * XXL shapes (GTR_SHAPES), each written as an fp16 safetensors checkpoint (as the published ones are) and loaded
 * in a fresh process with fp32 and bf16 weights (XXL: bf16 only): load time, peak RSS while loading and while
 * encoding, passages/s on passages of realistic length (fp32 compute, so the two weight dtypes compare alike). Prints what
 * fits here and the memory each size would need on a GPU. Each checkpoint is deleted once measured.
 *
 * BENCH_SIZES=base,large,xl,xxl   BENCH_PASSAGES=base:64,large:32,xl:16,xxl:4   BENCH_THREADS=2   BENCH_DIR=/tmp
 */
import { mkdtempSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { availableMemory } from 'node:process';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { GTR_SHAPES, parameterCount, runProbe, writeRandomGtr, type ProbeResult, type T5Shape } from './t5-checkpoint.js';
import { seededRandom } from '../src/util/random.js';

type Size = keyof typeof GTR_SHAPES;
const SIZES = (process.env.BENCH_SIZES ?? 'base,large,xl,xxl').split(',') as Size[];
const PASSAGES: Record<Size, number> = { base: 64, large: 32, xl: 16, xxl: 4 };
for (const kv of (process.env.BENCH_PASSAGES ?? '').split(',').filter(Boolean)) {
  const [k, v] = kv.split(':');
  PASSAGES[k as Size] = Number(v);
}
const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const BATCH = 4;
const repo = new URL('..', import.meta.url).pathname.replace(/dist\/$/, '');
const shared = join(repo, '../shared');
const tokenizer = join(shared, 'fixtures/tokenizers/legal-t5-32k');
const GiB = 2 ** 30;
const gib = (b: number) => (b / GiB).toFixed(2);

/** SciFact abstracts cut to lengths spread log-normally over 20-200 tokens (median ~80), as in bench:encode. */
function passages(n: number): string[] {
  const rnd = seededRandom(7);
  const docs = readFileSync(join(shared, 'datasets/scifact/corpus.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { title: string; text: string });
  return Array.from({ length: n }, (_, i) => {
    const d = docs[i % docs.length]!;
    const gauss = Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
    const tokens = Math.min(200, Math.max(20, Math.round(Math.exp(Math.log(80) + 0.5 * gauss))));
    return `${d.title} ${d.text}`.split(/\s+/).slice(0, Math.round(tokens / 1.4)).join(' ');
  });
}

/**
 * GPU memory for inference: the weights, the CUDA context (~0.5 GiB), and the largest transients of a batch of
 * 32 passages x 256 tokens in bf16 (the feed-forward hidden state, fp32 attention scores, the residual stream).
 */
function gpuBytes(s: T5Shape, weightBytesPerParam: number): number {
  const tokens = 32 * 256;
  const activations = tokens * s.dFf * 2 + 32 * s.numHeads * 256 * 256 * 4 + 6 * tokens * Math.max(s.dModel, s.dKv * s.numHeads) * 2;
  return parameterCount(s) * weightBytesPerParam + 0.5 * GiB + activations;
}

const work = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'dk-bench-gtr-'));
const rows: string[][] = [['size', 'params', 'weights', 'file GB', 'load s', 'load peak GiB', 'x weights', 'encode peak GiB', 'passages/s']];
const fits: string[] = [];
try {
  for (const size of SIZES) {
    const shape = GTR_SHAPES[size];
    const params = parameterCount(shape);
    const dir = join(work, size);
    const dtypes = size === 'xxl' ? (['bf16'] as const) : (['fp32', 'bf16'] as const);
    // Enough for the smallest configuration (bf16 weights): the weights, a matrix widened per call, activations.
    const need = params * 2 * 1.15 + GiB;
    if (need > availableMemory()) {
      fits.push(`${size}: skipped, ${gib(need)} GiB needed and ${gib(availableMemory())} GiB available`);
      continue;
    }
    process.stderr.write(`bench:gtr-sizes: writing ${size} (${(params / 1e9).toFixed(2)}B parameters, fp16)\n`);
    writeRandomGtr(dir, shape, 'float16', tokenizer);
    const fileBytes = statSync(join(dir, 'model.safetensors')).size;
    const texts = join(work, `${size}-passages.json`);
    writeFileSync(texts, JSON.stringify(passages(PASSAGES[size])));
    for (const weightsDtype of dtypes) {
      const weightBytes = params * (weightsDtype === 'fp32' ? 4 : 2);
      if (weightBytes * 1.1 + GiB > availableMemory()) {
        fits.push(`${size} ${weightsDtype}: does not fit, ${gib(weightBytes)} GiB of weights and ${gib(availableMemory())} GiB available`);
        continue;
      }
      process.stderr.write(`bench:gtr-sizes: ${size} ${weightsDtype}: loading and encoding ${PASSAGES[size]} passages\n`);
      const r: ProbeResult = runProbe({ model: dir, weightsDtype, passagesFile: texts, batchSize: BATCH, threads: THREADS });
      rows.push([
        size, `${(params / 1e9).toFixed(2)}B`, weightsDtype, (fileBytes / 1e9).toFixed(2), r.loadSeconds.toFixed(1), gib(r.loadPeakBytes),
        (r.loadPeakBytes / r.weightBytes).toFixed(3), gib(r.encodePeakBytes ?? 0), (r.passagesPerSecond ?? 0).toFixed(3),
      ]);
      fits.push(`${size} ${weightsDtype}: fits (peak ${gib(r.encodePeakBytes ?? 0)} GiB of ${gib(totalmem())} GiB)`);
    }
    rmSync(dir, { recursive: true, force: true });
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
process.stdout.write(rows.map((r) => r.map((cell, c) => (c < 3 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n') + '\n\n');
process.stdout.write(`on this machine (${gib(totalmem())} GiB, ${THREADS} threads, batch ${BATCH}, fp32 compute):\n  ${fits.join('\n  ')}\n\n`);
process.stdout.write('projected GPU memory for inference (weights + CUDA context + a 32 x 256-token bf16 batch):\n');
for (const size of Object.keys(GTR_SHAPES) as Size[]) {
  const s = GTR_SHAPES[size];
  process.stdout.write(`  ${size.padEnd(5)} ${(parameterCount(s) / 1e9).toFixed(2)}B params: fp32 weights ${gib(gpuBytes(s, 4))} GiB, bf16 weights ${gib(gpuBytes(s, 2))} GiB\n`);
}
