/**
 * index.json: what kind of index a folder holds. Every densekit index folder has one, written last and
 * atomically, so a folder without it is not an index (an interrupted build leaves no valid-looking index).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { writeFileAtomicSync } from '../util/fs.js';

export const INDEX_FORMAT = 'densekit-index';

/** A registered index type (src/retrieval/registry.ts): 'flat', 'hnsw', 'bm25', ... */
export type IndexType = string;
export type { Similarity } from './types.js';

export interface IndexMeta {
  format: typeof INDEX_FORMAT;
  version: 1;
  type: IndexType;
  /** Number of documents. */
  count: number;
  /** Free-form, type-specific parameters (see each index module). */
  [key: string]: unknown;
}

export function metaPath(dir: string): string {
  return join(dir, 'index.json');
}

export function readIndexMeta(dir: string): IndexMeta {
  const path = metaPath(dir);
  if (!existsSync(path)) throw new InputError(path, undefined, 'missing: not a densekit index folder (build one with `densekit index`)');
  let meta: IndexMeta;
  try {
    meta = JSON.parse(readFileSync(path, 'utf8')) as IndexMeta;
  } catch (e) {
    throw new InputError(path, undefined, `malformed JSON (${(e as Error).message})`);
  }
  if (meta.format !== INDEX_FORMAT) throw new InputError(path, undefined, `format is ${JSON.stringify(meta.format)}, expected "${INDEX_FORMAT}"`);
  // Whether the type is a known one is the registry's question (src/retrieval/registry.ts).
  if (typeof meta.type !== 'string' || meta.type === '') throw new InputError(path, undefined, `type is ${JSON.stringify(meta.type)}, expected an index type such as "flat"`);
  return meta;
}

export function writeIndexMeta(dir: string, meta: IndexMeta): void {
  writeFileAtomicSync(metaPath(dir), JSON.stringify(meta, null, 1) + '\n');
}

/** Reads an ids file (one per line) and checks its length. */
export function readIdsFile(path: string, expected: number): string[] {
  if (!existsSync(path)) throw new InputError(path, undefined, 'missing (index folder incomplete)');
  const text = readFileSync(path, 'utf8');
  const ids = text.length ? text.replace(/\n$/, '').split('\n') : [];
  if (ids.length !== expected) throw new InputError(path, undefined, `${ids.length} ids but index.json records ${expected} documents (truncated or corrupt)`);
  return ids;
}
