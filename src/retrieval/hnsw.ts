/**
 * Approximate (HNSW) index through usearch. The folder is a flat index (vectors.f32, ids.txt, used for
 * exact rescoring, incremental rebuilds and recall checks) plus graph.usearch; usearch keys are row numbers.
 * Returned scores are the exact float32 inner products of the hits, ordered score desc then id desc, so a
 * hit's score is identical whichever index found it; only the candidate set is approximate.
 */
import { join } from 'node:path';
import usearch, { type Index as UsearchIndex } from 'usearch';
import { InputError, positiveInteger, UsageError } from '../errors.js';
import { AtomicWriter, replaceFileSync, writeFileAtomicSync } from '../util/fs.js';
import { openFileBytes } from './mapped-file.js';
import { VECTORS_F32, writeVectorFiles } from './build-vectors.js';
import { FlatIndex, type FlatMeta } from './flat.js';
import { compareHits } from './hits.js';
import { checkGraphFile } from './hnsw-file.js';
import { LocalVectorIndex } from './local-index.js';
import type { Hit } from './types.js';
import { INDEX_FORMAT, readIndexMeta, writeIndexMeta } from './meta.js';
import { hashFileSync, type FileRecord } from '../util/checksums.js';

export interface HnswParams {
  /** Graph degree (usearch "connectivity"). */
  M: number;
  efConstruction: number;
  efSearch: number;
}

export interface HnswMeta extends FlatMeta {
  type: 'hnsw';
  hnsw: HnswParams;
}

export const DEFAULT_HNSW: HnswParams = { M: 16, efConstruction: 128, efSearch: 128 };
const GRAPH = 'graph.usearch';

function newGraph(dim: number, p: HnswParams): UsearchIndex {
  return new usearch.Index({
    dimensions: dim, metric: usearch.MetricKind.IP, quantization: usearch.ScalarKind.F32,
    connectivity: p.M, expansion_add: p.efConstruction, expansion_search: p.efSearch, multi: false,
  });
}

function checkParams(p: HnswParams): void {
  for (const [name, v] of Object.entries(p)) positiveInteger(name, v);
}

function addRows(graph: UsearchIndex, vectors: Float32Array, dim: number, firstRow: number, threads: number): void {
  const rows = vectors.length / dim;
  const batch = 65536;
  for (let start = 0; start < rows; start += batch) {
    const end = Math.min(rows, start + batch);
    const keys = new BigUint64Array(end - start);
    for (let i = 0; i < keys.length; i++) keys[i] = BigInt(firstRow + start + i);
    graph.add(keys, vectors.subarray(start * dim, end * dim), threads);
  }
}

/** usearch writes the file itself, so its record is taken from the finished temp file before the rename. */
function saveGraph(graph: UsearchIndex, dir: string): FileRecord {
  let record: FileRecord | undefined;
  replaceFileSync(join(dir, GRAPH), (tmp) => {
    graph.save(tmp);
    record = hashFileSync(tmp);
  });
  return record!;
}

export async function buildHnswIndex(embeddingsDir: string | readonly string[], outDir: string, params: Partial<HnswParams> = {}, threads = 0): Promise<HnswMeta> {
  const p = { ...DEFAULT_HNSW, ...params };
  checkParams(p);
  const info = writeVectorFiles(embeddingsDir, outDir);
  const meta: HnswMeta = {
    format: INDEX_FORMAT, version: 1, type: 'hnsw', count: info.count, dim: info.dim, similarity: info.similarity,
    storage: 'float32', maxNorm: info.maxNorm, model: info.model, hnsw: p, files: info.files,
  };
  // Built from exactly the stored (possibly normalized) rows. No index.json exists until the graph is saved:
  // a build killed before that leaves a folder nothing opens, never one that reads as a flat index.
  const { buffer } = await openFileBytes(join(outDir, VECTORS_F32));
  const graph = newGraph(meta.dim, p);
  addRows(graph, new Float32Array(buffer, 0, meta.count * meta.dim), meta.dim, 0, threads);
  meta.files![GRAPH] = saveGraph(graph, outDir);
  writeIndexMeta(outDir, meta);
  return meta;
}

export interface HnswOpenOptions {
  efSearch?: number;
  threads?: number;
  /** Load the graph into memory (needed for `add`); otherwise it is viewed from disk. */
  writable?: boolean;
}

export class HnswIndex extends LocalVectorIndex<HnswMeta> {
  readonly type: string = 'hnsw';
  private constructor(
    readonly dir: string,
    meta: HnswMeta,
    private flat: FlatIndex,
    private readonly graph: UsearchIndex,
    private readonly threads: number,
    private readonly writable: boolean,
  ) {
    super(meta);
  }

