/**
 * Copies `densekit encode` shards into one contiguous headerless float32 matrix (vectors.f32, little-endian,
 * row-major; numpy: np.fromfile(path, '<f4').reshape(-1, dim)) plus ids.txt, checking every shard against the manifest, ids for duplicates, and optionally normalizing
 * rows (cosine over a 'dot' model) and writing an int8 or bfloat16 copy for compressed scans. Streams shard by shard;
 * every file goes to a temp name and is renamed only when complete.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { openEmbeddingSet, readSetShardIds, readSetShardVectors, setShards } from '../encode/slices.js';
import { AtomicWriter, removeStaleTemps, writeFileAtomicSync } from '../util/fs.js';
import type { FileRecords } from '../util/checksums.js';
import { metaPath, type Similarity } from './meta.js';
import { int8Scales, quantizeRows, toBfloat16 } from './quantize.js';

/**
 * Headerless on purpose: usearch's exactSearch reads from the start of a typed array's ArrayBuffer (it
 * ignores byteOffset), so a memory-mapped file must begin with row 0.
 */
export const VECTORS_F32 = 'vectors.f32';
export const VECTORS_I8 = 'vectors.i8';
export const VECTORS_BF16 = 'vectors.bf16';

export type VectorStorage = 'float32' | 'int8' | 'bf16';

export interface VectorFilesOptions {
  similarity?: Similarity;
  storage?: VectorStorage;
}

export interface VectorFilesInfo {
  dim: number;
  count: number;
  similarity: Similarity;
  storage: VectorStorage;
  /** Largest row norm: bounds the rounding error of any scan (see flat.ts). */
  maxNorm: number;
  model: string;
  ids: string[];
  /** What was written, for index.json's "files". */
  files: FileRecords;
}

/** Float32 inner products of two rows this long stay finite (FLT_MAX ~ 3.4e38). */
const MAX_ROW_NORM = 1e18;

/** inputDirs: one `densekit encode` folder, or the N `--shard I/N` folders of one encoding (any order). */
export function writeVectorFiles(inputDirs: string | readonly string[], outDir: string, opts: VectorFilesOptions = {}): VectorFilesInfo {
  const set = openEmbeddingSet(typeof inputDirs === 'string' ? [inputDirs] : inputDirs);
  const shards = setShards(set);
  const dim = set.dim;
  const similarity = opts.similarity ?? set.similarity;
  const storage = opts.storage ?? 'float32';
  const normalize = similarity === 'cosine' && set.similarity !== 'cosine';
  const count = set.count;

  mkdirSync(outDir, { recursive: true });
  // An interrupted rebuild must not leave an old index.json describing new files.
  rmSync(metaPath(outDir), { force: true });
  removeStaleTemps(outDir);
  // Ids first: cheap, and a duplicate should fail before gigabytes are copied.
  const ids: string[] = [];
  const firstSeen = new Map<string, string>();
  for (const shard of shards) {
    const file = join(shard.dir, shard.entry.ids);
    const shardIds = readSetShardIds(shard);
    for (let i = 0; i < shardIds.length; i++) {
      const id = shardIds[i]!;
      const first = firstSeen.get(id);
      if (first !== undefined) throw new InputError(file, i + 1, `duplicate document id ${JSON.stringify(id)} (first at ${first})`);
      firstSeen.set(id, `${file}:${i + 1}`);
      ids.push(id);
    }
  }
  firstSeen.clear();

  const maxAbs = new Float32Array(dim);
  let maxNorm = 0;
  const out = new AtomicWriter(join(outDir, VECTORS_F32));
  // bf16 needs no collection statistics, so it is written in the same pass as the float32 rows.
  const bf16 = storage === 'bf16' ? new AtomicWriter(join(outDir, VECTORS_BF16)) : null;
  try {
    for (const shard of shards) {
      const v = readSetShardVectors(shard);
      for (let r = 0; r < v.length / dim; r++) {
        let n2 = 0;
        for (let j = 0; j < dim; j++) n2 += v[r * dim + j]! * v[r * dim + j]!;
        let norm = Math.sqrt(n2);
        // NaN never ranks (every comparison with it is false) and Inf or huge rows overflow float32 scores:
        // such a row would be silently missing or on top of every query, so the index refuses it.
        if (!(norm <= MAX_ROW_NORM))
          throw new InputError(join(shard.dir, shard.entry.vectors), undefined, `row ${r} has ${Number.isNaN(norm) ? 'a NaN value' : norm === Infinity ? 'an infinite value' : `norm ${norm}`} (finite vectors of norm <= ${MAX_ROW_NORM.toExponential()} expected)`);
        if (normalize && norm > 0) {
          for (let j = 0; j < dim; j++) v[r * dim + j] = v[r * dim + j]! / norm;
          norm = 1;
        }
        if (norm > maxNorm) maxNorm = norm;
        for (let j = 0; j < dim; j++) {
          const a = Math.abs(v[r * dim + j]!);
          if (a > maxAbs[j]!) maxAbs[j] = a;
        }
      }
      out.write(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
      if (bf16) {
        const codes = new Uint16Array(v.length);
        toBfloat16(v, codes);
        bf16.write(new Uint8Array(codes.buffer));
      }
    }
  } catch (e) {
    out.abort();
    bf16?.abort();
    throw e;
  }
  const files: FileRecords = {};
  files[VECTORS_F32] = out.commit();
  if (bf16) files[VECTORS_BF16] = bf16.commit();

  if (storage === 'int8') {
    const scales = int8Scales(maxAbs);
    const q = new AtomicWriter(join(outDir, VECTORS_I8));
    try {
      for (const shard of shards) {
        const v = readSetShardVectors(shard);
        if (normalize) {
          for (let r = 0; r < v.length / dim; r++) {
            let n2 = 0;
            for (let j = 0; j < dim; j++) n2 += v[r * dim + j]! * v[r * dim + j]!;
            const norm = Math.sqrt(n2);
            if (norm > 0) for (let j = 0; j < dim; j++) v[r * dim + j] = v[r * dim + j]! / norm;
          }
        }
        const codes = new Int8Array(v.length);
        quantizeRows(v, scales, codes);
        q.write(new Uint8Array(codes.buffer));
      }
    } catch (e) {
      q.abort();
      throw e;
    }
    files[VECTORS_I8] = q.commit();
    files['int8-scales.f32'] = writeFileAtomicSync(join(outDir, 'int8-scales.f32'), new Uint8Array(scales.buffer));
  }
  files['ids.txt'] = writeFileAtomicSync(join(outDir, 'ids.txt'), ids.join('\n') + (ids.length ? '\n' : ''));
  return { dim, count, similarity, storage, maxNorm, model: set.model, ids, files };
}
