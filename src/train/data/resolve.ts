/**
 * Check the ids a pair file references against the loaded query and passage texts. Public training files
 * and collections drift (re-numbered or filtered collections), so missing ids are counted and either dropped
 * (`skip`) or reported as one error (`fail`), never silently ignored.
 */
import { InputError } from '../../errors.js';
import type { PairsByQuery } from './pairs.js';

export type MissingIdPolicy = 'skip' | 'fail';

export interface MissingIdReport {
  /** Queries whose text is missing (all their pairs dropped). */
  missingQueries: number;
  /** Distinct passage ids missing from the collection. */
  missingPassages: number;
  /** Pairs dropped because an id was missing. */
  droppedPairs: number;
  /** Pairs kept. */
  keptPairs: number;
  /** Queries kept (with at least one pair). */
  keptQueries: number;
}

export interface ResolveSources {
  pairsFile: string;
  queriesFile: string;
  collectionFile: string;
}

/** Every passage id the pairs reference (to load only those texts). */
export function referencedPassages(pairs: PairsByQuery): Set<string> {
  const ids = new Set<string>();
  for (const list of pairs.values()) for (const p of list) {
    ids.add(p.pos);
    if (p.neg !== '') ids.add(p.neg);
  }
  return ids;
}

/** Filter `pairs` in place to those whose query and passages have texts; count what was dropped. */
export function resolvePairs(
  pairs: PairsByQuery,
  queries: ReadonlyMap<string, string>,
  passages: ReadonlyMap<string, string>,
  policy: MissingIdPolicy,
  sources: ResolveSources,
): MissingIdReport {
  const report: MissingIdReport = { missingQueries: 0, missingPassages: 0, droppedPairs: 0, keptPairs: 0, keptQueries: 0 };
  const missingPassageIds = new Set<string>();
  let firstMissing: string | undefined;
  for (const [qid, list] of pairs) {
    if (!queries.has(qid)) {
      report.missingQueries++;
      report.droppedPairs += list.length;
      firstMissing ??= `query ${JSON.stringify(qid)} is not in ${sources.queriesFile}`;
      pairs.delete(qid);
      continue;
    }
    const kept = list.filter((p) => {
      const bad = [p.pos, p.neg].filter((id) => id !== '' && !passages.has(id));
      for (const id of bad) {
        missingPassageIds.add(id);
        firstMissing ??= `passage ${JSON.stringify(id)} (query ${JSON.stringify(qid)}) is not in ${sources.collectionFile}`;
      }
      return bad.length === 0;
    });
    report.droppedPairs += list.length - kept.length;
    if (kept.length === 0) pairs.delete(qid);
    else {
      pairs.set(qid, kept);
      report.keptPairs += kept.length;
      report.keptQueries++;
    }
  }
  report.missingPassages = missingPassageIds.size;
  if (policy === 'fail' && firstMissing !== undefined) {
    throw new InputError(
      sources.pairsFile,
      undefined,
      `${report.missingQueries} query ids and ${report.missingPassages} passage ids are missing (${report.droppedPairs} pairs); ` +
        `first: ${firstMissing}; pass --missing-ids skip to drop them`,
    );
  }
  if (report.keptPairs === 0) {
    throw new InputError(sources.pairsFile, undefined, 'no training pair has both its query and passages in the given files');
  }
  return report;
}