  static async open(dir: string, opts: HnswOpenOptions = {}): Promise<HnswIndex> {
    const meta = readIndexMeta(dir) as HnswMeta;
    if (meta.type !== 'hnsw') throw new InputError(join(dir, 'index.json'), undefined, `type is "${meta.type}", expected "hnsw"`);
    const flat = await FlatIndex.open(dir);
    const p = { ...meta.hnsw, efSearch: opts.efSearch ?? meta.hnsw.efSearch };
    checkParams(p);
    const path = join(dir, GRAPH);
    checkGraphFile(path, { count: meta.count, dim: meta.dim, M: p.M });
    const graph = newGraph(meta.dim, p);
    try {
      if (opts.writable) graph.load(path);
      else graph.view(path);
    } catch (e) {
      throw new InputError(path, undefined, `cannot open the HNSW graph (${(e as Error).message}); truncated or corrupt`);
    }
    if (graph.size() !== meta.count || graph.dimensions() !== meta.dim)
      throw new InputError(path, undefined, `graph holds ${graph.size()} vectors of dimension ${graph.dimensions()}, index.json says ${meta.count} of ${meta.dim}`);
    return new HnswIndex(dir, meta, flat, graph, opts.threads ?? 0, opts.writable ?? false);
  }

  /** efSearch is fixed when the graph is opened (usearch sets it per index, not per call). */
  search(queries: Float32Array, k: number): Hit[][] {
    positiveInteger('k', k);
    const q = this.flat.prepareQueries(queries);
    const nq = q.length / this.dim;
    const want = Math.min(k, this.size);
    if (nq === 0 || want === 0) return Array.from({ length: nq }, () => []);
    const m = this.graph.search(q, want, this.threads);
    const keys = m.keys;
    const counts: BigUint64Array = m instanceof usearch.BatchMatches ? m.counts : BigUint64Array.of(BigInt(keys.length));
    const out: Hit[][] = [];
    for (let i = 0; i < nq; i++) {
      const qv = q.subarray(i * this.dim, (i + 1) * this.dim);
      const hits: Hit[] = [];
      for (let c = 0; c < Number(counts[i]); c++) {
        const row = Number(keys[i * want + c]);
        hits.push({ id: this.flat.ids[row]!, score: this.flat.score(qv, row) });
      }
      out.push(hits.sort(compareHits));
    }
    return out;
  }

  /** Adds documents (ids must be new) and persists vectors, ids, graph and index.json. */
  async add(ids: readonly string[], vectors: Float32Array): Promise<void> {
    if (!this.writable) throw new UsageError('open the HNSW index with { writable: true } to add vectors');
    const dim = this.dim;
    if (vectors.length !== ids.length * dim) throw new UsageError(`add: ${vectors.length} values for ${ids.length} ids of dimension ${dim}`);
    const known = new Set(this.flat.ids);
    for (const id of ids) {
      if (known.has(id)) throw new UsageError(`add: duplicate document id ${JSON.stringify(id)}`);
      known.add(id);
    }
    let rows = vectors;
    if (this.similarity === 'cosine') rows = this.flat.prepareQueries(vectors);
    const count = this.size + ids.length;
    // vectors.f32: old rows + new rows, into a temp file renamed into place.
    const vectorsOut = new AtomicWriter(join(this.dir, VECTORS_F32));
    try {
      vectorsOut.write([this.flat.vectors, rows].map((part) => new Uint8Array(part.buffer, part.byteOffset, part.byteLength)));
      addRows(this.graph, rows, dim, this.size, this.threads);
    } catch (e) {
      vectorsOut.abort();
      throw e;
    }
    let maxNorm = this.meta.maxNorm;
    for (let r = 0; r < ids.length; r++) {
      let n2 = 0;
      for (let j = 0; j < dim; j++) n2 += rows[r * dim + j]! ** 2;
      maxNorm = Math.max(maxNorm, Math.sqrt(n2));
    }
    // Commit order: graph and ids/vectors first, index.json (the count readers check against) last.
    const graphRecord = saveGraph(this.graph, this.dir);
    const vectorsRecord = vectorsOut.commit();
    const idsRecord = writeFileAtomicSync(join(this.dir, 'ids.txt'), [...this.flat.ids, ...ids].join('\n') + '\n');
    // Records of a folder built before checksums stay absent: verify would otherwise vouch for old files never hashed.
    if (this.meta.files) this.meta.files = { ...this.meta.files, [GRAPH]: graphRecord, [VECTORS_F32]: vectorsRecord, 'ids.txt': idsRecord };
    this.meta.count = count;
    this.meta.maxNorm = maxNorm;
    writeIndexMeta(this.dir, this.meta);
    this.flat = await FlatIndex.open(this.dir);
  }
}

