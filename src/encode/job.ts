/**
 * `densekit encode` as a library call: stream a text file, encode it in shards, write each shard atomically
 * and record it in the manifest, so that a killed job resumes after its last finished shard.
 */
import { mkdirSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DensekitError, positiveInteger, UsageError } from '../errors.js';
import { fileDigest, folderDigest } from '../util/digest.js';
import { removeStaleTemps } from '../util/fs.js';
import { Progress } from '../util/progress.js';
import type { TextEncoder, TextKind } from '../retrieval/types.js';
import {
  EMBEDDINGS_FORMAT, manifestPath, readManifest, readTextRecords, recordText, writeManifest, writeShard,
  type EmbeddingManifest, type EncodeJobIdentity, type TextRecord,
} from '../formats/index.js';
import { sliceOf, type ShardSpec } from './slices.js';
import { SentenceTextEncoder } from './text-encoder.js';
import { OnnxTextEncoder } from '../backends/onnx/engine.js';

export interface EncodeJobOptions {
  /** Its `model` is recorded in the manifest (a resumed job with another model is refused). */
  encoder: TextEncoder;
  input: string;
  output: string;
  kind: TextKind;
  /** Rows per shard file. */
  shardSize?: number;
  /** Start over even if the folder holds another job's shards. */
  overwrite?: boolean;
  /** Encode only the I-th of N slices of the input by record number (`--shard I/N`). */
  shard?: ShardSpec;
  /** The encoder's precision (default fp32), recorded in the manifest: a job never resumes in another one. */
  precision?: 'fp32' | 'bf16' | 'fp16' | 'int8';
  log?: (line: string) => void;
}

export interface EncodeSummary {
  manifest: EmbeddingManifest;
  encoded: number;
  resumedFrom: number;
  seconds: number;
  rate: number;
}

async function countRecords(path: string): Promise<number> {
  let n = 0;
  for await (const _ of readTextRecords(path)) n++;
  return n;
}

/** The first setting in which a recorded job differs from this one, named as the user set it; null if none. */
function jobDifference(
  m: EmbeddingManifest,
  now: { model: string; input: string; kind: string; dim: number; shardSize: number; maxLength: number; shard: ShardSpec | undefined },
  job: EncodeJobIdentity,
): string | null {
  const was = m.job;
  const checks: Array<[string, unknown, unknown]> = [
    ['--model', m.model, now.model], ['--input', m.input, now.input], ['--kind', m.kind, now.kind], ['model dimension', m.dim, now.dim],
    ['--shard-size', m.shardSize, now.shardSize], ['--max-length', m.truncated?.maxLength, now.maxLength],
    ['--shard', `${m.slice?.index ?? 0}/${m.slice?.of ?? 1}`, `${now.shard?.index ?? 0}/${now.shard?.of ?? 1}`],
  ];
  for (const [what, a, b] of checks) if (a !== b) return `${what} was ${JSON.stringify(a)}, now ${JSON.stringify(b)}`;
  if (!was || typeof was !== 'object') return 'it records no input or model digest (written by an older densekit)';
  const recorded: Array<[string, unknown, unknown]> = [
    // Engine first: another engine also changes the model digest, and "--engine" is what the user changed.
    ['--engine', was.engine ?? 'torch', job.engine ?? 'torch'], ['quantization', was.quantization ?? 'none', job.quantization ?? 'none'],
    ['input size in bytes', was.inputBytes, job.inputBytes], ['input content (sha256)', was.inputSha256, job.inputSha256],
    ['model files (sha256)', was.modelSha256, job.modelSha256], ['--batch-size', was.batchSize, job.batchSize],
  ];
  for (const [what, a, b] of recorded) if (a !== b) return `${what} was ${JSON.stringify(a)}, now ${JSON.stringify(b)}`;
  return null;
}

async function encoderIdentity(e: TextEncoder): Promise<Pick<EncodeJobIdentity, 'modelSha256' | 'batchSize' | 'engine' | 'quantization'>> {
  if (e instanceof SentenceTextEncoder) return { modelSha256: await folderDigest(e.encoder.spec.dir), batchSize: e.batchSize, engine: 'torch', quantization: 'none' };
  if (e instanceof OnnxTextEncoder) return { modelSha256: e.modelSha256, batchSize: e.batchSize, engine: 'onnx', quantization: e.quantization };
  return { modelSha256: null, batchSize: null };
}

