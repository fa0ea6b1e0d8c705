/**
 * Retrieval runs. Reads TREC runs (`qid Q0 docid rank score tag`) and MS MARCO runs (`qid<TAB>docid<TAB>rank`).
 * An MS MARCO run has no scores, so each hit gets score = -rank: higher score = better rank, exactly the
 * order the file gives, with no ties and no rounding (trec_eval ranks by score, never by the rank column).
 */
import { basename } from 'node:path';
import { InputError } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { compareBytewise } from './byte-order.js';
import { readLines as readNumberedLines } from '../util/lines.js';

export interface RunHit {
  docId: string;
  score: number;
  /** The rank column of the file (informational; evaluation ranks by score as trec_eval does). */
  rank: number;
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
export function parseScore(field: string, path: string, lineNo: number): number {
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
  for await (const { text, lineNo } of readNumberedLines(path)) {
    const trimmed = text.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const fields = trimmed.split(/\s+/);
    if (format === undefined) {
      if (fields.length === 6) format = 'trec';
      else if (fields.length === 3) format = 'msmarco';
      else throw new InputError(path, lineNo, `expected a TREC run "qid Q0 docid rank score tag" (6 columns) or an MS MARCO run "qid docid rank" (3 columns), got ${fields.length} columns`);
    }
    const expected = format === 'trec' ? 6 : 3;
    if (fields.length !== expected) {
      throw new InputError(path, lineNo, format === 'trec'
        ? `expected 6 columns "qid Q0 docid rank score tag", got ${fields.length}`
        : `expected 3 columns "qid docid rank", got ${fields.length}`);
    }
    const qid = fields[0]!;
    const docId = fields[format === 'trec' ? 2 : 1]!;
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
    if (docs.has(docId)) throw new InputError(path, lineNo, `duplicate document "${docId}" for query "${qid}" (trec_eval refuses duplicates)`);
    docs.add(docId);
    queries.get(qid)!.push({ docId, score, rank });
    lines++;
  }
  if (lines === 0) throw new InputError(path, undefined, 'has no results (expected lines "qid Q0 docid rank score tag" or "qid docid rank")');
  return { runId, queries };
}

/** trec_eval's ranking: score descending, ties broken by document id descending (strcmp). */
export function compareHits(a: RunHit, b: RunHit): number {
  if (a.score > b.score) return -1;
  if (a.score < b.score) return 1;
  return compareBytewise(b.docId, a.docId);
}

/** The hits of one query in trec_eval's evaluation order. */
export function rankHits(hits: readonly RunHit[]): RunHit[] {
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
export async function writeRun(path: string, run: Run | Map<string, RunHit[]>, options: WriteRunOptions = {}): Promise<void> {
  const queries = run instanceof Map ? run : run.queries;
  const format = options.format ?? 'trec';
  const tag = options.tag ?? 'densekit';
  if (/\s/.test(tag) || tag === '') throw new InputError(path, undefined, `run tag must be one word without spaces, got "${tag}"`);
  const out: string[] = [];
  for (const [qid, hits] of queries) {
    if (/\s/.test(qid)) throw new InputError(path, undefined, `query id "${qid}" contains whitespace and cannot be written to a run file`);
    const ranked = rankHits(hits);
    for (let i = 0; i < ranked.length; i++) {
      const h = ranked[i]!;
      if (/\s/.test(h.docId)) throw new InputError(path, undefined, `document id "${h.docId}" contains whitespace and cannot be written to a run file`);
      if (!Number.isFinite(h.score)) throw new InputError(path, undefined, `score of "${h.docId}" for query "${qid}" is not finite`);
      out.push(format === 'trec' ? `${qid} Q0 ${h.docId} ${i + 1} ${h.score} ${tag}\n` : `${qid}\t${h.docId}\t${i + 1}\n`);
    }
  }
  await writeFileAtomic(path, out.join(''));
}
