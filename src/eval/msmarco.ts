/**
 * MS MARCO's official MRR@10 (ms_marco_eval.py): each query's hits in rank-column order, reciprocal rank of
 * the first relevant hit within the top `cutoff`, averaged over ALL queries in the qrels (a judged query the
 * run lacks counts as 0), unlike trec_eval's recip_rank which averages over the queries the run answered.
 */
import { DensekitError } from '../errors.js';
import { rankHits, type Qrels, type Run } from '../formats/index.js';

export interface MsMarcoMrrOptions {
  cutoff?: number;
  /** Minimum grade counted as relevant (MS MARCO qrels are all 1; TREC DL uses 2). */
  relevanceLevel?: number;
}

export interface MsMarcoMrr {
  mrr: number;
  /** Queries in the qrels (the denominator). */
  queriesInQrels: number;
  /** Of those, queries the run answered. */
  queriesRanked: number;
}

export function msmarcoMrr(qrels: Qrels, run: Run, options: MsMarcoMrrOptions = {}): MsMarcoMrr {
  const cutoff = options.cutoff ?? 10;
  const level = options.relevanceLevel ?? 1;
  let sum = 0;
  let ranked = 0;
  for (const [qid, hits] of run.queries) {
    const judgments = qrels.get(qid);
    if (!judgments) continue;
    ranked++;
    // The official script orders by the rank column (stable: equal ranks keep file order); a TREC run
    // whose rank column is not all integers falls back to trec_eval's score order.
    const ordered = hits.every((h) => Number.isFinite(h.rank)) ? [...hits].sort((a, b) => a.rank! - b.rank!) : rankHits(hits);
    for (let i = 0; i < Math.min(cutoff, ordered.length); i++) {
      if ((judgments.get(ordered[i]!.id) ?? -1) >= level) {
        sum += 1 / (i + 1);
        break;
      }
    }
  }
  if (ranked === 0) throw new DensekitError('no run query appears in the qrels: are you scoring the right query set?');
  return { mrr: sum / qrels.size, queriesInQrels: qrels.size, queriesRanked: ranked };
}
