/**
 * `densekit index --type pgvector`: loads `densekit encode` output into a PostgreSQL table and builds its ANN
 * index.
 *
 * Rows go in batches (one encode shard, or less). A batch whose ids are all present already is skipped with one
 * indexed lookup; otherwise, in one transaction, it is COPYed (CSV, streamed through pg-copy-streams) into a
 * temporary staging table dropped at commit and moved with INSERT ... ON CONFLICT (id) DO NOTHING. So a rerun
 * after a kill, a lost connection or a server restart loads exactly the rows still missing, and never
 * duplicates one; memory stays at one batch. COPY cannot skip conflicting rows itself, hence the staging table.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { InputError, UsageError } from '../../errors.js';
import { openEmbeddingSet, readSetShardIds, readSetShardVectors, setShards, type EmbeddingSet } from '../../encode/slices.js';
import { isJsonl, readBeirCorpus, readTextRecords, recordText } from '../../formats/index.js';
import { Progress } from '../../util/progress.js';
import { connectClient, describePgError, redactUrl } from './connection.js';
import {
  checkCompatible, columnDim, createAnnIndex, createTable, describeAnn, ensureVectorExtension, findAnnIndexes, readTableRecord,
  sameAnn, writeTableRecord, type AnnSpec, type TableRecord,
} from './schema.js';
import { boundedInt, parseTableName, vectorLiteral } from './sql.js';

export interface PgvectorBuildOptions {
  url: string;
  table: string;
  /** `densekit encode` folders: one, or the N `--shard I/N` slices of one encoding. */
  inputs: readonly string[];
  /** The corpus that was encoded (BEIR corpus.jsonl or id<TAB>text tsv): fills `text` and `metadata`. */
  corpus?: string;
  /** Default HNSW m 16, ef_construction 64 (pgvector's defaults); ivfflat without lists takes defaultLists(rows). */
  ann?: AnnRequest;
  /** Rows per COPY transaction (default 10,000). */
  batchRows?: number;
  log?: (line: string) => void;
}

export interface PgvectorBuildSummary {
  table: string;
  rows: number;
  /** Rows this run inserted (0 when everything was there already). */
  inserted: number;
  /** Rows found present and not loaded again. */
  skipped: number;
  loadSeconds: number;
  rowsPerSecond: number;
  ann: AnnSpec;
  annSeconds: number;
  record: TableRecord;
}

export const DEFAULT_PG_HNSW = { m: 16, efConstruction: 64 } as const;

/** pgvector's guidance: lists = rows / 1000 up to 1M rows, sqrt(rows) beyond. */
export function defaultLists(rows: number): number {
  return Math.max(1, rows <= 1_000_000 ? Math.floor(rows / 1000) : Math.floor(Math.sqrt(rows)));
}

export type AnnRequest = AnnSpec | { method: 'ivfflat'; lists?: number };

export function resolveAnn(req: AnnRequest, rows: number): AnnSpec {
  const ann: AnnSpec = req.method === 'ivfflat' ? { method: 'ivfflat', lists: req.lists ?? defaultLists(rows) } : req;
  if (ann.method === 'hnsw') {
    boundedInt('--m', ann.m, 2, 100);
    boundedInt('--ef-construction', ann.efConstruction, 4, 1000);
    if (ann.efConstruction < 2 * ann.m) throw new UsageError(`--ef-construction (${ann.efConstruction}) must be at least 2 * --m (${2 * ann.m}) for pgvector`);
  } else if (ann.method === 'ivfflat') boundedInt('--lists', ann.lists, 1, 32768);
  return ann;
}

