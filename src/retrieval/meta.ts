/**
 * index.json: what kind of index a folder holds. Every densekit index folder has one, written last and
 * atomically, so a folder without it is not an index (an interrupted build leaves no valid-looking index).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { writeFileAtomicSync } from '../util/fs.js';
import { readDescriptorSync } from '../util/lines.js';
import { readIdsFile as readIdLines } from '../formats/ids.js';
import { checkRecordedSizes, readFileRecords, type FileRecords } from '../util/checksums.js';

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
  /**
   * Size and sha256 of every data file (src/util/checksums.ts): sizes checked on open, hashes by
   * `densekit verify`. Absent in folders built before checksums were recorded.
   */
  files?: FileRecords;
  /** Free-form, type-specific parameters (see each index module). */
  [key: string]: unknown;
}

export function metaPath(dir: string): string {
  return join(dir, 'index.json');
}

export function readIndexMeta(dir: string): IndexMeta {
  const path = metaPath(dir);
  const meta = readDescriptorSync(path, INDEX_FORMAT, 'not a densekit index folder (build one with `densekit index`)') as unknown as IndexMeta;
  // Whether the type is a known one is the registry's question (src/retrieval/registry.ts).
  if (typeof meta.type !== 'string' || meta.type === '') throw new InputError(path, undefined, `type is ${JSON.stringify(meta.type)}, expected an index type such as "flat"`);
  checkMetaFields(meta, path);
  return meta;
}

const MAX_DIM = 65_536;

/** The fields every reader relies on, with types and ranges; values the data disagrees with are caught where the data is read. */
function checkMetaFields(meta: IndexMeta, path: string): void {
  const bad = (field: string, expected: string): never => {
    throw new InputError(path, undefined, `field "${field}" is ${JSON.stringify(meta[field]) ?? 'missing'}, expected ${expected}`);
  };
  const int = (v: unknown, min: number): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
  if (meta.version !== 1) bad('version', '1 (written by another densekit version?)');
  if (!int(meta.count, 0)) bad('count', 'a non-negative integer');
  readFileRecords(meta.files, path);
  if (meta.type !== 'flat' && meta.type !== 'hnsw') return; // other types check their own fields
  if (!int(meta.dim, 1) || (meta.dim as number) > MAX_DIM) bad('dim', `an integer from 1 to ${MAX_DIM}`);
  if (meta.similarity !== 'dot' && meta.similarity !== 'cosine') bad('similarity', '"dot" or "cosine"');
  if (meta.storage !== 'float32' && meta.storage !== 'int8' && meta.storage !== 'bf16') bad('storage', '"float32", "int8" or "bf16"');
  if (typeof meta.maxNorm !== 'number' || !Number.isFinite(meta.maxNorm) || meta.maxNorm < 0) bad('maxNorm', 'a finite non-negative number');
  if (typeof meta.model !== 'string') bad('model', 'a string');
  if (meta.type === 'hnsw') {
    const h = meta.hnsw as Record<string, unknown> | null | undefined;
    if (h === null || typeof h !== 'object' || !int(h.M, 2) || !int(h.efConstruction, 1) || !int(h.efSearch, 1)) bad('hnsw', '{M, efConstruction, efSearch} positive integers');
  }
}

/** The cheap check on open: the recorded data files are all there, at their recorded sizes. */
export function checkIndexFiles(dir: string, meta: IndexMeta, names?: readonly string[]): void {
  checkRecordedSizes(dir, meta.files, 'index.json', names);
}

export function writeIndexMeta(dir: string, meta: IndexMeta): void {
  writeFileAtomicSync(metaPath(dir), JSON.stringify(meta, null, 1) + '\n');
}

/** Reads an ids file (one per line) and checks its length. */
export function readIdsFile(path: string, expected: number): string[] {
  if (!existsSync(path)) throw new InputError(path, undefined, 'missing (index folder incomplete)');
  const ids = readIdLines(path);
  if (ids.length !== expected) throw new InputError(path, undefined, `${ids.length} ids but index.json records ${expected} documents (truncated or corrupt)`);
  const empty = ids.indexOf('');
  if (empty >= 0) throw new InputError(path, empty + 1, 'empty document id (corrupt)');
  return ids;
}
