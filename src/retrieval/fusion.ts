/**
 * Fusing ranked runs, as Pyserini does:
 * - 'rrf' (pyserini.fusion.reciprocal_rank_fusion): score(d) = sum over runs of 1 / (rrfK + rank of d in
 *   that run), ranks 1-based over each run's first `depth` hits in trec_eval order.
 * - 'linear' (pyserini HybridSearcher._hybrid_results): per query and run, a document the run did not return
 *   takes the run's minimum score; with `normalize`, each score becomes (s - (min + max) / 2) / (max - min);
 *   score(d) = sum of weights[i] * s_i(d). Pyserini's hybrid default is dense + 0.1 * sparse: pass
 *   weights [1, 0.1] with the dense run first to reproduce it.
 * Output hits are ordered score desc then id desc (trec_eval's order) and cut to `k`.
 */
import { UsageError } from '../errors.js';
import { compareHits } from './hits.js';
import type { Hit } from './types.js';

export type FusionMethod = 'rrf' | 'linear';

/** qid -> hits (any order; they are ranked before fusing). */
export type RunHits = Map<string, Hit[]>;

export interface FuseOptions {
  method: FusionMethod;
  /** Hits kept per query in the output (default 1000). */
  k?: number;
  /** Hits per query read from each input run (default 1000, Pyserini's depth). */
  depth?: number;
  /** RRF's k constant (default 60). */
  rrfK?: number;
  /** linear: one weight per run (default 1 each). */
  weights?: number[];
  /** linear: mid-range normalization as HybridSearcher's `normalization=True` (default true). */
  normalize?: boolean;
}

export function fuse(runs: RunHits[], opts: FuseOptions): RunHits {
  if (runs.length < 2) throw new UsageError('fusion needs at least two runs');
  const k = opts.k ?? 1000;
  const depth = opts.depth ?? 1000;
  const rrfK = opts.rrfK ?? 60;
  for (const [name, v] of [['k', k], ['depth', depth]] as const)
    if (!Number.isInteger(v) || v <= 0) throw new UsageError(`fusion ${name} must be a positive integer, got ${v}`);
  if (!(Number.isFinite(rrfK) && rrfK >= 0)) throw new UsageError(`RRF k must be a non-negative number, got ${rrfK}`);
  const weights = opts.weights ?? runs.map(() => 1);
  if (weights.length !== runs.length) throw new UsageError(`${weights.length} fusion weights for ${runs.length} runs`);
  if (weights.some((w) => !Number.isFinite(w))) throw new UsageError(`fusion weights must be numbers, got ${weights.join(',')}`);
  const normalize = opts.normalize ?? true;

  const qids: string[] = [];
  const seen = new Set<string>();
  for (const run of runs) for (const q of run.keys()) if (!seen.has(q)) { seen.add(q); qids.push(q); }

  const out: RunHits = new Map();
  for (const qid of qids) {
    const lists = runs.map((run) => [...(run.get(qid) ?? [])].sort(compareHits).slice(0, depth));
    const fused = new Map<string, number>();
    if (opts.method === 'rrf') {
      for (const list of lists) list.forEach((h, i) => fused.set(h.id, (fused.get(h.id) ?? 0) + 1 / (rrfK + i + 1)));
    } else if (opts.method === 'linear') {
      const stats = lists.map((list) => {
        if (list.length === 0) return { min: 0, max: 1, scores: new Map<string, number>() };
        let min = Infinity, max = -Infinity;
        for (const h of list) { min = Math.min(min, h.score); max = Math.max(max, h.score); }
        return { min, max, scores: new Map(list.map((h) => [h.id, h.score])) };
      });
      for (const list of lists) for (const h of list) fused.set(h.id, 0);
      for (const id of fused.keys()) {
        let total = 0;
        stats.forEach((s, i) => {
          let v = s.scores.get(id) ?? s.min;
          // A run whose hits all tie carries no ranking signal; Pyserini would divide by zero here.
          if (normalize) v = s.max > s.min ? (v - (s.min + s.max) / 2) / (s.max - s.min) : 0;
          total += weights[i]! * v;
        });
        fused.set(id, total);
      }
    } else {
      throw new UsageError(`fusion method must be rrf or linear, got ${String(opts.method)}`);
    }
    const hits = [...fused].map(([id, score]) => ({ id, score })).sort(compareHits);
    if (hits.length > k) hits.length = k;
    out.set(qid, hits);
  }
  return out;
}
