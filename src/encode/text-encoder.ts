/** SentenceEncoder behind the TextEncoder seam (src/retrieval/types.ts), with a fixed batch size. */
import { SentenceEncoder, type EncoderOptions } from '../models/index.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Encoded, Similarity, TextEncoder, TextKind } from '../retrieval/types.js';
import { isOnnxExport } from '../backends/onnx/engine.js';
import { UsageError } from '../errors.js';
import { resolveModelPath } from '../io/resolve.js';
import { folderDigest } from '../util/digest.js';

export class SentenceTextEncoder implements TextEncoder {
  constructor(
    readonly encoder: SentenceEncoder,
    /** The model's identity recorded in manifests and indexes (usually the name or folder it was loaded from). */
    readonly model: string,
    readonly batchSize = 32,
    /** Batch by padded tokens (SentenceEncoder.embed's tokenBudget), batchSize texts at most. */
    readonly tokenBudget?: number,
  ) {}

  private get batching(): { batchSize: number; tokenBudget?: number } {
    return this.tokenBudget === undefined ? { batchSize: this.batchSize } : { batchSize: this.batchSize, tokenBudget: this.tokenBudget };
  }

  get dim(): number {
    return this.encoder.dim;
  }
  get similarity(): Similarity {
    return this.encoder.similarity;
  }
  get maxLength(): { query: number; passage: number } {
    return this.encoder.maxLength;
  }

