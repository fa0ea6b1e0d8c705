/**
 * Query files: BEIR queries.jsonl ({"_id", "text"} per line, parsed by src/eval's reader) or TSV (qid \t text,
 * as MS MARCO's queries.*.tsv), chosen by extension (.jsonl/.json vs anything else). Both are decoded strictly
 * as UTF-8, and ids must be usable in a TREC run line (non-empty, no whitespace).
 */
import { InputError } from '../errors.js';
import { readBeirQueries } from '../eval/beir.js';
import { readLines } from '../util/lines.js';

export interface Query {
  id: string;
  text: string;
}

export async function readQueries(path: string): Promise<Query[]> {
  const out: Query[] = [];
  if (/\.jsonl?$/i.test(path)) {
    for (const q of await readBeirQueries(path)) out.push(checkId({ id: q.id, text: q.text }, path, q.line));
    return out;
  }
  const seen = new Map<string, number>();
  for await (const { text: raw, lineNo } of readLines(path)) {
    if (raw.trim() === '') continue;
    const tab = raw.indexOf('\t');
    if (tab <= 0) throw new InputError(path, lineNo, 'expected "qid<TAB>text"');
    const q = checkId({ id: raw.slice(0, tab), text: raw.slice(tab + 1) }, path, lineNo);
    const first = seen.get(q.id);
    if (first !== undefined) throw new InputError(path, lineNo, `duplicate query id ${JSON.stringify(q.id)} (first at line ${first})`);
    seen.set(q.id, lineNo);
    out.push(q);
  }
  if (out.length === 0) throw new InputError(path, undefined, 'has no queries (expected "qid<TAB>text" lines)');
  return out;
}

function checkId(q: Query, path: string, line: number): Query {
  if (q.id === '' || /\s/.test(q.id)) throw new InputError(path, line, `query id ${JSON.stringify(q.id)} is empty or contains whitespace`);
  return q;
}
