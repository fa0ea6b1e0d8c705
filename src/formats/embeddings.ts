/**
 * The on-disk layout `densekit encode` writes and the indexers read:
 *
 *   DIR/manifest.json            what was encoded, how, and the list of finished shards
 *   DIR/shard-00000.npy          float32 [rows, dim], rows in input order
 *   DIR/shard-00000.ids.txt      one id per line, same order
 *
 * Each shard (both files) is written atomically and then recorded in the manifest (also atomic), so a
 * killed job leaves only complete shards behind and resumes after the last one recorded. Ids follow the
 * run-id rule (./ids.ts) when written and when read back.
 */
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { writeFileAtomicSync } from '../util/fs.js';
import { checkRecordedSizes, readFileRecords, type FileRecords } from '../util/checksums.js';
import { readDescriptorSync } from '../util/lines.js';
import { readNpy, readNpyHeader, writeNpy } from '../io/npy.js';
import { idProblem, readIdsFile } from './ids.js';

export const EMBEDDINGS_FORMAT = 'densekit-embeddings';

export interface ShardEntry {
  vectors: string;
  ids: string;
  rows: number;
}

export interface EmbeddingManifest {
  format: typeof EMBEDDINGS_FORMAT;
  version: 1;
  /** Model name or path as given, and the resolved directory. */
  model: string;
  kind: 'query' | 'passage';
  dim: number;
  dtype: 'float32';
  /** 'cosine' when the model L2-normalizes its output (dot product = cosine), else 'dot'. */
  similarity: 'dot' | 'cosine';
  /** The precision the encoder computed in (absent in folders written before it was recorded: fp32). */
  precision?: 'fp32' | 'bf16' | 'fp16' | 'int8';
  /** Input file and number of records in it (known once counted). */
  input: string;
  total: number;
  shardSize: number;
  shards: ShardEntry[];
  /** Texts longer than maxLength tokens, cut to it. */
  truncated: { count: number; maxLength: number };
  complete: boolean;
  /** What determined these vectors besides model name and input path; a resume must match every field. */
  job?: EncodeJobIdentity;
  /** `densekit encode --shard I/N`: this folder holds input records [start, end) of `records` (absent: all of them). */
  slice?: EncodeSlice;
  /**
   * Size and sha256 of each shard file (src/util/checksums.ts): sizes checked when shards are read, hashes by
   * `densekit verify`. Absent in folders written before checksums were recorded.
   */
  files?: FileRecords;
}

export interface EncodeJobIdentity {
  inputBytes: number;
  inputSha256: string;
  /** null when the encoder runs elsewhere (its model name is all the job knows). */
  modelSha256: string | null;
  batchSize: number | null;
  /** The engine that made the vectors and its weight quantization; absent in manifests of older densekit (torch, none). */
  engine?: 'torch' | 'onnx' | null;
  quantization?: 'none' | 'int8' | null;
}

export interface EncodeSlice {
  /** 0-based slice number I of N. */
  index: number;
  of: number;
  start: number;
  end: number;
  /** Records in the whole input. */
  records: number;
}

export function manifestPath(dir: string): string {
  return join(dir, 'manifest.json');
}

export function readManifest(dir: string): EmbeddingManifest {
  const path = manifestPath(dir);
  const m = readDescriptorSync(path, EMBEDDINGS_FORMAT, 'not a densekit embeddings folder (run `densekit encode` first)') as unknown as EmbeddingManifest;
  checkManifestFields(m, path);
  return m;
}

const MAX_DIM = 65_536;

/** Every field the readers rely on, with its type and range: a manifest is input like any other file. */
function checkManifestFields(m: EmbeddingManifest, path: string): void {
  const bad = (field: string, expected: string, v: unknown): never => {
    throw new InputError(path, undefined, `field "${field}" is ${JSON.stringify(v) ?? 'missing'}, expected ${expected}`);
  };
  const count = (v: unknown, min = 0): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
  if (m.version !== 1) bad('version', '1', m.version);
  if (typeof m.model !== 'string') bad('model', 'a string', m.model);
  if (m.kind !== 'query' && m.kind !== 'passage') bad('kind', '"query" or "passage"', m.kind);
  if (!count(m.dim, 1) || m.dim > MAX_DIM) bad('dim', `an integer from 1 to ${MAX_DIM}`, m.dim);
  if (m.dtype !== 'float32') bad('dtype', '"float32"', m.dtype);
  if (m.similarity !== 'dot' && m.similarity !== 'cosine') bad('similarity', '"dot" or "cosine"', m.similarity);
  if (typeof m.input !== 'string') bad('input', 'a string', m.input);
  if (!count(m.total)) bad('total', 'a non-negative integer', m.total);
  if (!count(m.shardSize, 1)) bad('shardSize', 'a positive integer', m.shardSize);
  if (typeof m.complete !== 'boolean') bad('complete', 'true or false', m.complete);
  readFileRecords(m.files, path);
  const t = m.truncated as unknown as Record<string, unknown> | null;
  if (t === null || typeof t !== 'object' || !count(t.count) || !count(t.maxLength)) bad('truncated', '{count, maxLength} non-negative integers', m.truncated);
  if (!Array.isArray(m.shards)) bad('shards', 'a list', m.shards);
  let rows = 0;
  m.shards.forEach((sh, i) => {
    const names = shardNames(i);
    // Shard files are named by position: anything else (`../x.npy`, another shard's file) is refused.
    if (sh === null || typeof sh !== 'object' || sh.vectors !== names.vectors || sh.ids !== names.ids)
      bad(`shards[${i}]`, `{"vectors": "${names.vectors}", "ids": "${names.ids}", "rows": N}`, sh);
    if (!count(sh.rows) || sh.rows > m.shardSize) bad(`shards[${i}].rows`, `an integer from 0 to shardSize ${m.shardSize}`, sh.rows);
    rows += sh.rows;
  });
  if (m.slice !== undefined) {
    const sl = m.slice as unknown as Record<string, number> | null;
    const ok = sl !== null && typeof sl === 'object' && count(sl.of, 1) && count(sl.index) && sl.index < sl.of && count(sl.records) &&
      count(sl.start) && count(sl.end) && sl.start <= sl.end && sl.end <= sl.records && sl.end - sl.start === m.total;
    if (!ok) bad('slice', '{index < of, start <= end <= records, end - start = total} non-negative integers', m.slice);
  }
  if (rows > m.total || (m.complete && rows !== m.total)) throw new InputError(path, undefined, `shards hold ${rows} rows, field "total" says ${m.total}${m.complete ? ' (and the job is marked complete)' : ''}`);
}

