/**
 * BEIR collection layout: corpus.jsonl ({_id, title, text}), queries.jsonl ({_id, text}) and
 * qrels/{split}.tsv. The corpus is streamed (never loaded whole); queries are small and returned as a list.
 */
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { readLines as readNumberedLines } from '../util/lines.js';
import { readQrels, type Qrels } from './qrels.js';

export interface BeirDocument {
  id: string;
  title: string;
  text: string;
  /** BEIR's optional "metadata" object (kept by the pgvector index for filters). */
  metadata?: Record<string, unknown>;
  /** 1-based line in corpus.jsonl (for error messages downstream). */
  line: number;
}

export interface BeirQuery {
  id: string;
  text: string;
  line: number;
}

function parseObject(text: string, path: string, lineNo: number): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new InputError(path, lineNo, `not valid JSON (${(e as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InputError(path, lineNo, 'expected a JSON object');
  return value as Record<string, unknown>;
}

function idField(obj: Record<string, unknown>, path: string, lineNo: number): string {
  const id = obj._id;
  if (typeof id === 'string' && id !== '') return id;
  if (typeof id === 'number' && Number.isFinite(id)) return String(id);
  throw new InputError(path, lineNo, 'field "_id" must be a non-empty string');
}

function stringField(obj: Record<string, unknown>, field: string, path: string, lineNo: number, required: boolean): string {
  const v = obj[field];
  if (v === undefined || v === null) {
    if (required) throw new InputError(path, lineNo, `missing field "${field}" (expected a string)`);
    return '';
  }
  if (typeof v !== 'string') throw new InputError(path, lineNo, `field "${field}" must be a string`);
  return v;
}

export async function* readBeirCorpus(path: string): AsyncGenerator<BeirDocument> {
  let any = false;
  for await (const { text, lineNo } of readNumberedLines(path)) {
    if (text.trim() === '') continue;
    const obj = parseObject(text, path, lineNo);
    any = true;
    const metadata = obj.metadata;
    if (metadata !== undefined && metadata !== null && (typeof metadata !== 'object' || Array.isArray(metadata)))
      throw new InputError(path, lineNo, 'field "metadata" must be a JSON object');
    yield {
      id: idField(obj, path, lineNo), title: stringField(obj, 'title', path, lineNo, false), text: stringField(obj, 'text', path, lineNo, true),
      ...(metadata ? { metadata: metadata as Record<string, unknown> } : {}), line: lineNo,
    };
  }
  if (!any) throw new InputError(path, undefined, 'has no documents (expected JSON lines {"_id", "title", "text"})');
}

export async function readBeirQueries(path: string): Promise<BeirQuery[]> {
  const queries: BeirQuery[] = [];
  const seen = new Map<string, number>();
  for await (const { text, lineNo } of readNumberedLines(path)) {
    if (text.trim() === '') continue;
    const obj = parseObject(text, path, lineNo);
    const id = idField(obj, path, lineNo);
    const first = seen.get(id);
    if (first !== undefined) throw new InputError(path, lineNo, `duplicate query id "${id}" (first at line ${first})`);
    seen.set(id, lineNo);
    queries.push({ id, text: stringField(obj, 'text', path, lineNo, true), line: lineNo });
  }
  if (queries.length === 0) throw new InputError(path, undefined, 'has no queries (expected JSON lines {"_id", "text"})');
  return queries;
}

/** qrels/{split}.tsv of a BEIR dataset folder. */
export function readBeirQrels(datasetDir: string, split = 'test'): Promise<Qrels> {
  return readQrels(join(datasetDir, 'qrels', `${split}.tsv`));
}
