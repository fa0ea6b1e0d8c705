/**
 * The one ordering every retriever in densekit uses: score descending, then document id DESCENDING, compared
 * by UTF-8 bytes as C's strcmp does. trec_eval re-sorts each topic by score desc then docno desc before
 * computing measures, so with this order the run we write is the ranking trec_eval evaluates, including which
 * tied document falls inside a k cutoff.
 */
import { compareBytewise } from '../eval/byte-order.js';
import type { Hit } from './types.js';

/** Negative when `a` ranks before `b`. */
export function compareHits(a: Hit, b: Hit): number {
  if (a.score !== b.score) return b.score - a.score;
  return a.id === b.id ? 0 : compareBytewise(b.id, a.id);
}
