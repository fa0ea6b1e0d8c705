/**
 * Searching a densekit table in PostgreSQL + pgvector: a VectorIndex over a pg.Pool.
 *
 * Each query vector is one statement, `ORDER BY embedding <op> $1 LIMIT k`, which Citus pushes down to every
 * shard of a table distributed by id and merges; the queries of a batch run concurrently over the pool's
 * connections. Per-query knobs are `SET LOCAL` inside the query's own transaction (hnsw.ef_search,
 * ivfflat.probes, and pgvector 0.8's iterative scans when a filter could starve the index scan), so they never
 * leak into another caller's use of the connection. Without an ANN index the planner scans the table and the
 * search is exact; it then also breaks score ties in SQL exactly as compareHits does (id descending by bytes,
 * COLLATE "C"), so the k-th place is the one flat search would pick.
 *
 * Scores follow flat search's definitions: the inner product for 'dot' tables, the cosine for 'cosine' ones.
 */
import type pg from 'pg';
import { UsageError } from '../../errors.js';
import { compareHits } from '../hits.js';
import type { Hit } from '../types.js';
import type { SearchOptions, Similarity, VectorIndex } from '../types.js';
import { describePgError, newPool, redactUrl, type PoolOptions } from './connection.js';
import { ensureVectorExtension, findAnnIndexes, readTableRecord, type AnnIndexInfo, type TableRecord } from './schema.js';
import { boundedInt, compileFilter, distanceOf, parseTableName, vectorLiteral, type TableName } from './sql.js';

export interface PgvectorOpenOptions extends PoolOptions {
  /** Default hnsw.ef_search for queries that do not pass one (default: the server's, pgvector's 40). */
  efSearch?: number;
  /** Default ivfflat.probes (default: the server's, pgvector's 1). */
  probes?: number;
}

/** pgvector's bounds for the settings (hnsw.ef_search 1..1000, ivfflat.probes 1..32768). */
const MAX_EF_SEARCH = 1000;
const MAX_PROBES = 32768;
const MAX_K = 100_000;

export class PgvectorIndex implements VectorIndex {
  readonly type = 'pgvector';

  private constructor(
    private readonly pool: pg.Pool,
    readonly server: string,
    readonly table: TableName,
    readonly record: TableRecord,
    /** The ANN index the planner can use for this table's similarity, if any. */
    readonly ann: AnnIndexInfo | undefined,
    readonly size: number,
    private readonly defaults: PgvectorOpenOptions,
  ) {}

  static async open(url: string, table: string, opts: PgvectorOpenOptions = {}): Promise<PgvectorIndex> {
    const server = redactUrl(url);
    const name = parseTableName(table);
    if (opts.efSearch !== undefined) boundedInt('--ef-search', opts.efSearch, 1, MAX_EF_SEARCH);
    if (opts.probes !== undefined) boundedInt('--probes', opts.probes, 1, MAX_PROBES);
    const pool = newPool(url, opts);
    try {
      await ensureVectorExtension(pool, server, false);
      const record = await readTableRecord(pool, server, name);
      if (!record) throw new UsageError(`${server}: no table ${name.text} (build it with densekit index --type pgvector --table ${name.text})`);
      if (!record.complete) throw new UsageError(`${server}: table ${name.text} is half-loaded (an ingest did not finish); rerun densekit index --type pgvector to complete it`);
      const ann = (await findAnnIndexes(pool, name, record.similarity)).find((a) => a.matches);
      return new PgvectorIndex(pool, server, name, record, ann, record.rows ?? 0, opts);
    } catch (e) {
      await pool.end().catch(() => {});
      throw describePgError(server, e);
    }
  }

  get dim(): number {
    return this.record.dim;
  }
  get similarity(): Similarity {
    return this.record.similarity;
  }
  get model(): string {
    return this.record.model;
  }
  /** 'hnsw', 'ivfflat', or 'exact' (no usable ANN index). */
  get method(): 'hnsw' | 'ivfflat' | 'exact' {
    return this.ann?.method ?? 'exact';
  }

  async searchVectors(vectors: Float32Array, k: number, opts: SearchOptions = {}): Promise<Hit[][]> {
    boundedInt('k', k, 1, MAX_K);
    if (vectors.length % this.dim !== 0) throw new UsageError(`query vectors have ${vectors.length} values, not a multiple of the table's dimension ${this.dim}`);
    const n = vectors.length / this.dim;
    const settings = this.settingsFor(k, opts);
    const filter = compileFilter(opts.filter, 3);
    const { operator, score } = distanceOf(this.similarity);
    const exact = this.method === 'exact';
    const sql =
      `SELECT id, embedding ${operator} $1::vector AS distance FROM ${this.table.sql}` +
      (filter.sql ? ` WHERE ${filter.sql}` : '') +
      ` ORDER BY embedding ${operator} $1::vector${exact ? ', id COLLATE "C" DESC' : ''} LIMIT $2`;
    const one = async (row: number): Promise<Hit[]> => {
      const params = [vectorLiteral(vectors.subarray(row * this.dim, (row + 1) * this.dim)), k, ...filter.params];
      const client = await this.pool.connect();
      let broken: Error | undefined;
      try {
        if (settings.length === 0) return toHits((await client.query<{ id: string; distance: number }>(sql, params)).rows);
        await client.query('BEGIN');
        try {
          for (const s of settings) await client.query(s);
          const r = await client.query<{ id: string; distance: number }>(sql, params);
          await client.query('COMMIT');
          return toHits(r.rows);
        } catch (e) {
          await client.query('ROLLBACK').catch(() => {});
          throw e;
        }
      } catch (e) {
        broken = e as Error;
        throw e;
      } finally {
        // A client whose query failed may be mid-protocol or disconnected: drop it rather than reuse it.
        client.release(broken);
      }
    };
    const toHits = (rows: { id: string; distance: number }[]): Hit[] =>
      rows.map((r) => ({ id: r.id, score: score(Number(r.distance)) })).sort(compareHits);
    try {
      return await Promise.all(Array.from({ length: n }, (_, i) => one(i)));
    } catch (e) {
      throw describePgError(this.server, e);
    }
  }

  /** SET LOCAL statements for one query; the values are checked integers or fixed words, never user text. */
  private settingsFor(k: number, opts: SearchOptions): string[] {
    const out: string[] = [];
    if (this.method === 'hnsw') {
      const ef = opts.efSearch ?? this.defaults.efSearch;
      // An HNSW scan yields at most ef_search rows, so ef below k would silently return fewer than k hits.
      if (ef !== undefined || k > 40) out.push(`SET LOCAL hnsw.ef_search = ${Math.min(MAX_EF_SEARCH, Math.max(boundedInt('efSearch', ef ?? 40, 1, MAX_EF_SEARCH), k))}`);
      if (opts.filter) out.push('SET LOCAL hnsw.iterative_scan = strict_order');
    } else if (this.method === 'ivfflat') {
      const probes = opts.probes ?? this.defaults.probes;
      if (probes !== undefined) out.push(`SET LOCAL ivfflat.probes = ${boundedInt('probes', probes, 1, MAX_PROBES)}`);
      // ivfflat's iterative scan exists only in relaxed order; the hits are re-sorted by compareHits anyway.
      if (opts.filter) out.push('SET LOCAL ivfflat.iterative_scan = relaxed_order');
    }
    return out;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