  async encode(texts: readonly string[], kind: TextKind, opts: { onProgress?: (done: number) => void } = {}): Promise<Encoded> {
    const { vectors, truncated } = this.encoder.embed(texts, kind, { ...this.batching, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
    return { vectors, truncated };
  }

  encodeQueries(texts: readonly string[]): Promise<Float32Array> {
    return this.encoder.encodeQueries(texts, this.batching);
  }

  encodePassages(texts: readonly string[]): Promise<Float32Array> {
    return this.encoder.encodePassages(texts, this.batching);
  }

  readonly engine = 'torch' as const;

  close(): void {
    this.encoder.dispose();
  }
}

/** Loads a model (folder, or Hub id: downloaded into the Hugging Face cache when missing) as a TextEncoder. */
export async function openEncoder(model: string, opts: EncoderOptions & { batchSize?: number; tokenBudget?: number } = {}): Promise<SentenceTextEncoder> {
  const { batchSize, tokenBudget, ...encoderOptions } = opts;
  return new SentenceTextEncoder(await SentenceEncoder.fromPretrained(model, encoderOptions), model, batchSize, tokenBudget);
}

/** Which engine runs the model: libtorch (the addon), ONNX Runtime (an exported folder), or `auto`. */
export type Engine = 'torch' | 'onnx';
export type RequestedEngine = Engine | 'auto';
export const ENGINES = ['torch', 'onnx', 'auto'] as const;

/** The local folder a model argument names, when it is one already (never downloads). */
function localFolder(model: string): string | undefined {
  try {
    return resolveModelPath(model);
  } catch {
    return undefined;
  }
}

/**
 * `auto` is onnx when the model is a folder `densekit export --format onnx` wrote, else torch. Needs no
 * download: the verbs decide the precision (onnx computes in fp32, or int8 for an int8 export) before loading.
 */
export function resolveEngine(model: string, requested: RequestedEngine = 'torch'): Engine {
  if (requested !== 'auto') return requested;
  const dir = localFolder(model);
  return dir !== undefined && isOnnxExport(dir) ? 'onnx' : 'torch';
}

export interface TextEncoderOptions extends EncoderOptions {
  batchSize?: number;
  tokenBudget?: number;
  engine?: RequestedEngine;
  /** ONNX Runtime intra-op threads (the torch engine's threads are process-wide: setNumThreads). */
  threads?: number;
  /** `dtype` was picked by `--dtype auto` for the torch engine: the onnx engine ignores it rather than refusing it. */
  autoDtype?: boolean;
}

/** Texts the onnx engine checks a published onnx/model.onnx on against the torch engine before using it. */
const CHECK_TEXTS = ['what is the capital of france', 'Dense retrieval encodes queries and passages into one vector space.', 'a', 'Zürich, 1999: naïve café prices rose 12%.'];
/** Largest |difference| accepted between the published ONNX file and the torch engine (fp32 both). */
const PUBLISHED_TOLERANCE = 1e-4;

/**
 * Loads a model as a TextEncoder on the engine asked for (see resolveEngine). `onnx` takes an exported folder, or
 * a model folder / Hub repo that ships `onnx/model.onnx`: that file is used only when its vectors match the torch
 * engine's on a few texts, else the torch engine is used and `log` says why. Which engine runs is said on `log`.
 */
export async function openTextEncoder(model: string, opts: TextEncoderOptions = {}): Promise<TextEncoder> {
  const { engine: requested, threads, autoDtype, ...rest } = opts;
  const engine = resolveEngine(model, requested);
  const log = opts.log ?? (() => {});
  if (engine === 'torch') {
    const enc = await openEncoder(model, rest);
    log(`engine torch${requested === 'auto' ? ' (auto: not an ONNX export)' : ''}`);
    return enc;
  }
  if (opts.dtype !== undefined && opts.dtype !== 'fp32' && !autoDtype)
    throw new UsageError(`--dtype ${opts.dtype} applies to the torch engine; the onnx engine computes in fp32 (or int8 with a --quantize int8 export)`);
  const onnx = await import('../backends/onnx/engine.js');
  const onnxOptions = {
    ...(opts.batchSize ? { batchSize: opts.batchSize } : {}), ...(opts.tokenBudget ? { tokenBudget: opts.tokenBudget } : {}),
    ...(threads ? { threads } : {}), ...(opts.device ? { device: opts.device } : {}),
    ...(opts.queryMaxLength ? { queryMaxLength: opts.queryMaxLength } : {}), ...(opts.passageMaxLength ? { passageMaxLength: opts.passageMaxLength } : {}), log,
  };
  const dir = localFolder(model);
  if (dir !== undefined && onnx.isOnnxExport(dir)) return onnx.OnnxTextEncoder.open(dir, onnxOptions);
  if (opts.device && opts.device !== 'cpu') throw new UsageError(`--engine onnx --device ${opts.device}: give a folder \`densekit export --format onnx\` wrote (published ONNX files are checked on the CPU)`);
  const torch = await openEncoder(model, { ...rest, dtype: 'fp32' });
  const spec = torch.encoder.spec;
  const published = join(spec.dir, 'onnx', 'model.onnx');
  const fallback = (why: string): TextEncoder => {
    log(`engine torch: ${why}`);
    return torch;
  };
  try {
    if (!existsSync(published)) {
      throw new UsageError(`${model} is not an ONNX export and has no onnx/model.onnx; export it with \`densekit export --model ${model} --format onnx --output DIR\` and give --model DIR, or use --engine torch`);
    }
    const pool = spec.modules.find((m) => m.kind === 'Pooling');
    const mode = pool?.kind === 'Pooling' ? pool.mode : { cls: false, max: false, mean: true, meanSqrtLen: false };
    const pooling = mode.cls && !mode.mean && !mode.max && !mode.meanSqrtLen ? 'cls' : mode.mean && !mode.cls && !mode.max && !mode.meanSqrtLen ? 'mean' : undefined;
    if (!pooling || spec.modules.some((m) => m.kind === 'Dense')) return fallback(`${published} would need a head (pooling mode or Dense module) densekit does not run outside the model; export the model with \`densekit export\` instead`);
    const candidate = await onnx.OnnxTextEncoder.openPublished(
      published, torch.encoder.input, { model, modelSha256: await folderDigest(spec.dir), dim: torch.dim, similarity: torch.similarity },
      { pooling, normalize: torch.encoder.normalize }, onnxOptions,
    );
    const [a, b] = [(await torch.encode(CHECK_TEXTS, 'query')).vectors, (await candidate.encode(CHECK_TEXTS, 'query')).vectors];
    let worst = a.length === b.length ? 0 : Infinity;
    for (let i = 0; i < a.length && worst !== Infinity; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    if (!(worst <= PUBLISHED_TOLERANCE)) {
      await candidate.close();
      return fallback(`${published} does not reproduce the model (largest difference ${worst.toPrecision(3)} on ${CHECK_TEXTS.length} texts, over ${PUBLISHED_TOLERANCE})`);
    }
    torch.close();
    log(`engine onnx: ${published} (published with the model; matches the torch engine within ${worst.toPrecision(2)} on ${CHECK_TEXTS.length} texts)`);
    return candidate;
  } catch (e) {
    torch.close();
    throw e;
  }
}