/** CSV field: always quoted, quotes doubled (COPY ... WITH (FORMAT csv)); null becomes an unquoted empty field (NULL). */
function csvField(s: string | null): string {
  if (s === null) return '';
  if (s.includes('\0')) throw new UsageError(`a value contains a NUL character, which PostgreSQL text cannot hold: ${JSON.stringify(s.slice(0, 40))}`);
  return '"' + s.replace(/"/g, '""') + '"';
}

interface CorpusRow {
  id: string;
  text: string;
  metadata: Record<string, unknown> | undefined;
  line: string;
}

async function* corpusRows(path: string): AsyncGenerator<CorpusRow> {
  // The text the encoder saw (title + text), and BEIR's metadata with any other fields of the line.
  if (isJsonl(path)) {
    for await (const d of readBeirCorpus(path))
      yield { id: d.id, text: recordText(d), metadata: Object.keys(d.metadata).length ? d.metadata : undefined, line: `${path}:${d.line}` };
  } else {
    for await (const r of readTextRecords(path)) yield { id: r.id, text: recordText(r), metadata: undefined, line: `${path}:${r.line}` };
  }
}

export async function buildPgvectorIndex(o: PgvectorBuildOptions): Promise<PgvectorBuildSummary> {
  const server = redactUrl(o.url);
  const table = parseTableName(o.table);
  const batchRows = boundedInt('--batch-rows', o.batchRows ?? 10_000, 1, 1_000_000);
  const set = openEmbeddingSet(o.inputs);
  const ann = resolveAnn(o.ann ?? { method: 'hnsw', ...DEFAULT_PG_HNSW }, set.count);
  const client = await connectClient(o.url);
  try {
    return await ingest(client, server, table, set, ann, batchRows, o);
  } catch (e) {
    throw describePgError(server, e);
  } finally {
    await client.end().catch(() => {});
  }
}

async function ingest(
  client: pg.Client, server: string, table: ReturnType<typeof parseTableName>, set: EmbeddingSet, ann: AnnSpec, batchRows: number, o: PgvectorBuildOptions,
): Promise<PgvectorBuildSummary> {
  await ensureVectorExtension(client, server, true);
  const wanted = { model: set.model, dim: set.dim, similarity: set.similarity };
  let record = await readTableRecord(client, server, table);
  if (record) {
    checkCompatible(server, table, record, wanted);
    const declared = await columnDim(client, table);
    if (declared !== set.dim) throw new UsageError(`${server}: table ${table.text} declares vector(${declared}), the embeddings have dimension ${set.dim}`);
    if (!sameAnn(record.ann, ann) && (await findAnnIndexes(client, table, record.similarity)).length > 0)
      throw new UsageError(`${server}: table ${table.text} has an ANN index ${describeAnn(record.ann)}, not ${describeAnn(ann)}; drop it first or use another --table`);
    if (record.complete) o.log?.(`table ${table.text} exists (${record.rows} rows): loading only missing rows`);
    else o.log?.(`table ${table.text} exists from an unfinished load: resuming`);
  } else {
    record = { format: 'densekit-pgvector', version: 1, ...wanted, ann, complete: false };
    await createTable(client, table, record);
  }
  // Marked incomplete while loading, so an open of a half-loaded table says so.
  record = { ...record, ann, complete: false };
  delete record.rows;
  await writeTableRecord(client, table, record);

  const corpus = o.corpus ? corpusRows(o.corpus)[Symbol.asyncIterator]() : undefined;
  const progress = new Progress({ label: `pgvector load ${table.text}`, total: set.count, unit: 'rows' });
  const loadStart = performance.now();
  let inserted = 0;
  let skipped = 0;
  let row = 0;
  for (const shard of setShards(set)) {
    const ids = readSetShardIds(shard);
    const vectors = readSetShardVectors(shard);
    for (let a = 0; a < ids.length; a += batchRows) {
      const b = Math.min(ids.length, a + batchRows);
      const batchIds = ids.slice(a, b);
      const texts: (CorpusRow | undefined)[] = [];
      for (const id of batchIds) {
        let c: CorpusRow | undefined;
        if (corpus) {
          const next = await corpus.next();
          if (next.done) throw new InputError(o.corpus!, undefined, `ends before embedding row ${row + texts.length + 1} (id ${JSON.stringify(id)}); is it the corpus that was encoded?`);
          c = next.value;
          if (c.id !== id) throw new InputError(c.line, undefined, `id ${JSON.stringify(c.id)}, but embedding row ${row + texts.length + 1} is ${JSON.stringify(id)}; is it the corpus that was encoded?`);
        }
        texts.push(c);
      }
      const present = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table.sql} WHERE id = ANY($1::text[])`, [batchIds]);
      if (Number(present.rows[0]!.n) === batchIds.length) {
        skipped += batchIds.length;
      } else {
        const lines = function* () {
          for (let i = 0; i < batchIds.length; i++) {
            const c = texts[i];
            const v = vectors.subarray((a + i) * set.dim, (a + i + 1) * set.dim);
            yield `${csvField(batchIds[i]!)},${csvField(vectorLiteral(v))},${csvField(c ? c.text : null)},${csvField(c?.metadata ? JSON.stringify(c.metadata) : null)}\n`;
          }
        };
        await client.query('BEGIN');
        try {
          // Lives for this transaction only: nothing outlives a batch, and it also works behind a transaction pooler.
          // TEMP keeps it a coordinator-local table on Citus (INSERT ... SELECT from it into a distributed table is supported).
          await client.query(`CREATE TEMP TABLE densekit_stage (id text, embedding vector(${set.dim}), text text, metadata jsonb) ON COMMIT DROP`);
          await pipeline(Readable.from(lines()), client.query(copyFrom('COPY densekit_stage (id, embedding, text, metadata) FROM STDIN WITH (FORMAT csv)')));
          const r = await client.query(`INSERT INTO ${table.sql} (id, embedding, text, metadata) SELECT id, embedding, text, metadata FROM densekit_stage ON CONFLICT (id) DO NOTHING`);
          await client.query('COMMIT');
          inserted += r.rowCount ?? 0;
          skipped += batchIds.length - (r.rowCount ?? 0);
        } catch (e) {
          await client.query('ROLLBACK').catch(() => {});
          throw e;
        }
      }
      row += batchIds.length;
      progress.tick(batchIds.length);
    }
  }
  if (corpus && !(await corpus.next()).done) throw new InputError(o.corpus!, undefined, `has more records than the ${set.count} embeddings; is it the corpus that was encoded?`);
  progress.finish();
  const loadSeconds = (performance.now() - loadStart) / 1000;

  const annStart = performance.now();
  const rows = Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table.sql}`)).rows[0]!.n);
  const builtAnn = ann;
  if (builtAnn.method !== 'none') o.log?.(`building ${describeAnn(builtAnn)} over ${rows} rows...`);
  await createAnnIndex(client, table, set.similarity, builtAnn);
  const annSeconds = (performance.now() - annStart) / 1000;
  record = { ...record, ann: builtAnn, rows, complete: true };
  await writeTableRecord(client, table, record);
  return {
    table: table.text, rows, inserted, skipped, loadSeconds, rowsPerSecond: inserted / Math.max(loadSeconds, 1e-9), ann: builtAnn, annSeconds, record,
  };
}
