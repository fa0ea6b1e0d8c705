/**
 * Training pairs per query: teacher pair scores (the published TAS-B format
 * `pos_score neg_score qid pos_pid neg_pid`), MS MARCO id triples (`qid pos_pid neg_pid`), BEIR train qrels
 * and mined hard negatives (a TREC run written by `densekit mine`).
 */
import { InputError } from '../../errors.js';
import { readLines, parseScore } from './lines.js';

/** One (positive, negative) passage pair of a query, with its pairwise-teacher scores when known. */
export interface ScoredPair {
  pos: string;
  neg: string;
  posScore: number;
  negScore: number;
}

/** qid -> pairs in file order. */
export type PairsByQuery = Map<string, ScoredPair[]>;

/**
 * Teacher pair-score file. Columns are split on any whitespace, as the released loader does (`line.split()`),
 * so tab- and space-separated files both read; exactly five columns are required.
 */
export async function readTeacherPairs(file: string): Promise<PairsByQuery> {
  const byQuery: PairsByQuery = new Map();
  for await (const { text, lineNo } of readLines(file)) {
    if (text.trim() === '') continue;
    const cols = text.trim().split(/\s+/);
    if (cols.length !== 5) {
      throw new InputError(file, lineNo, `expected 5 columns "pos_score neg_score qid pos_pid neg_pid", got ${cols.length}`);
    }
    const posScore = parseScore(cols[0]!, file, lineNo, 'pos_score (column 1)');
    const negScore = parseScore(cols[1]!, file, lineNo, 'neg_score (column 2)');
    const qid = cols[2]!;
    let list = byQuery.get(qid);
    if (!list) byQuery.set(qid, (list = []));
    list.push({ pos: cols[3]!, neg: cols[4]!, posScore, negScore });
  }
  if (byQuery.size === 0) throw new InputError(file, undefined, 'no teacher pairs (the file is empty)');
  return byQuery;
}

/** One id triple, streamed: MS MARCO `qidpidtriples` files have hundreds of millions of lines. */
export interface IdTriple {
  qid: string;
  pos: string;
  neg: string;
  lineNo: number;
}

export async function* streamTriples(file: string): AsyncGenerator<IdTriple> {
  for await (const { text, lineNo } of readLines(file)) {
    if (text.trim() === '') continue;
    const cols = text.trim().split(/\s+/);
    if (cols.length !== 3) throw new InputError(file, lineNo, `expected 3 columns "qid pos_pid neg_pid", got ${cols.length}`);
    yield { qid: cols[0]!, pos: cols[1]!, neg: cols[2]!, lineNo };
  }
}

/** Id triples grouped per query (pairs without teacher scores: NaN). */
export async function readTriples(file: string): Promise<PairsByQuery> {
  const byQuery: PairsByQuery = new Map();
  for await (const t of streamTriples(file)) {
    let list = byQuery.get(t.qid);
    if (!list) byQuery.set(t.qid, (list = []));
    list.push({ pos: t.pos, neg: t.neg, posScore: NaN, negScore: NaN });
  }
  if (byQuery.size === 0) throw new InputError(file, undefined, 'no triples (the file is empty)');
  return byQuery;
}

/**
 * BEIR qrels (`query-id corpus-id score`, optional header): qid -> relevant passage ids (score > 0), in file
 * order. TREC 4-column qrels (`qid 0 docid rel`) are accepted as well.
 */
export async function readTrainQrels(file: string): Promise<Map<string, string[]>> {
  const positives = new Map<string, string[]>();
  for await (const { text, lineNo } of readLines(file)) {
    if (text.trim() === '') continue;
    const cols = text.trim().split(/\s+/);
    if (lineNo === 1 && cols[0] === 'query-id') continue;
    let qid: string, pid: string, rel: string;
    if (cols.length === 3) [qid, pid, rel] = cols as [string, string, string];
    else if (cols.length === 4) [qid, , pid, rel] = cols as [string, string, string, string];
    else throw new InputError(file, lineNo, `expected "query-id corpus-id score" (3 columns) or TREC qrels (4), got ${cols.length} columns`);
    const grade = parseScore(rel, file, lineNo, 'score');
    if (grade <= 0) continue;
    let list = positives.get(qid);
    if (!list) positives.set(qid, (list = []));
    if (!list.includes(pid)) list.push(pid);
  }
  if (positives.size === 0) throw new InputError(file, undefined, 'no relevant (score > 0) judgments');
  return positives;
}

/** Mined hard negatives: a TREC run (`qid Q0 pid rank score tag`); qid -> pids in rank order. */
export async function readMinedNegatives(file: string): Promise<Map<string, string[]>> {
  const ranked = new Map<string, Array<{ pid: string; rank: number }>>();
  for await (const { text, lineNo } of readLines(file)) {
    if (text.trim() === '') continue;
    const cols = text.trim().split(/\s+/);
    if (cols.length !== 6) throw new InputError(file, lineNo, `expected a TREC run line "qid Q0 pid rank score tag", got ${cols.length} columns`);
    const rank = parseScore(cols[3]!, file, lineNo, 'rank (column 4)');
    let list = ranked.get(cols[0]!);
    if (!list) ranked.set(cols[0]!, (list = []));
    list.push({ pid: cols[2]!, rank });
  }
  if (ranked.size === 0) throw new InputError(file, undefined, 'no mined negatives (the file is empty)');
  const out = new Map<string, string[]>();
  for (const [qid, list] of ranked) out.set(qid, list.sort((a, b) => a.rank - b.rank).map((r) => r.pid));
  return out;
}

/**
 * Pairs from qrels + mined negatives (GTR fine-tuning): every positive with each of the top `negativesPerPositive`
 * mined passages that are not themselves judged relevant. Queries without a usable negative get none.
 */
export function pairsFromQrelsAndNegatives(
  positives: Map<string, string[]>,
  negatives: Map<string, string[]> | undefined,
  negativesPerPositive: number,
): PairsByQuery {
  const out: PairsByQuery = new Map();
  for (const [qid, pos] of positives) {
    const relevant = new Set(pos);
    const negs = (negatives?.get(qid) ?? []).filter((p) => !relevant.has(p)).slice(0, negativesPerPositive);
    const list: ScoredPair[] = [];
    for (const p of pos) {
      if (negs.length === 0) list.push({ pos: p, neg: '', posScore: NaN, negScore: NaN });
      for (const n of negs) list.push({ pos: p, neg: n, posScore: NaN, negScore: NaN });
    }
    out.set(qid, list);
  }
  return out;
}