export function writeManifest(dir: string, m: EmbeddingManifest): void {
  writeFileAtomicSync(manifestPath(dir), JSON.stringify(m, null, 1) + '\n');
}

export function shardNames(index: number): { vectors: string; ids: string } {
  const stem = `shard-${String(index).padStart(5, '0')}`;
  return { vectors: `${stem}.npy`, ids: `${stem}.ids.txt` };
}

/**
 * Writes one shard's two files atomically (ids first, vectors second; the manifest entry makes it count), and
 * puts their sizes and sha256 in `files` (the manifest's record) when given.
 */
export function writeShard(dir: string, index: number, ids: readonly string[], vectors: Float32Array, dim: number, files?: FileRecords): ShardEntry {
  const names = shardNames(index);
  for (const id of ids) {
    const problem = idProblem(id);
    if (problem !== undefined) throw new InputError(join(dir, names.ids), undefined, `cannot write id ${JSON.stringify(id)}: it ${problem}`);
  }
  const idsRecord = writeFileAtomicSync(join(dir, names.ids), ids.join('\n') + (ids.length ? '\n' : ''));
  const vectorsRecord = writeNpy(join(dir, names.vectors), 'float32', [ids.length, dim], vectors);
  if (files) {
    files[names.ids] = idsRecord;
    files[names.vectors] = vectorsRecord;
  }
  return { ...names, rows: ids.length };
}

/** The cheap check before shards are read: each recorded shard file is there at its recorded size. */
export function checkShardFiles(dir: string, m: EmbeddingManifest, shard: ShardEntry): void {
  checkRecordedSizes(dir, m.files, 'manifest.json', [shard.ids, shard.vectors]);
}

export function readShardIds(dir: string, shard: ShardEntry, m?: EmbeddingManifest): string[] {
  if (m) checkShardFiles(dir, m, shard);
  const path = join(dir, shard.ids);
  const ids = readIdsFile(path);
  if (ids.length !== shard.rows) throw new InputError(path, undefined, `${ids.length} ids but the manifest records ${shard.rows} rows`);
  const empty = ids.indexOf('');
  if (empty >= 0) throw new InputError(path, empty + 1, 'empty document id');
  return ids;
}

/** Checks a shard's .npy header against the manifest without reading its data. */
export function checkShard(dir: string, m: EmbeddingManifest, shard: ShardEntry): void {
  checkShardFiles(dir, m, shard);
  const path = join(dir, shard.vectors);
  const h = readNpyHeader(path);
  if (h.dtype !== 'float32' || h.shape.length !== 2) throw new InputError(path, undefined, `expected a float32 2-D array, found ${h.dtype} [${h.shape}]`);
  if (h.shape[1] !== m.dim) throw new InputError(path, undefined, `vectors have dimension ${h.shape[1]}, the manifest says ${m.dim}`);
  if (h.shape[0] !== shard.rows) throw new InputError(path, undefined, `${h.shape[0]} rows, the manifest says ${shard.rows}`);
}

/** Reads every shard (ids and vectors) in order. For large collections prefer iterating shards. */
export function readEmbeddings(dir: string): { manifest: EmbeddingManifest; ids: string[]; vectors: Float32Array } {
  const manifest = readManifest(dir);
  const rows = manifest.shards.reduce((a, s) => a + s.rows, 0);
  const vectors = new Float32Array(rows * manifest.dim);
  const ids: string[] = [];
  let off = 0;
  for (const shard of manifest.shards) {
    checkShard(dir, manifest, shard);
    ids.push(...readShardIds(dir, shard, manifest));
    const arr = readNpy(join(dir, shard.vectors));
    vectors.set(arr.data as Float32Array, off);
    off += shard.rows * manifest.dim;
  }
  return { manifest, ids, vectors };
}
