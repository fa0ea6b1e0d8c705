/**
 * The table densekit keeps in PostgreSQL, and what it records about itself:
 *
 *   CREATE TABLE name (id text PRIMARY KEY, embedding vector(dim) NOT NULL, text text, metadata jsonb)
 *   COMMENT ON TABLE name IS '{"format":"densekit-pgvector","model":...,"dim":...,"similarity":...,"ann":...}'
 *
 * The record lives in the table's own comment, so it is created, renamed and dropped with the table and needs no
 * second table (nor a second distributed object on Citus). Everything here is plain DDL Citus accepts on a
 * table distributed by id (the primary key contains the distribution column).
 */
import pg from 'pg';
import { DensekitError } from '../../errors.js';
import type { Similarity } from '../types.js';
import { PostgresError } from './connection.js';
import { annIndexName, distanceOf, type TableName } from './sql.js';

export const TABLE_FORMAT = 'densekit-pgvector';

export type AnnSpec = { method: 'none' } | { method: 'hnsw'; m: number; efConstruction: number } | { method: 'ivfflat'; lists: number };

export interface TableRecord {
  format: typeof TABLE_FORMAT;
  version: 1;
  model: string;
  dim: number;
  similarity: Similarity;
  ann: AnnSpec;
  /** Rows when the last ingest finished (undefined while one is in progress). */
  rows?: number;
  complete: boolean;
}

type Queryable = Pick<pg.ClientBase, 'query'>;

/** Makes sure pgvector is there: installed already, or installable (then installs it); else one line saying so. */
export async function ensureVectorExtension(db: Queryable, server: string, create: boolean): Promise<void> {
  const r = await db.query<{ installed_version: string | null }>("SELECT installed_version FROM pg_available_extensions WHERE name = 'vector'");
  if (r.rows.length === 0)
    throw new PostgresError(server, 'the server lacks the pgvector extension ("vector" is not among its available extensions); install pgvector there (https://github.com/pgvector/pgvector#installation)');
  if (r.rows[0]!.installed_version !== null) return;
  if (!create) throw new PostgresError(server, 'the pgvector extension is available but not installed in this database (run CREATE EXTENSION vector, or build the index with densekit index)');
  await db.query('CREATE EXTENSION IF NOT EXISTS vector');
}

export async function tableExists(db: Queryable, table: TableName): Promise<boolean> {
  const r = await db.query<{ oid: string | null }>('SELECT to_regclass($1)::oid AS oid', [table.sql]);
  return r.rows[0]!.oid !== null;
}

/** The table's record, or undefined when the table does not exist; refuses a table densekit did not make. */
export async function readTableRecord(db: Queryable, server: string, table: TableName): Promise<TableRecord | undefined> {
  const r = await db.query<{ oid: string | null; comment: string | null }>(
    "SELECT to_regclass($1)::oid AS oid, obj_description(to_regclass($1), 'pg_class') AS comment",
    [table.sql],
  );
  const { oid, comment } = r.rows[0]!;
  if (oid === null) return undefined;
  let rec: TableRecord | undefined;
  try {
    rec = comment ? (JSON.parse(comment) as TableRecord) : undefined;
  } catch {
    rec = undefined;
  }
  if (!rec || rec.format !== TABLE_FORMAT)
    throw new PostgresError(server, `table ${table.text} exists but was not made by densekit (its comment holds no ${TABLE_FORMAT} record); pick another --table`);
  if (!Number.isInteger(rec.dim) || rec.dim < 1 || (rec.similarity !== 'dot' && rec.similarity !== 'cosine') || typeof rec.model !== 'string')
    throw new PostgresError(server, `table ${table.text}: its ${TABLE_FORMAT} record is malformed (${comment})`);
  return rec;
}

export async function writeTableRecord(db: Queryable, table: TableName, rec: TableRecord): Promise<void> {
  // COMMENT takes a literal, not a bind parameter; escapeLiteral quotes any text the model name may hold.
  await db.query(`COMMENT ON TABLE ${table.sql} IS ${pg.escapeLiteral(JSON.stringify(rec))}`);
}

export async function createTable(db: Queryable, table: TableName, rec: TableRecord): Promise<void> {
  await db.query('BEGIN');
  try {
    await db.query(`CREATE TABLE ${table.sql} (id text PRIMARY KEY, embedding vector(${rec.dim}) NOT NULL, text text, metadata jsonb)`);
    await writeTableRecord(db, table, rec);
    await db.query('COMMIT');
  } catch (e) {
    await db.query('ROLLBACK').catch(() => {});
    throw e;
  }
}

/** The dimension the embedding column was declared with (the record could have been edited by hand). */
export async function columnDim(db: Queryable, table: TableName): Promise<number | undefined> {
  const r = await db.query<{ typmod: number }>(
    "SELECT atttypmod AS typmod FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = 'embedding' AND NOT attisdropped",
    [table.sql],
  );
  return r.rows[0]?.typmod;
}

export interface AnnIndexInfo {
  method: 'hnsw' | 'ivfflat';
  name: string;
  /** True when its operator class serves the table's similarity (otherwise the planner cannot use it). */
  matches: boolean;
}

export async function findAnnIndexes(db: Queryable, table: TableName, similarity: Similarity): Promise<AnnIndexInfo[]> {
  const r = await db.query<{ name: string; method: 'hnsw' | 'ivfflat'; opclass: string }>(
    `SELECT c.relname AS name, am.amname AS method, oc.opcname AS opclass
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
       JOIN pg_opclass oc ON oc.oid = i.indclass[0]
      WHERE i.indrelid = to_regclass($1) AND am.amname IN ('hnsw', 'ivfflat')`,
    [table.sql],
  );
  const want = distanceOf(similarity).opclass;
  return r.rows.map((x) => ({ method: x.method, name: x.name, matches: x.opclass === want }));
}

export function sameAnn(a: AnnSpec, b: AnnSpec): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function describeAnn(a: AnnSpec): string {
  return a.method === 'hnsw' ? `hnsw (m=${a.m}, ef_construction=${a.efConstruction})` : a.method === 'ivfflat' ? `ivfflat (lists=${a.lists})` : 'none';
}

/** Builds the ANN index (IF NOT EXISTS: a rerun after it was built does nothing). */
export async function createAnnIndex(db: Queryable, table: TableName, similarity: Similarity, ann: AnnSpec): Promise<void> {
  if (ann.method === 'none') return;
  const { opclass } = distanceOf(similarity);
  const name = annIndexName(table, ann.method);
  const using = ann.method === 'hnsw'
    ? `hnsw (embedding ${opclass}) WITH (m = ${ann.m}, ef_construction = ${ann.efConstruction})`
    : `ivfflat (embedding ${opclass}) WITH (lists = ${ann.lists})`;
  await db.query(`CREATE INDEX IF NOT EXISTS ${name} ON ${table.sql} USING ${using}`);
}

/** Refuses an existing table whose model, dimension or similarity differ from the embeddings being loaded. */
export function checkCompatible(server: string, table: TableName, rec: TableRecord, want: { model: string; dim: number; similarity: Similarity }): void {
  const diff = rec.dim !== want.dim ? `dimension ${rec.dim}, the embeddings have ${want.dim}`
    : rec.model !== want.model ? `model ${JSON.stringify(rec.model)}, the embeddings are from ${JSON.stringify(want.model)}`
    : rec.similarity !== want.similarity ? `similarity ${rec.similarity}, the embeddings use ${want.similarity}`
    : undefined;
  if (diff) throw new DensekitError(`${server}: table ${table.text} holds ${diff}; refusing to mix them (use another --table)`);
}
