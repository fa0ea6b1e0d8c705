/**
 * Random-weight GTR-shaped checkpoints (T5 encoder -> mean pooling -> Dense d_model->768 -> Normalize) written
 * tensor by tensor (a multi-GB file never sits in memory), and a probe that loads one in a fresh process and
 * measures it: load time, peak resident memory while loading and while encoding, passages/s.
 * Used by bench:gtr-sizes and by test/models.load-memory.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { writeSentenceTransformer, type HostDType, type TensorToWrite } from '../src/io/index.js';
import { manualSeed, randn, scope, ones } from '../src/tensor/index.js';

export interface T5Shape {
  dModel: number;
  dKv: number;
  numHeads: number;
  dFf: number;
  numLayers: number;
  vocabSize: number;
  /** The sentence vector's width after the Dense projection (GTR: 768). */
  outDim: number;
  feedForwardProj?: 'relu' | 'gated-gelu';
}

/** The published GTR sizes (sentence-transformers/gtr-t5-*: T5 v1.0 encoders, ReLU feed-forward, 768-d output). */
export const GTR_SHAPES: Record<'base' | 'large' | 'xl' | 'xxl', T5Shape> = {
  base: { dModel: 768, dKv: 64, numHeads: 12, dFf: 3072, numLayers: 12, vocabSize: 32128, outDim: 768 },
  large: { dModel: 1024, dKv: 64, numHeads: 16, dFf: 4096, numLayers: 24, vocabSize: 32128, outDim: 768 },
  xl: { dModel: 1024, dKv: 128, numHeads: 32, dFf: 16384, numLayers: 24, vocabSize: 32128, outDim: 768 },
  xxl: { dModel: 1024, dKv: 128, numHeads: 128, dFf: 65536, numLayers: 24, vocabSize: 32128, outDim: 768 },
};

export function t5Config(s: T5Shape): Record<string, unknown> {
  return {
    architectures: ['T5EncoderModel'], model_type: 't5', vocab_size: s.vocabSize, d_model: s.dModel, d_kv: s.dKv,
    num_heads: s.numHeads, d_ff: s.dFf, num_layers: s.numLayers, feed_forward_proj: s.feedForwardProj ?? 'relu',
    relative_attention_num_buckets: 32, relative_attention_max_distance: 128, layer_norm_epsilon: 1e-6,
    dropout_rate: 0.1, pad_token_id: 0, eos_token_id: 1, torch_dtype: 'float16',
  };
}

/** Parameter names and shapes of the encoder, in checkpoint order. */
export function t5ParameterShapes(s: T5Shape): Array<[string, number[]]> {
  const inner = s.dKv * s.numHeads;
  const out: Array<[string, number[]]> = [['shared.weight', [s.vocabSize, s.dModel]]];
  for (let i = 0; i < s.numLayers; i++) {
    const p = `encoder.block.${i}.layer`;
    for (const m of ['q', 'k', 'v']) out.push([`${p}.0.SelfAttention.${m}.weight`, [inner, s.dModel]]);
    out.push([`${p}.0.SelfAttention.o.weight`, [s.dModel, inner]]);
    if (i === 0) out.push([`${p}.0.SelfAttention.relative_attention_bias.weight`, [32, s.numHeads]]);
    out.push([`${p}.0.layer_norm.weight`, [s.dModel]]);
    if (s.feedForwardProj === 'gated-gelu') {
      out.push([`${p}.1.DenseReluDense.wi_0.weight`, [s.dFf, s.dModel]], [`${p}.1.DenseReluDense.wi_1.weight`, [s.dFf, s.dModel]]);
    } else {
      out.push([`${p}.1.DenseReluDense.wi.weight`, [s.dFf, s.dModel]]);
    }
    out.push([`${p}.1.DenseReluDense.wo.weight`, [s.dModel, s.dFf]], [`${p}.1.layer_norm.weight`, [s.dModel]]);
  }
  out.push(['encoder.final_layer_norm.weight', [s.dModel]]);
  return out;
}

export function parameterCount(s: T5Shape): number {
  return t5ParameterShapes(s).reduce((n, [, shape]) => n + shape.reduce((a, b) => a * b, 1), 0) + s.dModel * s.outDim;
}

