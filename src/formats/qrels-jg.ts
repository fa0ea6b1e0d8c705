/**
 * trec_eval's `-R qrels_jg`: qrels whose second column names a judgment group (one user's judgments), lines
 * `qid jg docno rel`. Measures like map_avgjg evaluate against each group separately and average. Grades are
 * integers (a negative grade: in the pool but unjudged), read as trec_eval's atol does for "1.0"-style grades.
 */
import { InputError } from '../errors.js';
import { readLines } from '../util/lines.js';
import { atol } from '../util/c-numbers.js';
import { splitFields } from './fields.js';

/** qid -> judgment group -> (docid -> grade). */
export type QrelsJg = Map<string, Map<string, Map<string, number>>>;

const MAX_ABS_GRADE = 1_000_000;

export async function readQrelsJg(path: string): Promise<QrelsJg> {
  const qrels: QrelsJg = new Map();
  let judgments = 0;
  for await (const { text, lineNo } of readLines(path)) {
    const f = splitFields(text);
    if (!f) continue;
    if (f.length !== 4) throw new InputError(path, lineNo, `expected 4 columns "qid jg docno rel", got ${f.length}`);
    const [qid, jg, docId, field] = f as [string, string, string, string];
    if (!/^[+-]?\d+(?:\.0*)?$/.test(field)) throw new InputError(path, lineNo, `relevance grade must be an integer, got "${field}"`);
    const grade = atol(field)!;
    if (Math.abs(grade) > MAX_ABS_GRADE) throw new InputError(path, lineNo, `relevance grade ${field} is out of range (|grade| <= ${MAX_ABS_GRADE})`);
    let groups = qrels.get(qid);
    if (!groups) qrels.set(qid, (groups = new Map()));
    let docs = groups.get(jg);
    if (!docs) groups.set(jg, (docs = new Map()));
    if (docs.has(docId)) throw new InputError(path, lineNo, `duplicate judgment for query "${qid}", group "${jg}", document "${docId}"`);
    docs.set(docId, grade);
    judgments++;
  }
  if (judgments === 0) throw new InputError(path, undefined, 'has no judgments (expected lines "qid jg docno rel")');
  return qrels;
}
