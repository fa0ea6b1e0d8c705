/**
 * Texts to encode, read from the files users have: BEIR corpus.jsonl (`_id`, `title`, `text`), BEIR
 * queries.jsonl (`_id`, `text`), and MS MARCO-style tsv (`id \t text`). A corpus record becomes
 * `title + " " + text`, stripped, exactly as BEIR's sentence-transformers wrapper builds passages.
 */
import { basename } from 'node:path';
import { InputError, UsageError } from '../errors.js';
import { readLines } from '../util/lines.js';

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
  const format = inputFormatOf(path);
  const seen = new Set<string>();
  for await (const { text: line, lineNo } of readLines(path)) {
    if (line.trim() === '') continue;
    let rec: TextRecord;
    if (format === 'jsonl') {
      let obj: unknown;
      try {
        obj = JSON.parse(line);
      } catch (e) {
        throw new InputError(path, lineNo, `malformed JSON (${(e as Error).message})`);
      }
      if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new InputError(path, lineNo, 'expected a JSON object');
      const o = obj as Record<string, unknown>;
      const id = o._id ?? o.id;
      if (typeof id !== 'string' && typeof id !== 'number') throw new InputError(path, lineNo, 'missing "_id" (string)');
      if (o.text !== undefined && typeof o.text !== 'string') throw new InputError(path, lineNo, '"text" must be a string');
      if (o.title !== undefined && o.title !== null && typeof o.title !== 'string') throw new InputError(path, lineNo, '"title" must be a string');
      if (o.text === undefined && (o.title === undefined || o.title === null)) throw new InputError(path, lineNo, 'missing "text"');
      const title = typeof o.title === 'string' ? o.title : undefined;
      const body = typeof o.text === 'string' ? o.text : '';
      // Stripping (Python str.strip semantics) happens in the model's own preprocessing.
      rec = { id: String(id), text: title !== undefined ? `${title} ${body}` : body };
    } else {
      const tab = line.indexOf('\t');
      if (tab < 0) throw new InputError(path, lineNo, 'expected "id<TAB>text"');
      rec = { id: line.slice(0, tab), text: line.slice(tab + 1) };
      if (rec.id === '') throw new InputError(path, lineNo, 'empty id');
    }
    if (/[\n\r]/.test(rec.id)) throw new InputError(path, lineNo, 'id contains a line break');
    if (seen.has(rec.id)) throw new InputError(path, lineNo, `duplicate id ${JSON.stringify(rec.id)}`);
    seen.add(rec.id);
    yield rec;
  }
}