/**
 * Writes a sentence-transformers folder with random weights stored in `storage` (fp16, as the published GTR
 * checkpoints are, or fp32): N(0, 0.02) matrices, unit norm scales, each tensor made when the writer reaches it.
 */
export function writeRandomGtr(dir: string, s: T5Shape, storage: 'float16' | 'float32', tokenizerDir: string, seed = 0): void {
  manualSeed(seed);
  const weights = new Map<string, TensorToWrite>();
  for (const [name, shape] of t5ParameterShapes(s)) {
    weights.set(name, {
      dtype: storage as HostDType, shape,
      data: () => scope(() => (shape.length === 1 ? ones(shape) : randn(shape).mul(0.02)).to(storage).toHost().data),
    });
  }
  const dense = scope(() => randn([s.outDim, s.dModel]).mul(1 / Math.sqrt(s.dModel)).toHost());
  writeSentenceTransformer(dir, {
    weights, config: t5Config(s), sourceDir: tokenizerDir, maxSeqLength: 512,
    modules: [
      { kind: 'Transformer' },
      { kind: 'Pooling', mode: { cls: false, max: false, mean: true, meanSqrtLen: false }, dim: s.dModel },
      { kind: 'Dense', inFeatures: s.dModel, outFeatures: s.outDim, bias: false, activation: 'identity', weight: dense },
      { kind: 'Normalize' },
    ],
  });
}

export interface ProbeResult {
  loadSeconds: number;
  /** Peak resident memory while loading, above the process's resident memory just before. */
  loadPeakBytes: number;
  /** Bytes of the parameters as loaded. */
  weightBytes: number;
  weightsDtype: string;
  /** Peak resident memory while encoding, whole process. */
  encodePeakBytes?: number;
  passagesPerSecond?: number;
}

/** Runs probe() below in a fresh node process, so that its peak memory is the load's and the encoding's alone. */
export function runProbe(args: { model: string; weightsDtype: 'fp32' | 'bf16'; dtype?: 'fp32' | 'bf16'; passagesFile?: string; batchSize?: number; threads?: number }): ProbeResult {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, [self, JSON.stringify(args)], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`probe of ${args.model} failed (exit ${r.status}, signal ${r.signal}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as ProbeResult;
}

function statusBytes(field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  if (!m) throw new Error(`/proc/self/status has no ${field}`);
  return Number(m[1]) * 1024;
}

async function probe(args: Parameters<typeof runProbe>[0]): Promise<ProbeResult> {
  const { writeFileSync } = await import('node:fs');
  const { SentenceEncoder } = await import('../src/models/index.js');
  const { liveTensorCount, setNumThreads } = await import('../src/tensor/index.js');
  if (args.threads) setNumThreads(args.threads);
  liveTensorCount(); // loads the addon and libtorch before the baseline
  const passages = args.passagesFile ? (JSON.parse(readFileSync(args.passagesFile, 'utf8')) as string[]) : [];
  // Linux: writing 5 to clear_refs resets the peak resident set size (VmHWM) to the current one (proc(5)).
  const reset = () => writeFileSync('/proc/self/clear_refs', '5');
  const before = statusBytes('VmRSS');
  reset();
  const t0 = performance.now();
  const enc = SentenceEncoder.load(args.model, { weightsDtype: args.weightsDtype, dtype: args.dtype ?? 'fp32' });
  const loadSeconds = (performance.now() - t0) / 1000;
  const loadPeakBytes = statusBytes('VmHWM') - before;
  let weightBytes = 0;
  for (const p of enc.namedParameters().values()) weightBytes += p.numel() * (p.dtype === 'float32' ? 4 : 2);
  const out: ProbeResult = { loadSeconds, loadPeakBytes, weightBytes, weightsDtype: enc.weights.dtype };
  if (passages.length) {
    reset();
    const t1 = performance.now();
    enc.embed(passages, 'passage', { batchSize: args.batchSize ?? 8 });
    out.passagesPerSecond = passages.length / ((performance.now() - t1) / 1000);
    out.encodePeakBytes = statusBytes('VmHWM');
  }
  enc.dispose();
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  probe(JSON.parse(process.argv[2]!) as Parameters<typeof runProbe>[0]).then((r) => process.stdout.write(JSON.stringify(r) + '\n'));
}
