/**
 * `densekit encode` as a library call: stream a text file, encode it in shards, write each shard atomically
 * and record it in the manifest, so that a killed job resumes after its last finished shard.
 */
import { mkdirSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DensekitError, positiveInteger, UsageError } from '../errors.js';
import { Progress } from '../util/progress.js';
import type { TextEncoder, TextKind } from '../retrieval/types.js';
import { readTextRecords, type TextRecord } from './input.js';
import { sliceOf, type ShardSpec } from './slices.js';
import { EMBEDDINGS_FORMAT, manifestPath, readManifest, writeManifest, writeShard, type EmbeddingManifest } from './shards.js';

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

export async function runEncodeJob(o: EncodeJobOptions): Promise<EncodeSummary> {
  const shardSize = positiveInteger('shardSize', o.shardSize ?? 10_000);
  const model = o.encoder.model;
  mkdirSync(o.output, { recursive: true });
  const input = resolve(o.input);
  let manifest: EmbeddingManifest | undefined;
  if (existsSync(manifestPath(o.output)) && !o.overwrite) {
    manifest = readManifest(o.output);
    const same = manifest.model === model && manifest.input === input && manifest.kind === o.kind && manifest.dim === o.encoder.dim &&
      manifest.shardSize === shardSize && manifest.truncated.maxLength === o.encoder.maxLength[o.kind] &&
      (manifest.slice?.index ?? 0) === (o.shard?.index ?? 0) && (manifest.slice?.of ?? 1) === (o.shard?.of ?? 1);
    if (!same)
      throw new UsageError(`${manifestPath(o.output)}: this folder holds embeddings of another job (model/input/kind/shard size/max length/--shard differ); overwrite it (the overwrite option) or write to another folder`);
  }
  if (!manifest) {
    for (const f of readdirSync(o.output)) if (/^shard-\d+\.(npy|ids\.txt)$|^manifest\.json$/.test(f)) rmSync(join(o.output, f));
    const records = await countRecords(o.input);
    if (records === 0) throw new DensekitError(`${o.input}: no records to encode (empty input)`);
    const slice = o.shard ? sliceOf(o.shard, records) : undefined;
    const total = slice ? slice.end - slice.start : records;
    manifest = {
      format: EMBEDDINGS_FORMAT, version: 1, model, kind: o.kind, dim: o.encoder.dim, dtype: 'float32',
      similarity: o.encoder.similarity, input, total, shardSize, shards: [],
      truncated: { count: 0, maxLength: o.encoder.maxLength[o.kind] }, complete: false, ...(slice ? { slice } : {}),
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
    const { vectors, truncated } = await o.encoder.encode(buffer.map((r) => r.text), o.kind, { onProgress: (n) => progress.tick(n) });
    m.shards.push(writeShard(o.output, m.shards.length, buffer.map((r) => r.id), vectors, m.dim));
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
