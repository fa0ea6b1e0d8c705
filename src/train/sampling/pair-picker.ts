/**
 * How a query's training pair is chosen each time the query is drawn: `bins` (TAS-Balanced balanced margin
 * sampling) or `random` (uniform over the query's pairs).
 */
import type { Rng } from '../rng.js';
import type { PairsByQuery, ScoredPair } from '../data/pairs.js';
import { MarginBins } from './margin-bins.js';

export type PairStrategy = 'bins' | 'random';

export class PairPicker {
  private readonly binned = new Map<string, MarginBins>();

  constructor(private readonly pairs: PairsByQuery, readonly strategy: PairStrategy) {
    if (strategy === 'bins') {
      for (const [qid, list] of pairs) {
        if (list.some((p) => Number.isNaN(p.posScore) || Number.isNaN(p.negScore))) {
          throw new RangeError(`balanced margin sampling needs teacher scores, query ${JSON.stringify(qid)} has pairs without`);
        }
        this.binned.set(qid, new MarginBins(list));
      }
    }
  }

  get queryIds(): string[] {
    return [...this.pairs.keys()];
  }

  has(qid: string): boolean {
    return this.pairs.has(qid);
  }

  pick(qid: string, rng: Rng): ScoredPair {
    if (this.strategy === 'bins') return this.binned.get(qid)!.sample(rng);
    const list = this.pairs.get(qid)!;
    return list[rng.int(list.length)]!;
  }
}

/** One training example: a query and the pair drawn for it. */
export interface SampledExample {
  qid: string;
  pair: ScoredPair;
  /** The cluster it was drawn from (cluster sampling only), for diagnostics and tests. */
  cluster?: number;
}
