/**
 * trec_eval's judgment-group measures (`-R qrels_jg`): map, P and Rprec_mult computed against each group's
 * judgments separately and averaged over the groups (m_map_avgjg.c, m_P_avgjg.c, m_Rprec_mult_avgjg.c).
 */
import type { JudgedRanking } from './judged-ranking.js';
import type { EvalContext, MeasureDefinition } from './measure-types.js';

const RANK_CUTOFFS = [5, 10, 15, 20, 30, 100, 200, 500, 1000];
const R_MULTIPLES = [0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0];

/** Sums `perGroup` over the groups, then divides by their number when there are several (as trec_eval). */
function averaged(groups: JudgedRanking[], width: number, perGroup: (r: JudgedRanking, out: number[]) => void): number[] {
  const out = new Array<number>(width).fill(0);
  for (const r of groups) perGroup(r, out);
  if (groups.length > 1) for (let i = 0; i < width; i++) out[i]! /= groups.length;
  return out;
}

function mapOf(r: JudgedRanking, ctx: EvalContext, out: number[]): void {
  let relSoFar = 0;
  let sum = 0;
  for (let i = 0; i < r.numRet; i++) {
    if (r.rels[i]! >= ctx.relevanceLevel) {
      relSoFar++;
      sum += relSoFar / (i + 1);
    }
  }
  if (relSoFar) out[0]! += sum / r.numRel;
}

function precisionAt(r: JudgedRanking, cutoffs: number[], ctx: EvalContext, out: number[]): void {
  let ci = 0;
  let relSoFar = 0;
  for (let i = 0; i < r.numRet; i++) {
    if (i === cutoffs[ci]) {
      out[ci]! += relSoFar / i;
      if (++ci === cutoffs.length) break;
    }
    if (r.rels[i]! >= ctx.relevanceLevel) relSoFar++;
  }
  for (; ci < cutoffs.length; ci++) out[ci]! += relSoFar / cutoffs[ci]!;
}

/** Precision at multiples of R; the cutoffs keep trec_eval 9's trunc(pct * R + 0.9), as trec_eval 10 does here. */
function precisionAtRMultiples(r: JudgedRanking, multiples: number[], ctx: EvalContext, out: number[]): void {
  const cutoffs = multiples.map((pct) => Math.trunc(pct * r.numRel + 0.9));
  let cut = cutoffs.length - 1;
  while (cut >= 0 && cutoffs[cut]! > r.numRet) {
    out[cut]! += r.numRelRet / cutoffs[cut]!;
    cut--;
  }
  let relSoFar = r.numRelRet;
  for (let i = r.numRet; i > 0 && relSoFar > 0; i--) {
    const precis = relSoFar / i;
    while (cut >= 0 && i === cutoffs[cut]) out[cut--]! += precis;
    if (r.rels[i - 1]! >= ctx.relevanceLevel) relSoFar--;
  }
}

export const JG_MEASURES: readonly MeasureDefinition[] = [
  {
    name: 'map_avgjg', paramKind: 'none', defaults: [], valueKind: 'float', averaging: 'mean', perQuery: true, summary: true,
    compute: (q, _p, ctx) => averaged(q.groups(), 1, (r, out) => mapOf(r, ctx, out)),
  },
  {
    name: 'P_avgjg', paramKind: 'longCutoffs', defaults: RANK_CUTOFFS, valueKind: 'float', averaging: 'mean', perQuery: true, summary: true,
    compute: (q, p, ctx) => averaged(q.groups(), p.values.length, (r, out) => precisionAt(r, p.values, ctx, out)),
  },
  {
    name: 'Rprec_mult_avgjg', paramKind: 'doubleCutoffs', defaults: R_MULTIPLES, valueKind: 'float', averaging: 'mean', perQuery: true, summary: true,
    compute: (q, p, ctx) => averaged(q.groups(), p.values.length, (r, out) => precisionAtRMultiples(r, p.values, ctx, out)),
  },
];
