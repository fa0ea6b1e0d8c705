/**
 * Relevance judgments. Reads TREC qrels (`qid iter docid grade`, whitespace separated, as trec_eval) and
 * BEIR qrels (tab separated `query-id corpus-id score` with a header line). Grades are integers; negative
 * grades mean "in the pool but unjudged" exactly as in trec_eval. Ids follow the run-id rule (./ids.ts).
 */
import { InputError } from '../errors.js';
import { readLines } from '../util/lines.js';
import { checkId } from './ids.js';

/** qid -> (docid -> grade). */
export type Qrels = Map<string, Map<string, number>>;

export type QrelsFormat = 'trec' | 'beir';

/** Largest |grade| accepted: trec_eval keeps one counter per grade level, so grades must stay small. */
const MAX_ABS_GRADE = 1_000_000;

export async function readQrels(path: string): Promise<Qrels> {
  const qrels: Qrels = new Map();
  let format: QrelsFormat | undefined;
  let judgments = 0;
  for await (const { text, lineNo } of readLines(path)) {
    if (text.trim() === '' || text.startsWith('#')) continue;
    if (format === undefined) {
      format = detectQrelsFormat(text, path, lineNo);
      if (format === 'beir' && isBeirHeader(text)) continue;
    }
    const fields = format === 'beir' ? text.split('\t').map((f) => f.trim()) : text.trim().split(/\s+/);
    const expected = format === 'beir' ? 3 : 4;
    if (fields.length !== expected) {
      throw new InputError(path, lineNo, format === 'beir'
        ? `expected 3 tab-separated columns "query-id corpus-id score", got ${fields.length}`
        : `expected 4 columns "qid iter docid grade", got ${fields.length}`);
    }
    const qid = checkId(fields[0]!, path, lineNo, 'query id');
    const docId = checkId(fields[format === 'beir' ? 1 : 2]!, path, lineNo, 'document id');
    const grade = parseGrade(fields[expected - 1]!, path, lineNo);
    let docs = qrels.get(qid);
    if (!docs) qrels.set(qid, (docs = new Map()));
    if (docs.has(docId)) throw new InputError(path, lineNo, `duplicate judgment for query "${qid}", document "${docId}"`);
    docs.set(docId, grade);
    judgments++;
  }
  if (judgments === 0) throw new InputError(path, undefined, 'has no judgments (expected lines "qid iter docid grade" or a BEIR qrels tsv)');
  return qrels;
}

function isBeirHeader(line: string): boolean {
  const fields = line.split('\t');
  return fields.length === 3 && !/^[+-]?\d+(\.\d*)?$/.test(fields[2]!.trim());
}

function detectQrelsFormat(line: string, path: string, lineNo: number): QrelsFormat {
  if (line.split('\t').length === 3) return 'beir';
  const n = line.trim().split(/\s+/).length;
  if (n === 4) return 'trec';
  throw new InputError(path, lineNo, `expected TREC qrels "qid iter docid grade" (4 columns) or BEIR "query-id<TAB>corpus-id<TAB>score", got ${n} columns`);
}

function parseGrade(field: string, path: string, lineNo: number): number {
  // trec_eval reads grades with atol; we also accept "1.0" (written by some tools) but never a fraction.
  const m = /^([+-]?\d+)(?:\.0*)?$/.exec(field);
  if (!m) throw new InputError(path, lineNo, `relevance grade must be an integer, got "${field}"`);
  const grade = Number(m[1]);
  if (Math.abs(grade) > MAX_ABS_GRADE) throw new InputError(path, lineNo, `relevance grade ${field} is out of range (|grade| <= ${MAX_ABS_GRADE})`);
  return grade === 0 ? 0 : grade; // normalize -0
}

/** Number of judged (query, document) pairs. */
export function countJudgments(qrels: Qrels): number {
  let n = 0;
  for (const docs of qrels.values()) n += docs.size;
  return n;
}
