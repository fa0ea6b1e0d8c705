/**
 * BEIR's JSON lines, the one reader for corpus.jsonl ({"_id", "title", "text"}) and queries.jsonl ({"_id",
 * "text"}), plus the qrels of a BEIR folder. Lines are decoded strictly as UTF-8 (src/util/lines.ts: bad bytes
 * are an error with their line, a BOM at the start is dropped); ids follow the run-id rule (./ids.ts); a repeated
 * id names both lines; a file without records is an error. The corpus is streamed, never loaded whole.
 */
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { readLines } from '../util/lines.js';
import { checkId, IdLines } from './ids.js';
import { readQrels, type Qrels } from './qrels.js';

export interface BeirDocument {
  id: string;
  /** '' when the line has none (queries never do). */
  title: string;
  text: string;
  /** Every other field of the line; the fields of BEIR's own "metadata" object are spread in. */
  metadata: Record<string, unknown>;
  /** 1-based line in the file (for error messages downstream). */
  line: number;
}

export type BeirQuery = BeirDocument;

/**
 * The text of a record as one string: `title + " " + text` when it has a title. This is the join of BEIR's
 * sentence-transformers wrapper (whose final strip the model's own preprocessing does) and of Anserini's BEIR
 * "flat" BM25 field (where the separator is just a token boundary). The one place densekit joins them.
 */
export function recordText(record: { title?: string; text: string }): string {
  return record.title ? `${record.title} ${record.text}` : record.text;
}

/** corpus.jsonl, streamed. */
export function readBeirCorpus(path: string): AsyncGenerator<BeirDocument> {
  return readBeirLines(path);
}

/** queries.jsonl, read whole (query sets are small). */
export async function readBeirQueries(path: string): Promise<BeirQuery[]> {
  const out: BeirQuery[] = [];
  for await (const q of readBeirLines(path)) out.push(q);
  return out;
}

/** qrels/{split}.tsv of a BEIR dataset folder. */
export function readBeirQrels(datasetDir: string, split = 'test'): Promise<Qrels> {
  return readQrels(join(datasetDir, 'qrels', `${split}.tsv`));
}

async function* readBeirLines(path: string): AsyncGenerator<BeirDocument> {
  const ids = new IdLines(path);
  for await (const { text: raw, lineNo } of readLines(path)) {
    if (raw.trim() === '') continue;
    const obj = parseObject(raw, path, lineNo);
    const id = idField(obj, path, lineNo);
    ids.add(id, lineNo);
    const { _id, title, text, metadata, ...extra } = obj;
    yield {
      id,
      title: stringField(title, 'title', path, lineNo, false),
      text: stringField(text, 'text', path, lineNo, true),
      metadata: isObject(metadata) ? { ...metadata, ...extra } : metadata === undefined ? extra : { metadata, ...extra },
      line: lineNo,
    };
  }
  if (ids.size === 0) throw new InputError(path, undefined, 'has no records (expected JSON lines {"_id", "title", "text"}, title optional)');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseObject(text: string, path: string, lineNo: number): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new InputError(path, lineNo, `not valid JSON (${(e as Error).message})`);
  }
  if (!isObject(value)) throw new InputError(path, lineNo, 'expected a JSON object');
  return value;
}

function idField(obj: Record<string, unknown>, path: string, lineNo: number): string {
  const id = obj._id;
  if (typeof id === 'string') return checkId(id, path, lineNo, 'field "_id"');
  // A JSON number has lost its spelling once parsed (1e400 is Infinity, 1.50 is 1.5): ask for the string.
  if (typeof id === 'number') throw new InputError(path, lineNo, `field "_id" is the number ${id}, expected a string (write it in quotes as written in the source)`);
  throw new InputError(path, lineNo, id === undefined ? 'missing field "_id" (expected a string)' : 'field "_id" must be a string');
}

function stringField(v: unknown, field: string, path: string, lineNo: number, required: boolean): string {
  if (v === undefined || v === null) {
    if (required) throw new InputError(path, lineNo, `missing field "${field}" (expected a string)`);
    return '';
  }
  if (typeof v !== 'string') throw new InputError(path, lineNo, `field "${field}" must be a string`);
  return v;
}
