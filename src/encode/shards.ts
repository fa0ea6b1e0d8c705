/**
 * The on-disk layout `densekit encode` writes and the indexers read:
 *
 *   DIR/manifest.json            what was encoded, how, and the list of finished shards
 *   DIR/shard-00000.npy          float32 [rows, dim], rows in input order
 *   DIR/shard-00000.ids.txt      one id per line, same order
 *
 * Each shard (both files) is written atomically and then recorded in the manifest (also atomic), so a
 * killed job leaves only complete shards behind and resumes after the last one recorded.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { writeFileAtomicSync } from '../util/fs.js';
import { readNpy, readNpyHeader, writeNpy } from '../io/npy.js';

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
  /** Input file and number of records in it (known once counted). */
  input: string;
  total: number;
  shardSize: number;
  shards: ShardEntry[];
  /** Texts longer than maxLength tokens, cut to it. */
  truncated: { count: number; maxLength: number };
  complete: boolean;
  /** `densekit encode --shard I/N`: this folder holds input records [start, end) of `records` (absent: all of them). */
  slice?: EncodeSlice;
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
  if (!existsSync(path)) throw new InputError(path, undefined, 'missing: not a densekit embeddings folder (run `densekit encode` first)');
  let m: EmbeddingManifest;
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as EmbeddingManifest;
  } catch (e) {
    throw new InputError(path, undefined, `malformed JSON (${(e as Error).message})`);
  }
  if (m.format !== EMBEDDINGS_FORMAT) throw new InputError(path, undefined, `format is ${JSON.stringify(m.format)}, expected "${EMBEDDINGS_FORMAT}"`);
  return m;
}

export function writeManifest(dir: string, m: EmbeddingManifest): void {
  writeFileAtomicSync(manifestPath(dir), JSON.stringify(m, null, 1) + '\n');
}

export function shardNames(index: number): { vectors: string; ids: string } {
  const stem = `shard-${String(index).padStart(5, '0')}`;
  return { vectors: `${stem}.npy`, ids: `${stem}.ids.txt` };
}

/** Writes one shard's two files atomically (ids first, vectors second; the manifest entry makes it count). */
export function writeShard(dir: string, index: number, ids: readonly string[], vectors: Float32Array, dim: number): ShardEntry {
  const names = shardNames(index);
  for (const id of ids) if (/[\n\r]/.test(id)) throw new InputError(id, undefined, 'document id contains a line break');
  writeFileAtomicSync(join(dir, names.ids), ids.join('\n') + (ids.length ? '\n' : ''));
  writeNpy(join(dir, names.vectors), 'float32', [ids.length, dim], vectors);
  return { ...names, rows: ids.length };
}

export function readShardIds(dir: string, shard: ShardEntry): string[] {
  const path = join(dir, shard.ids);
  const text = readFileSync(path, 'utf8');
  const ids = text.length ? text.replace(/\n$/, '').split('\n') : [];
  if (ids.length !== shard.rows) throw new InputError(path, undefined, `${ids.length} ids but the manifest records ${shard.rows} rows`);
  return ids;
}

/** Checks a shard's .npy header against the manifest without reading its data. */
export function checkShard(dir: string, m: EmbeddingManifest, shard: ShardEntry): void {
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
    ids.push(...readShardIds(dir, shard));
    const arr = readNpy(join(dir, shard.vectors));
    vectors.set(arr.data as Float32Array, off);
    off += shard.rows * manifest.dim;
  }
  return { manifest, ids, vectors };
}
