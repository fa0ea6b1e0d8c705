/**
 * TAS-Balanced "balanced margin sampling": a query's teacher margins (pos_score - neg_score) are cut into
 * 10 equal-width bins between their minimum and maximum; a training pair is drawn by choosing a non-empty
 * bin uniformly, then a pair uniformly inside it. So easy and hard pairs are seen equally often, whatever
 * their counts.
 *
 * Bin edges follow the released loader exactly (`np.digitize(m, np.arange(min, max, (max - min) / 10))`):
 * edge k is `min + k * width` in float64 and a margin lands in the last bin whose edge is <= it. Two guards
 * the released code lacks: when float rounding makes `arange` produce an 11th edge just below the maximum,
 * the top margin still goes to bin 9 (Python would index past the end); and a zero-width range (one pair,
 * or all margins equal) puts every pair in bin 0, where the released code drops such queries.
 */
import type { Rng } from '../rng.js';
import type { ScoredPair } from '../data/pairs.js';

export const MARGIN_BIN_COUNT = 10;

/** Bin index (0..binCount-1) of each margin, as np.digitize over np.arange edges. */
export function marginBinIndices(margins: readonly number[], binCount = MARGIN_BIN_COUNT): number[] {
  let min = Infinity;
  let max = -Infinity;
  for (const m of margins) {
    if (m < min) min = m;
    if (m > max) max = m;
  }
  const width = (max - min) / binCount;
  if (!(width > 0)) return margins.map(() => 0);
  const edges: number[] = [];
  for (let k = 0; k < binCount; k++) edges.push(min + k * width);
  return margins.map((m) => {
    let bin = 0;
    while (bin + 1 < binCount && edges[bin + 1]! <= m) bin++;
    return bin;
  });
}

/** One query's pairs grouped into margin bins; only the non-empty bins are kept (the choice is among them). */
export class MarginBins {
  readonly bins: ScoredPair[][];
  /** Bin number (0..9) of each entry of `bins`, for diagnostics and tests. */
  readonly binNumbers: number[];

  constructor(pairs: readonly ScoredPair[], binCount = MARGIN_BIN_COUNT) {
    if (pairs.length === 0) throw new RangeError('MarginBins needs at least one pair');
    const indices = marginBinIndices(pairs.map((p) => p.posScore - p.negScore), binCount);
    const all: ScoredPair[][] = Array.from({ length: binCount }, () => []);
    pairs.forEach((p, i) => all[indices[i]!]!.push(p));
    this.bins = [];
    this.binNumbers = [];
    all.forEach((b, i) => {
      if (b.length > 0) {
        this.bins.push(b);
        this.binNumbers.push(i);
      }
    });
  }

  /** A non-empty bin uniformly, then a pair uniformly in it (the released loader's rejection loop, drawn directly). */
  sample(rng: Rng): ScoredPair {
    const bin = this.bins[rng.int(this.bins.length)]!;
    return bin[rng.int(bin.length)]!;
  }
}
