/**
 * The benches' synthetic collection: clustered unit vectors (1,000 Gaussian centroids + noise, fixed seeds,
 * dim 768), and a `densekit encode` folder holding them, so every bench indexes exactly what the indexers read.
 */
import { mkdirSync } from 'node:fs';
import { writeManifest, writeShard, type ShardEntry } from '../src/formats/index.js';
import { seededRandom } from '../src/util/random.js';

export const DIM = 768;
const CENTROIDS = 1000;

/** Unit vectors around CENTROIDS fixed centroids (seed 1234); `seed` picks which points. */
export function clustered(n: number, seed: number): Float32Array {
  const cr = seededRandom(1234);
  const gaussFrom = (r: () => number) => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const centroids = new Float32Array(CENTROIDS * DIM);
  for (let i = 0; i < centroids.length; i++) centroids[i] = gaussFrom(cr);
  const r = seededRandom(seed);
  const out = new Float32Array(n * DIM);
  const noise = 0.75;
  for (let i = 0; i < n; i++) {
    const c = Math.floor(r() * CENTROIDS) * DIM;
    let n2 = 0;
    for (let j = 0; j < DIM; j++) {
      const x = centroids[c + j]! + noise * gaussFrom(r);
      out[i * DIM + j] = x;
      n2 += x * x;
    }
    const inv = 1 / Math.sqrt(n2);
    for (let j = 0; j < DIM; j++) out[i * DIM + j] = out[i * DIM + j]! * inv;
  }
  return out;
}

/** Ids d0, d1, ...; 'cosine' (the rows are unit vectors), 100,000 rows per shard. */
export function writeEncodeDir(dir: string, vectors: Float32Array, n: number): void {
  mkdirSync(dir, { recursive: true });
  const shardSize = 100_000;
  const shards: ShardEntry[] = [];
  for (let s = 0; s * shardSize < n; s++) {
    const a = s * shardSize, b = Math.min(n, a + shardSize);
    const ids = Array.from({ length: b - a }, (_, i) => `d${a + i}`);
    shards.push(writeShard(dir, s, ids, vectors.subarray(a * DIM, b * DIM), DIM));
  }
  writeManifest(dir, {
    format: 'densekit-embeddings', version: 1, model: 'synthetic', kind: 'passage', dim: DIM, dtype: 'float32', similarity: 'cosine',
    input: 'synthetic', total: n, shardSize, shards, truncated: { count: 0, maxLength: 0 }, complete: true,
  });
}