export async function runEncodeJob(o: EncodeJobOptions): Promise<EncodeSummary> {
  const shardSize = positiveInteger('shardSize', o.shardSize ?? 10_000);
  const model = o.encoder.model;
  const precision = o.precision ?? 'fp32';
  mkdirSync(o.output, { recursive: true });
  removeStaleTemps(o.output);
  const input = resolve(o.input);
  let manifest: EmbeddingManifest | undefined;
  const inputDigest = await fileDigest(o.input);
  // A model loaded here is identified by its files, engine and batch size (padding per batch moves float
  // rounding); an encoder behind a worker is identified by its model name alone.
  const job: EncodeJobIdentity = { inputBytes: inputDigest.bytes, inputSha256: inputDigest.sha256, ...(await encoderIdentity(o.encoder)) };
  if (existsSync(manifestPath(o.output)) && !o.overwrite) {
    manifest = readManifest(o.output);
    const differs = jobDifference(manifest, {
      model, input, kind: o.kind, dim: o.encoder.dim, shardSize, maxLength: o.encoder.maxLength[o.kind], shard: o.shard,
    }, job);
    if (differs)
      throw new UsageError(`${manifestPath(o.output)}: this folder holds embeddings of another job (${differs}); use --overwrite or another --output`);
    const before = manifest.precision ?? 'fp32';
    if (!manifest.complete && before !== precision)
      throw new UsageError(`${manifestPath(o.output)}: this job was started in ${before} and would resume in ${precision}; encode in ${before} again, or overwrite it`);
  }
  if (!manifest) {
    for (const f of readdirSync(o.output)) if (/^shard-\d+\.(npy|ids\.txt)$|^manifest\.json$/.test(f)) rmSync(join(o.output, f));
    // The reader refuses an empty input, so records >= 1.
    const records = await countRecords(o.input);
    const slice = o.shard ? sliceOf(o.shard, records) : undefined;
    const total = slice ? slice.end - slice.start : records;
    manifest = {
      format: EMBEDDINGS_FORMAT, version: 1, model, kind: o.kind, dim: o.encoder.dim, dtype: 'float32',
      similarity: o.encoder.similarity, precision: precision, input, total, shardSize, shards: [],
      truncated: { count: 0, maxLength: o.encoder.maxLength[o.kind] }, complete: false, job, ...(slice ? { slice } : {}), files: {},
    };
    writeManifest(o.output, manifest);
  }
  const m = manifest;
  const done = m.shards.reduce((a, s) => a + s.rows, 0);
  // A finished job (e.g. `densekit beir` run again) needs no second pass over the input.
  if (m.complete) return { manifest: m, encoded: 0, resumedFrom: done, seconds: 0, rate: 0 };
  const started = performance.now();
  const progress = new Progress({ label: `encode ${o.kind === 'query' ? 'queries' : 'passages'}`, total: m.total - done, unit: 'texts' });
  if (done > 0) o.log?.(`resuming after ${m.shards.length} finished shard(s), ${done} of ${m.total} texts`);

  const first = (m.slice?.start ?? 0) + done;
  const end = m.slice?.end ?? Infinity;
  let recordNo = 0;
  let buffer: TextRecord[] = [];
  const flush = async () => {
    const { vectors, truncated } = await o.encoder.encode(buffer.map(recordText), o.kind, { onProgress: (n) => progress.tick(n) });
    // A job started before checksums were recorded keeps none: a record of only some shards would read as complete.
    m.shards.push(writeShard(o.output, m.shards.length, buffer.map((r) => r.id), vectors, m.dim, m.files));
    m.truncated.count += truncated;
    writeManifest(o.output, m);
    buffer = [];
  };
  for await (const rec of readTextRecords(o.input)) {
    const r = recordNo++;
    if (r < first) continue;
    if (r >= end) break;
    buffer.push(rec);
    if (buffer.length === shardSize) await flush();
  }
  if (buffer.length) await flush();
  const rows = m.shards.reduce((a, s) => a + s.rows, 0);
  if (rows !== m.total) throw new DensekitError(`${o.input}: changed while encoding (${rows} records now, ${m.total} when the job started)`);
  m.complete = true;
  writeManifest(o.output, m);
  progress.finish();
  const seconds = (performance.now() - started) / 1000;
  return { manifest: m, encoded: rows - done, resumedFrom: done, seconds, rate: (rows - done) / Math.max(seconds, 1e-9) };
}
