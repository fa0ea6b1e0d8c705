/**
 * Everything that turns user input into SQL text. Only two things are ever spliced into a statement:
 * identifiers (table and index names), validated against a strict pattern and then quoted with pg's
 * escapeIdentifier, and integers checked here. Every value (ids, vectors, texts, metadata, filter keys and
 * bounds) travels as a bind parameter.
 */
import pg from 'pg';
import pgvector from 'pgvector';
import { UsageError } from '../../errors.js';
import type { MetadataFilter, Similarity } from '../types.js';

/** Unquoted-identifier syntax, at most 63 bytes (PostgreSQL's NAMEDATALEN - 1), optionally schema-qualified. */
const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export interface TableName {
  schema: string | undefined;
  name: string;
  /** Quoted, ready to splice: "schema"."name" or "name". */
  sql: string;
  /** As the user wrote it (for messages and regclass lookups). */
  text: string;
}

export function parseTableName(text: string): TableName {
  const parts = text.split('.');
  if (parts.length > 2 || !parts.every((p) => IDENT.test(p)))
    throw new UsageError(`--table ${JSON.stringify(text)}: expected NAME or SCHEMA.NAME of letters, digits and _ (not starting with a digit, at most 63 each)`);
  const [schema, name] = parts.length === 2 ? [parts[0]!, parts[1]!] : [undefined, parts[0]!];
  // Unquoted names fold to lower case in PostgreSQL; quoting the folded name keeps `--table Docs` and `docs` one table.
  const fold = (s: string) => s.toLowerCase();
  const sql = (schema ? pg.escapeIdentifier(fold(schema)) + '.' : '') + pg.escapeIdentifier(fold(name));
  return { schema: schema && fold(schema), name: fold(name), sql, text };
}

/** The ANN index's name: the table's, with a suffix, cut to 63 bytes. */
export function annIndexName(table: TableName, method: 'hnsw' | 'ivfflat'): string {
  const suffix = `_embedding_${method}`;
  return pg.escapeIdentifier(table.name.slice(0, 63 - suffix.length) + suffix);
}

/** An integer setting spliced into SET LOCAL (which takes no bind parameters), bounded as pgvector bounds it. */
export function boundedInt(name: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) throw new UsageError(`${name} must be an integer in ${min}..${max}, got ${v}`);
  return v;
}

/** pgvector's text form of one row; non-finite values are refused here rather than by the server mid-COPY. */
export function vectorLiteral(v: Float32Array): string {
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i]!)) throw new UsageError(`vector has a non-finite value (${v[i]}) at position ${i}`);
  return pgvector.toSql(Array.from(v))!;
}

/** pgvector's distance operator for a similarity, and how its distance becomes densekit's score. */
export function distanceOf(similarity: Similarity): { operator: '<#>' | '<=>'; opclass: string; score: (d: number) => number } {
  // <#> is the negated inner product; <=> is 1 - cosine. Scores are returned as float32, as flat search returns them.
  return similarity === 'dot'
    ? { operator: '<#>', opclass: 'vector_ip_ops', score: (d) => Math.fround(-d) }
    : { operator: '<=>', opclass: 'vector_cosine_ops', score: (d) => Math.fround(1 - d) };
}

const RANGE_KEYS = { gte: '>=', gt: '>', lte: '<=', lt: '<' } as const;

/**
 * A metadata filter as a WHERE fragment over bind parameters $first, $first+1, ...:
 *   { key: value }             metadata @> {"key": value}   (string, number or boolean equality; a GIN index can serve it)
 *   { key: { gte, gt, ... } }  the key's value is a JSON number within the bounds
 * Several keys are ANDed. Keys are bind parameters too, so any key text is safe.
 */
export function compileFilter(filter: MetadataFilter | undefined, first: number): { sql: string; params: unknown[] } {
  if (filter === undefined) return { sql: '', params: [] };
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) throw new UsageError('filter must be an object of metadata keys');
  const clauses: string[] = [];
  const params: unknown[] = [];
  const param = (v: unknown) => {
    params.push(v);
    return `$${first + params.length - 1}`;
  };
  for (const [key, cond] of Object.entries(filter)) {
    if (typeof cond === 'string' || typeof cond === 'boolean' || (typeof cond === 'number' && Number.isFinite(cond))) {
      clauses.push(`metadata @> ${param(JSON.stringify({ [key]: cond }))}::jsonb`);
      continue;
    }
    if (typeof cond !== 'object' || cond === null || Array.isArray(cond))
      throw new UsageError(`filter ${JSON.stringify(key)}: expected a string, number, boolean or {gte, gt, lte, lt}, got ${JSON.stringify(cond)}`);
    const bounds = Object.entries(cond);
    if (bounds.length === 0) throw new UsageError(`filter ${JSON.stringify(key)}: empty range`);
    for (const [op, bound] of bounds) {
      const sqlOp = RANGE_KEYS[op as keyof typeof RANGE_KEYS];
      if (!sqlOp) throw new UsageError(`filter ${JSON.stringify(key)}: unknown range bound ${JSON.stringify(op)} (expected gte, gt, lte, lt)`);
      if (typeof bound !== 'number' || !Number.isFinite(bound)) throw new UsageError(`filter ${JSON.stringify(key)}.${op}: expected a finite number, got ${JSON.stringify(bound)}`);
      const k = param(key);
      // The CASE keeps a non-numeric value from reaching the ::numeric cast (it simply does not match).
      clauses.push(`(CASE WHEN jsonb_typeof(metadata -> ${k}::text) = 'number' THEN (metadata ->> ${k}::text)::numeric END) ${sqlOp} ${param(String(bound))}::numeric`);
    }
  }
  return { sql: clauses.join(' AND '), params };
}

/** Parses `--filter` text: a JSON object in the MetadataFilter shape. */
export function parseFilterFlag(text: string): MetadataFilter {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--filter: not valid JSON (${(e as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UsageError('--filter: expected a JSON object such as {"lang":"en","year":{"gte":2020}}');
  compileFilter(v as MetadataFilter, 1);
  return v as MetadataFilter;
}
