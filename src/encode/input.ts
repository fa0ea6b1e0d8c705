/**
 * Texts to encode, read from the files users have: BEIR corpus.jsonl (`_id`, `title`, `text`), BEIR
 * queries.jsonl (`_id`, `text`), and MS MARCO-style tsv (`id \t text`). A corpus record becomes
 * `title + " " + text`, stripped, exactly as BEIR's sentence-transformers wrapper builds passages.
 */
import { basename } from 'node:path';
import { InputError, UsageError } from '../errors.js';
import { readLines } from '../util/lines.js';
import { readBeirCorpus } from '../eval/beir.js';

export interface TextRecord {
  id: string;
  text: string;
}

export type InputFormat = 'jsonl' | 'tsv';

export function inputFormatOf(path: string): InputFormat {
  if (/\.jsonl?$/i.test(path)) return 'jsonl';
  if (/\.(tsv|txt)$/i.test(path)) return 'tsv';
  throw new UsageError(`${path}: unknown input format (expected .jsonl BEIR corpus/queries or .tsv "id<TAB>text")`);
}

/** `query` when the file name says so (queries.jsonl, queries.dev.tsv), else `passage`. */
export function guessKind(path: string): 'query' | 'passage' {
  return /quer/i.test(basename(path)) ? 'query' : 'passage';
}

export async function* readTextRecords(path: string): AsyncGenerator<TextRecord> {
  const seen = new Set<string>();
  for await (const { id, text, line } of inputFormatOf(path) === 'jsonl' ? jsonlRecords(path) : tsvRecords(path)) {
    if (/[\n\r]/.test(id)) throw new InputError(path, line, 'id contains a line break');
    if (seen.has(id)) throw new InputError(path, line, `duplicate id ${JSON.stringify(id)}`);
    seen.add(id);
    yield { id, text };
  }
}

/** BEIR corpus or queries lines; stripping (Python str.strip semantics) happens in the model's own preprocessing. */
async function* jsonlRecords(path: string): AsyncGenerator<TextRecord & { line: number }> {
  for await (const d of readBeirCorpus(path)) yield { id: d.id, text: d.title ? `${d.title} ${d.text}` : d.text, line: d.line };
}

async function* tsvRecords(path: string): AsyncGenerator<TextRecord & { line: number }> {
  for await (const { text: line, lineNo } of readLines(path)) {
    if (line.trim() === '') continue;
    const tab = line.indexOf('\t');
    if (tab < 0) throw new InputError(path, lineNo, 'expected "id<TAB>text"');
    if (tab === 0) throw new InputError(path, lineNo, 'empty id');
    yield { id: line.slice(0, tab), text: line.slice(tab + 1), line: lineNo };
  }
}
