/**
 * Texts with ids, from the files users have: BEIR corpus.jsonl / queries.jsonl (./beir.ts) and MS MARCO-style
 * `id<TAB>text` TSV (collection.tsv, queries.*.tsv), chosen by extension: .jsonl / .json is BEIR, anything else
 * TSV. Both readers apply the same rules: strict UTF-8 with the line of a bad byte, a leading BOM dropped, the
 * run-id rule, duplicates refused naming both lines, an empty file refused.
 */
import { basename } from 'node:path';
import { InputError } from '../errors.js';
import type { Query } from '../retrieval/types.js';
import { readLines } from '../util/lines.js';
import { readBeirCorpus, recordText } from './beir.js';
import { checkId, IdLines } from './ids.js';

/** One text with its id; `title` is '' unless a BEIR line has one. */
export interface TextRecord {
  id: string;
  title: string;
  text: string;
  line: number;
}

export function isJsonl(path: string): boolean {
  return /\.jsonl?$/i.test(path);
}

/** `query` when the file name says so (queries.jsonl, queries.dev.tsv), else `passage`. */
export function guessKind(path: string): 'query' | 'passage' {
  return /quer/i.test(basename(path)) ? 'query' : 'passage';
}

/** Streams the records of a BEIR JSONL or `id<TAB>text` file. */
export async function* readTextRecords(path: string): AsyncGenerator<TextRecord> {
  if (isJsonl(path)) {
    for await (const d of readBeirCorpus(path)) yield { id: d.id, title: d.title, text: d.text, line: d.line };
  } else {
    yield* readTsvRecords(path);
  }
}

/**
 * `id<TAB>text` per line. Only the first two columns count: MS MARCO's files have no more, and derived files
 * that append fields (scores, sources) keep their text intact. Blank lines are skipped.
 */
async function* readTsvRecords(path: string): AsyncGenerator<TextRecord> {
  const ids = new IdLines(path);
  for await (const { text: raw, lineNo } of readLines(path)) {
    if (raw.trim() === '') continue;
    const tab = raw.indexOf('\t');
    if (tab < 0) throw new InputError(path, lineNo, 'expected "id<TAB>text"');
    const id = checkId(raw.slice(0, tab), path, lineNo);
    ids.add(id, lineNo);
    const next = raw.indexOf('\t', tab + 1);
    yield { id, title: '', text: next < 0 ? raw.slice(tab + 1) : raw.slice(tab + 1, next), line: lineNo };
  }
  if (ids.size === 0) throw new InputError(path, undefined, 'has no records (expected "id<TAB>text" lines)');
}

export interface ReadTextMapOptions {
  /** Keep only these ids (the rest are streamed past, still checked), so a training run over a sample of
   * MS MARCO does not hold all 8.8M passages. */
  needed?: ReadonlySet<string>;
}

/** id -> text (title and text joined, ./beir.ts recordText) of a BEIR JSONL or TSV file. */
export async function readTextMap(path: string, options: ReadTextMapOptions = {}): Promise<Map<string, string>> {
  const texts = new Map<string, string>();
  for await (const r of readTextRecords(path)) if (!options.needed || options.needed.has(r.id)) texts.set(r.id, recordText(r));
  return texts;
}

/** Query files (BEIR queries.jsonl, MS MARCO queries.*.tsv), read whole. */
export async function readQueries(path: string): Promise<Query[]> {
  const out: Query[] = [];
  for await (const r of readTextRecords(path)) out.push({ id: r.id, text: recordText(r) });
  return out;
}
