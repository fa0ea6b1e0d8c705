/**
 * Retrieval runs. Reads TREC runs (`qid Q0 docid rank score tag`; like trec_eval, every field after the tag is
 * ignored) and MS MARCO runs (`qid<TAB>docid<TAB>rank`), and writes either. An MS MARCO run has no scores, so
 * each hit gets score = -rank: higher score = better rank, exactly the order the file gives, with no ties and
 * no rounding (trec_eval ranks by score, never by the rank column). Ids follow the run-id rule (./ids.ts).
 */
import { basename } from 'node:path';
import { InputError } from '../errors.js';
import { compareHits } from '../retrieval/hits.js';
import type { Hit } from '../retrieval/types.js';
import { writeFileAtomic } from '../util/fs.js';
import { readLines } from '../util/lines.js';
import { checkId, idProblem } from './ids.js';

/** A hit as a run file holds it: the retrieval Hit plus, when read from a file, its rank column. */
export interface RunHit extends Hit {
  /** The rank column of the file (informational; evaluation ranks by score as trec_eval does). */
  rank?: number;
}

export interface Run {
  /** trec_eval's runid: the tag of the file's last line (TREC) or the file name (MS MARCO). */
  runId: string;
  /** qid -> hits in file order. */
  queries: Map<string, RunHit[]>;
}

export type RunFormat = 'trec' | 'msmarco';

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Parses a score as C's atof would for well-formed numbers; anything else is an error, not a silent 0. */
function parseScore(field: string, path: string, lineNo: number): number {
  if (NUMBER.test(field)) return Number(field);
  if (/^[+-]?inf(inity)?$/i.test(field)) return field.startsWith('-') ? -Infinity : Infinity;
  throw new InputError(path, lineNo, `score must be a number, got "${field}"`);
}

export async function readRun(path: string): Promise<Run> {
  const queries = new Map<string, RunHit[]>();
  const seen = new Map<string, Set<string>>();
  let format: RunFormat | undefined;
  let runId = basename(path);
  let lines = 0;
  for await (const { text, lineNo } of readLines(path)) {
    const trimmed = text.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const fields = trimmed.split(/\s+/);
    if (format === undefined) {
      if (fields.length >= 6) format = 'trec';
      else if (fields.length === 3) format = 'msmarco';
      else throw new InputError(path, lineNo, `expected a TREC run "qid Q0 docid rank score tag" (6 columns) or an MS MARCO run "qid docid rank" (3 columns), got ${fields.length} columns`);
    }
    if (format === 'trec' ? fields.length < 6 : fields.length !== 3) {
      throw new InputError(path, lineNo, format === 'trec'
        ? `expected 6 columns "qid Q0 docid rank score tag" (any after the tag are ignored), got ${fields.length}`
        : `expected 3 columns "qid docid rank", got ${fields.length}`);
    }
    const qid = checkId(fields[0]!, path, lineNo, 'query id');
    const id = checkId(fields[format === 'trec' ? 2 : 1]!, path, lineNo, 'document id');
    const rankField = fields[format === 'trec' ? 3 : 2]!;
    let rank: number;
    let score: number;
    if (format === 'trec') {
      rank = /^[+-]?\d+$/.test(rankField) ? Number(rankField) : NaN;
      score = parseScore(fields[4]!, path, lineNo);
      runId = fields[5]!;
    } else {
      if (!/^\d+$/.test(rankField) || Number(rankField) < 1) throw new InputError(path, lineNo, `rank must be a positive integer, got "${rankField}"`);
      rank = Number(rankField);
      score = -rank;
    }
    let docs = seen.get(qid);
    if (!docs) {
      seen.set(qid, (docs = new Set()));
      queries.set(qid, []);
    }
    if (docs.has(id)) throw new InputError(path, lineNo, `duplicate document "${id}" for query "${qid}" (trec_eval refuses duplicates)`);
    docs.add(id);
    queries.get(qid)!.push({ id, score, rank });
    lines++;
  }
  if (lines === 0) throw new InputError(path, undefined, 'has no results (expected lines "qid Q0 docid rank score tag" or "qid docid rank")');
  return { runId, queries };
}

/** The hits of one query in trec_eval's evaluation order (the retrieval order, compareHits). */
export function rankHits<T extends Hit>(hits: readonly T[]): T[] {
  return [...hits].sort(compareHits);
}

export interface WriteRunOptions {
  format?: RunFormat;
  /** The TREC run tag (6th column); default "densekit". */
  tag?: string;
}

/**
 * Writes a run atomically, each query's hits in trec_eval order with ranks 1..n, queries in the run's order.
 * Scores are written with full precision (shortest round-trip form) so re-reading gives identical ranks.
 */
export async function writeRun(path: string, run: Run | ReadonlyMap<string, readonly Hit[]>, options: WriteRunOptions = {}): Promise<void> {
  const queries: ReadonlyMap<string, readonly Hit[]> = 'runId' in run ? run.queries : run;
  const format = options.format ?? 'trec';
  const tag = options.tag ?? 'densekit';
  const refuse = (what: string, id: string, problem: string) => new InputError(path, undefined, `cannot write ${what} ${JSON.stringify(id)}: it ${problem}`);
  const tagProblem = idProblem(tag);
  if (tagProblem) throw refuse('run tag', tag, tagProblem);
  const out: string[] = [];
  for (const [qid, hits] of queries) {
    const qidProblem = idProblem(qid);
    if (qidProblem) throw refuse('query id', qid, qidProblem);
    const ranked = rankHits(hits);
    for (let i = 0; i < ranked.length; i++) {
      const h = ranked[i]!;
      const docProblem = idProblem(h.id);
      if (docProblem) throw refuse('document id', h.id, docProblem);
      if (!Number.isFinite(h.score)) throw new InputError(path, undefined, `score of "${h.id}" for query "${qid}" is not finite`);
      out.push(format === 'trec' ? `${qid} Q0 ${h.id} ${i + 1} ${h.score} ${tag}\n` : `${qid}\t${h.id}\t${i + 1}\n`);
    }
  }
  await writeFileAtomic(path, out.join(''));
}
