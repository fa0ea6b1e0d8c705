/**
 * One query's ranking joined with its judgments, as trec_eval's form_res_rels builds it: hits ranked by score
 * then docid (both descending), cut at maxDocs, each rank labelled with the judged grade, NONPOOL (not in the
 * qrels) or UNJUDGED (in the qrels with a negative grade), plus the count of judged documents per grade.
 */
import { rankHits, type RunHit } from '../formats/index.js';

export const NONPOOL = -1;
export const UNJUDGED = -2;

export interface JudgedRanking {
  /** Grade (or NONPOOL / UNJUDGED) of the document at each rank, best first. */
  rels: number[];
  numRet: number;
  /** Judged documents with grade >= relevanceLevel. */
  numRel: number;
  numRelRet: number;
  numNonpool: number;
  numUnjudgedInPool: number;
  /** relLevels[g] = judged documents with grade g (g >= 0). */
  relLevels: number[];
  /** 1 + the highest grade with a judged document (0 when none). */
  numRelLevels: number;
}

export interface RankingOptions {
  relevanceLevel: number;
  maxDocsPerQuery: number;
  judgedOnly: boolean;
}

export function judgeRanking(hits: readonly RunHit[], judgments: ReadonlyMap<string, number>, opts: RankingOptions): JudgedRanking {
  let ranked = rankHits(hits);
  if (ranked.length > opts.maxDocsPerQuery) ranked = ranked.slice(0, Math.max(0, opts.maxDocsPerQuery));
  let rels = ranked.map((h) => {
    const g = judgments.get(h.id);
    return g === undefined ? NONPOOL : g < 0 ? UNJUDGED : g;
  });
  let numNonpool = 0;
  let numUnjudgedInPool = 0;
  let numRelRet = 0;
  if (opts.judgedOnly) {
    // -J: unjudged documents leave the ranking; the rest keep their relative order.
    rels = rels.filter((r) => r >= 0);
    for (const r of rels) if (r >= opts.relevanceLevel) numRelRet++;
  } else {
    for (const r of rels) {
      if (r === NONPOOL) numNonpool++;
      else if (r === UNJUDGED) numUnjudgedInPool++;
      else if (r >= opts.relevanceLevel) numRelRet++;
    }
  }
  const relLevels = gradeCounts(judgments);
  let numRel = 0;
  for (let g = 0; g < relLevels.length; g++) if (g >= opts.relevanceLevel) numRel += relLevels[g]!;
  return { rels, numRet: rels.length, numRel, numRelRet, numNonpool, numUnjudgedInPool, relLevels, numRelLevels: numRelLevelsOf(relLevels) };
}

function numRelLevelsOf(relLevels: readonly number[]): number {
  for (let g = relLevels.length - 1; g >= 0; g--) if (relLevels[g]! > 0) return g + 1;
  return 0;
}

/** Counts per non-negative grade, trimmed after the highest grade present. */
export function gradeCounts(judgments: ReadonlyMap<string, number>): number[] {
  let max = -1;
  for (const g of judgments.values()) if (g > max) max = g;
  const counts = new Array<number>(max + 1).fill(0);
  for (const g of judgments.values()) if (g >= 0) counts[g]!++;
  return counts;
}
