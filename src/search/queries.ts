/**
 * Query files: BEIR queries.jsonl ({"_id", "text"} per line) or TSV (qid \t text, as MS MARCO's
 * queries.*.tsv), chosen by extension (.jsonl/.json vs anything else).
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../errors.js';

export interface Query {
  id: string;
  text: string;
}

export function readQueries(path: string): Query[] {
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(path, undefined, `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const lines = content.split(/\r?\n/);
  const jsonl = /\.jsonl?$/i.test(path);
  const out: Query[] = [];
  const seen = new Map<string, number>();
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (raw.trim() === '') continue;
    const line = i + 1;
    let q: Query;
    if (jsonl) {
      let o: unknown;
      try {
        o = JSON.parse(raw);
      } catch (e) {
        throw new InputError(path, line, `not valid JSON (${(e as Error).message})`);
      }
      const rec = (typeof o === 'object' && o !== null ? o : {}) as Record<string, unknown>;
      if (typeof rec._id !== 'string' && typeof rec._id !== 'number') throw new InputError(path, line, 'missing "_id" (expected a string)');
      if (typeof rec.text !== 'string') throw new InputError(path, line, 'missing "text" (expected a string)');
      q = { id: String(rec._id), text: rec.text };
    } else {
      const tab = raw.indexOf('\t');
      if (tab <= 0) throw new InputError(path, line, 'expected "qid<TAB>text"');
      q = { id: raw.slice(0, tab), text: raw.slice(tab + 1) };
    }
    if (q.id === '' || /\s/.test(q.id)) throw new InputError(path, line, `query id ${JSON.stringify(q.id)} is empty or contains whitespace`);
    const first = seen.get(q.id);
    if (first !== undefined) throw new InputError(path, line, `duplicate query id ${JSON.stringify(q.id)} (first at line ${first})`);
    seen.set(q.id, line);
    out.push(q);
  }
  return out;
}
