/**
 * trec_eval 10.0's measures, one definition each, in the order trec_eval computes and prints them. Every
 * per-query computation follows trec_eval's own loop (same cutoffs handling, same empty-query rules, same
 * summation order) so values agree to the last bit rather than "up to formula".
 */
import { NONPOOL, UNJUDGED, type JudgedRanking } from './judged-ranking.js';
import type { EvalContext, MeasureDefinition, MeasureParams, ParamPair } from './measure-types.js';
import { PREFS_MEASURES } from './measures-prefs.js';
import { JG_MEASURES } from './measures-jg.js';
import { lround } from '../util/c-numbers.js';

export type { Averaging, EvalContext, MeasureDefinition, MeasureParams, ParamKind, ParamPair, QueryData, ValueKind } from './measure-types.js';

const MIN_GEO_MEAN = 0.00001;
const INFAP_EPSILON = 0.00001;
const RANK_CUTOFFS = [5, 10, 15, 20, 30, 100, 200, 500, 1000];
const RECALL_POINTS = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

function single(name: string, compute: (r: JudgedRanking, ctx: EvalContext) => number, extra: Partial<MeasureDefinition> = {}): MeasureDefinition {
  return {
    name, paramKind: 'none', defaults: [], valueKind: 'float', averaging: 'mean', perQuery: true, summary: true,
    compute: (q, _p, ctx) => [compute(q.ranking(), ctx)], ...extra,
  };
}

function counter(name: string, compute: (r: JudgedRanking) => number): MeasureDefinition {
  return single(name, (r) => compute(r), { valueKind: 'long', averaging: 'sum' });
}

function atCutoffs(name: string, defaults: number[], compute: (r: JudgedRanking, cutoffs: number[], ctx: EvalContext) => number[]): MeasureDefinition {
  return {
    name, paramKind: 'longCutoffs', defaults, valueKind: 'float', averaging: 'mean', perQuery: true, summary: true,
    compute: (q, p, ctx) => compute(q.ranking(), p.values, ctx),
  };
}

/**
 * trec_eval's cutoff loop: walks the ranking once, recording `value(i)` when rank i is a cutoff, and fills the
 * cutoffs beyond the ranking with `value(cutoff)` (as if non-relevant documents padded the list).
 */
function cutoffScan(
  r: JudgedRanking, cutoffs: number[], step: (rel: number) => void,
  atCut: (i: number) => number, beyond: (cutoff: number) => number,
): number[] {
  const out = new Array<number>(cutoffs.length).fill(0);
  let ci = 0;
  for (let i = 0; i < r.numRet; i++) {
    if (i === cutoffs[ci]) {
      out[ci] = atCut(i);
      if (++ci === cutoffs.length) break;
    }
    step(r.rels[i]!);
  }
  for (; ci < cutoffs.length; ci++) out[ci] = beyond(cutoffs[ci]!);
  return out;
}

function averagePrecision(r: JudgedRanking, level: number): { sum: number; relSoFar: number } {
  let relSoFar = 0;
  let sum = 0;
  for (let i = 0; i < r.numRet; i++) {
    if (r.rels[i]! >= level) {
      relSoFar++;
      sum += relSoFar / (i + 1);
    }
  }
  return { sum, relSoFar };
}

function bpref(r: JudgedRanking, level: number): number {
  let numNonrel = 0;
  for (let j = 0; j < level; j++) numNonrel += r.relLevels[j] ?? 0;
  let nonrelSoFar = 0;
  let value = 0;
  for (let j = 0; j < r.numRet; j++) {
    const rel = r.rels[j]!;
    if (rel === NONPOOL || rel === UNJUDGED) continue;
    if (rel >= 0 && rel < level) nonrelSoFar++;
    else if (nonrelSoFar > 0) value += 1.0 - Math.min(nonrelSoFar, r.numRel) / Math.min(numNonrel, r.numRel);
    else value += 1.0;
  }
  return r.numRel ? value / r.numRel : value;
}

/** Interpolated precision at recall points (shared by iprec_at_recall and 11pt_avg). */
function interpolatedPrecision(r: JudgedRanking, points: number[], level: number): number[] {
  const out = new Array<number>(points.length).fill(0);
  // trec_eval 10 rounds (lround); 9.x used trunc(pct * R + 0.9), which Rprec_mult still does.
  const cutoffs = points.map((pct) => lround(pct * r.numRel));
  let cut = points.length - 1;
  while (cut >= 0 && cutoffs[cut]! > r.numRelRet) cut--;
  let precis = r.numRelRet / r.numRet;
  let intPrecis = precis;
  let relSoFar = r.numRelRet;
  for (let i = r.numRet; i > 0 && relSoFar > 0; i--) {
    precis = relSoFar / i;
    if (intPrecis < precis) intPrecis = precis;
    if (r.rels[i - 1]! >= level) {
      while (cut >= 0 && relSoFar === cutoffs[cut]) out[cut--] = intPrecis;
      relSoFar--;
    }
  }
  while (cut >= 0) out[cut--] = intPrecis;
  return out;
}

interface Gain {
  level: number;
  gain: number;
  count: number;
}

/** trec_eval's setup_gains: gain = grade unless overridden by `level=gain` parameters; sorted by gain. */
function setupGains(r: JudgedRanking, pairs: ParamPair[]): Gain[] {
  const gains: Gain[] = [];
  for (const p of pairs) if (/^[+-]?\d+$/.test(p.name)) gains.push({ level: parseInt(p.name, 10), gain: p.value, count: 0 });
  for (let i = 0; i < r.numRelLevels; i++) {
    const j = gains.findIndex((g) => g.level === i);
    if (j >= 0) gains[j]!.count = r.relLevels[i]!;
    else gains.push({ level: i, gain: i, count: r.relLevels[i]! });
  }
  // trec_eval compares gains as (int)(g1 - g2); glibc's qsort is a stable merge sort, as is Array.sort.
  return gains.sort((a, b) => Math.trunc(a.gain - b.gain));
}

function gainOf(rel: number, gains: Gain[]): number {
  for (const g of gains) if (g.level === rel) return g.gain;
  return 0;
}

/** Walks the ideal ranking's gains level by level (highest gain first), as trec_eval's ndcg loops do. */
class IdealGains {
  private cur: number;
  private numAtLevel = 0;
  gain: number;
  constructor(private readonly gains: Gain[]) {
    this.cur = gains.length - 1;
    this.gain = this.cur >= 0 ? gains[this.cur]!.gain : 0;
  }
  next(): number {
    this.numAtLevel++;
    while (this.cur >= 0 && this.numAtLevel > this.gains[this.cur]!.count) {
      this.numAtLevel = 1;
      this.cur--;
      this.gain = this.cur >= 0 ? this.gains[this.cur]!.gain : 0;
    }
    return this.gain;
  }
}

function dcgs(r: JudgedRanking, pairs: ParamPair[]): { dcg: number; ideal: number } {
  const gains = setupGains(r, pairs);
  const ideal = new IdealGains(gains);
  let dcg = 0;
  let idcg = 0;
  let i = 0;
  for (; i < r.numRet && ideal.gain > 0; i++) {
    const g = gainOf(r.rels[i]!, gains);
    if (g !== 0) dcg += g / Math.log2(i + 2);
    if (ideal.next() > 0) idcg += ideal.gain / Math.log2(i + 2);
  }
  for (; i < r.numRet; i++) {
    const g = gainOf(r.rels[i]!, gains);
    if (g !== 0) dcg += g / Math.log2(i + 2);
  }
  for (; ideal.gain > 0; i++) if (ideal.next() > 0) idcg += ideal.gain / Math.log2(i + 2);
  return { dcg, ideal: idcg };
}

function ndcgRel(r: JudgedRanking, pairs: ParamPair[]): number {
  const gains = setupGains(r, pairs);
  const ideal = new IdealGains(gains);
  let dcg = 0;
  let idcg = 0;
  let sum = 0;
  let numRelRet = 0;
  let numRel = 0;
  let i = 0;
  for (; i < r.numRet && ideal.gain > 0; i++) {
    const g = gainOf(r.rels[i]!, gains);
    if (g !== 0) dcg += g / Math.log2(i + 2);
    if (ideal.next() > 0) {
      numRel++;
      idcg += ideal.gain / Math.log2(i + 2);
    }
    if (g > 0) {
      sum += dcg / idcg;
      numRelRet++;
    }
  }
  for (; i < r.numRet; i++) {
    const g = gainOf(r.rels[i]!, gains);
    if (g !== 0) dcg += g / Math.log2(i + 2);
    if (g > 0) {
      sum += dcg / idcg;
      numRelRet++;
    }
  }
  for (; ideal.gain > 0; i++) {
    if (ideal.next() > 0) {
      numRel++;
      idcg += ideal.gain / Math.log2(i + 2);
    }
  }
  sum += ((numRel - numRelRet) * dcg) / idcg;
  return sum > 0 ? sum / numRel : 0;
}

function rndcg(r: JudgedRanking, pairs: ParamPair[]): number {
  const gains = setupGains(r, pairs);
  if (r.numRel === 0) return 0;
  const ideal = new IdealGains(gains);
  let oldIdealGain = ideal.gain;
  let changes = 0;
  let dcg = 0;
  let idcg = 0;
  let sum = 0;
  let i = 0;
  const boundary = () => {
    if (oldIdealGain !== ideal.gain) {
      if (idcg > 0) {
        sum += dcg / idcg;
        changes++;
      }
      oldIdealGain = ideal.gain;
    }
  };
  for (; i < r.numRet && ideal.gain > 0; i++) {
    const g = gainOf(r.rels[i]!, gains);
    ideal.next();
    boundary();
    if (g !== 0) dcg += g / Math.log2(i + 2);
    if (ideal.gain > 0) idcg += ideal.gain / Math.log2(i + 2);
  }
  if (i < r.numRet) {
    for (; i < r.numRet; i++) {
      const g = gainOf(r.rels[i]!, gains);
      if (g !== 0) dcg += g / Math.log2(i + 2);
    }
    if (idcg > 0) {
      sum += dcg / idcg;
      changes++;
    }
  }
  for (; ideal.gain > 0; i++) {
    ideal.next();
    boundary();
    if (ideal.gain > 0) idcg += ideal.gain / Math.log2(i + 2);
  }
  return sum / changes;
}

function gMeasure(r: JudgedRanking, pairs: ParamPair[]): number {
  const gains = setupGains(r, pairs);
  const ideal = new IdealGains(gains);
  const minCost = 1.0;
  let g = 0;
  let sumResults = 0;
  let sumIdeal = 0;
  let sumCost = 0;
  let i = 0;
  for (; i < r.numRet && ideal.gain > 0; i++) {
    const gain = gainOf(r.rels[i]!, gains);
    sumResults += gain;
    const ig = ideal.next();
    if (ig > 0) sumIdeal += ig;
    sumCost += ig >= minCost ? ig : minCost;
    if (gain !== 0) g += gain / Math.log2(2 + sumCost - sumResults);
  }
  for (; i < r.numRet; i++) {
    const gain = gainOf(r.rels[i]!, gains);
    sumResults += gain;
    sumCost += minCost;
    if (gain !== 0) g += gain / Math.log2(2 + sumCost - sumResults);
  }
  for (; ideal.gain > 0; i++) if (ideal.next() > 0) sumIdeal += ideal.gain;
  return sumIdeal > 0 ? g / sumIdeal : 0;
}

function ndcgCut(r: JudgedRanking, cutoffs: number[]): number[] {
  // Gain = the grade itself (trec_eval ignores -l and gain parameters here).
  let sum = 0;
  const values = new Array<number>(cutoffs.length).fill(0);
  let ci = 0;
  for (let i = 0; i < r.numRet; i++) {
    if (i === cutoffs[ci]) {
      values[ci] = sum;
      if (++ci === cutoffs.length) break;
    }
    const gain = r.rels[i]!;
    if (gain > 0) sum += gain / Math.log2(i + 2);
  }
  for (; ci < cutoffs.length; ci++) values[ci] = sum;
  // Ideal dcg: grades from the highest down to 1, one document per judged document.
  let cur = r.numRelLevels - 1;
  let count = 0;
  let idcg = 0;
  ci = 0;
  for (let i = 0; cur > 0; i++) {
    count++;
    while (cur > 0 && count > r.relLevels[cur]!) {
      cur--;
      count = 1;
    }
    if (cur <= 0) break;
    if (i === cutoffs[ci]) {
      if (idcg > 0) values[ci]! /= idcg;
      if (++ci === cutoffs.length) break;
    }
    idcg += cur / Math.log2(i + 2);
  }
  for (; ci < cutoffs.length; ci++) if (idcg > 0) values[ci]! /= idcg;
  return values;
}

function rbp(r: JudgedRanking, pairs: ParamPair[], ctx: EvalContext): number {
  let p = 0.9;
  for (const pair of pairs) if (pair.name === 'p') p = pair.value;
  const gains = setupGains(r, pairs);
  let min = Infinity;
  let max = -Infinity;
  // trec_eval's m_rbp.c never initializes min and max, so they start from whatever the previous measure left
  // on the stack. In the trec_eval 10.0-rc3 reference build, when yaap is computed just before rbp (its place
  // in the measure order), max starts at yaap's running sum, which rescales every gain when that sum exceeds
  // the largest gain; we reproduce that case. Otherwise the leftovers are no larger than the gains in every
  // reference output we have, i.e. the same as starting from the gains themselves.
  if (ctx.previousMeasure === 'yaap') max = averagePrecision(r, ctx.relevanceLevel).sum;
  for (const g of gains) {
    if (g.gain < min) min = g.gain;
    if (g.gain > max) max = g.gain;
  }
  if (min < 0 || max > 1) for (const g of gains) g.gain = (g.gain - min) / (max - min);
  let sum = 0;
  let curP = 1.0;
  for (let i = 0; i < r.numRet; i++) {
    const gain = gainOf(r.rels[i]!, gains);
    if (gain !== 0) sum += gain * curP;
    curP *= p;
  }
  return (1.0 - p) * sum;
}

/** The share of rbp left undecided by unjudged documents; trec_eval fixes p at 0.9 and takes no parameters. */
function rbpResidual(r: JudgedRanking): number {
  const p = 0.9;
  let unjudged = 0;
  let sum = 0;
  let curP = 1.0;
  for (let i = 0; i < r.numRet; i++) {
    if (r.rels[i]! < 0) {
      unjudged++;
      sum += curP;
    }
    curP *= p;
  }
  return unjudged ? curP + (1 - p) * sum : 0;
}

function relString(r: JudgedRanking, length: number): string {
  const len = Math.max(0, Math.min(Math.trunc(length), r.numRet));
  let s = '';
  for (let i = 0; i < len; i++) {
    const rel = r.rels[i]!;
    s += rel > 9 ? '>' : rel >= 0 ? String(rel) : rel === NONPOOL ? '-' : rel === UNJUDGED ? '.' : '<';
  }
  return s;
}

const withGains = (name: string, compute: (r: JudgedRanking, pairs: ParamPair[], ctx: EvalContext) => number, extraDefaults: number[] = []): MeasureDefinition => ({
  name, paramKind: 'pairs', defaults: extraDefaults, valueKind: 'float', averaging: 'mean', perQuery: true, summary: true,
  compute: (q, p, ctx) => [compute(q.ranking(), p.pairs, ctx)],
});

const withDoubles = (name: string, defaults: number[], compute: (r: JudgedRanking, params: number[], ctx: EvalContext) => number): MeasureDefinition => ({
  name, paramKind: 'doubleParams', defaults, valueKind: 'float', averaging: 'mean', perQuery: true, summary: true,
  compute: (q, p, ctx) => [compute(q.ranking(), p.values, ctx)],
});

/** In trec_eval's computation and printing order (measures.c). */
export const MEASURES: readonly MeasureDefinition[] = [
  {
    name: 'runid', paramKind: 'none', defaults: [], valueKind: 'string', averaging: 'runid', perQuery: false, summary: true,
    compute: () => '',
  },
  {
    name: 'num_q', paramKind: 'none', defaults: [], valueKind: 'long', averaging: 'count', perQuery: false, summary: true,
    compute: () => [1],
  },
  counter('num_ret', (r) => r.numRet),
  counter('num_rel', (r) => r.numRel),
  counter('num_rel_ret', (r) => r.numRelRet),
  single('map', (r, ctx) => {
    const { sum, relSoFar } = averagePrecision(r, ctx.relevanceLevel);
    return relSoFar ? sum / r.numRel : 0;
  }),
  single('gm_map', (r, ctx) => {
    let { sum, relSoFar } = averagePrecision(r, ctx.relevanceLevel);
    if (relSoFar) sum = sum / r.numRel;
    return Math.log(Math.max(sum, MIN_GEO_MEAN));
  }, { averaging: 'geometric', perQuery: false }),
  single('Rprec', (r, ctx) => {
    const look = Math.min(r.numRet, r.numRel);
    if (look === 0) return 0;
    let relSoFar = 0;
    for (let i = 0; i < look; i++) if (r.rels[i]! >= ctx.relevanceLevel) relSoFar++;
    return relSoFar / r.numRel;
  }),
  single('bpref', (r, ctx) => bpref(r, ctx.relevanceLevel)),
  single('recip_rank', (r, ctx) => {
    for (let i = 0; i < r.numRet; i++) if (r.rels[i]! >= ctx.relevanceLevel) return 1.0 / (i + 1);
    return 0;
  }),
  {
    name: 'iprec_at_recall', paramKind: 'doubleCutoffs', defaults: RECALL_POINTS, valueKind: 'float', averaging: 'mean', perQuery: true, summary: true,
    compute: (q, p, ctx) => interpolatedPrecision(q.ranking(), p.values, ctx.relevanceLevel),
  },
  atCutoffs('P', RANK_CUTOFFS, (r, cutoffs, ctx) => {
    let relSoFar = 0;
    return cutoffScan(r, cutoffs, (rel) => { if (rel >= ctx.relevanceLevel) relSoFar++; }, (i) => relSoFar / i, (c) => relSoFar / c);
  }),
  {
    name: 'relstring', paramKind: 'doubleParams', defaults: [10], valueKind: 'string', averaging: 'none', perQuery: true, summary: false,
    compute: (q, p) => relString(q.ranking(), p.values[0] ?? 10),
  },
  atCutoffs('recall', RANK_CUTOFFS, (r, cutoffs, ctx) => {
    if (r.numRel === 0) return cutoffs.map(() => 0);
    let relSoFar = 0;
    return cutoffScan(r, cutoffs, (rel) => { if (rel >= ctx.relevanceLevel) relSoFar++; }, () => relSoFar / r.numRel, () => relSoFar / r.numRel);
  }),
  single('infAP', (r, ctx) => {
    let nonrelSoFar = 0;
    let relSoFar = 0;
    let unjudgedSoFar = 0;
    let infAp = 0;
    for (let j = 0; j < r.numRet; j++) {
      const rel = r.rels[j]!;
      if (rel === NONPOOL) continue;
      if (rel === UNJUDGED) {
        unjudgedSoFar++;
        continue;
      }
      if (rel >= 0 && rel < ctx.relevanceLevel) nonrelSoFar++;
      else {
        relSoFar++;
        if (j === 0) infAp += 1.0;
        else {
          const fj = j;
          infAp += 1.0 / (fj + 1.0) + (fj / (fj + 1.0)) * ((relSoFar - 1 + nonrelSoFar + unjudgedSoFar) / fj)
            * ((relSoFar - 1 + INFAP_EPSILON) / (relSoFar - 1 + nonrelSoFar + 2 * INFAP_EPSILON));
        }
      }
    }
    return r.numRel ? infAp / r.numRel : infAp;
  }),
  single('gm_bpref', (r, ctx) => Math.log(Math.max(bpref(r, ctx.relevanceLevel), MIN_GEO_MEAN)), { averaging: 'geometric', perQuery: false }),
  {
    name: 'Rprec_mult', paramKind: 'doubleCutoffs', defaults: [0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0], valueKind: 'float', averaging: 'mean', perQuery: true, summary: true,
    compute: (q, p, ctx) => {
      const r = q.ranking();
      const out = new Array<number>(p.values.length).fill(0);
      const cutoffs = p.values.map((pct) => Math.trunc(pct * r.numRel + 0.9));
      let cut = cutoffs.length - 1;
      while (cut >= 0 && cutoffs[cut]! > r.numRet) {
        out[cut] = r.numRelRet / cutoffs[cut]!;
        cut--;
      }
      let relSoFar = r.numRelRet;
      for (let i = r.numRet; i > 0 && relSoFar > 0; i--) {
        const precis = relSoFar / i;
        while (cut >= 0 && i === cutoffs[cut]) out[cut--] = precis;
        if (r.rels[i - 1]! >= ctx.relevanceLevel) relSoFar--;
      }
      return out;
    },
  },
  withDoubles('utility', [1.0, -1.0, 0.0, 0.0], (r, q, ctx) => {
    if (q.length !== 4) throw new RangeError('utility needs exactly 4 coefficients');
    return q[0]! * r.numRelRet + q[1]! * (r.numRet - r.numRelRet) + q[2]! * (r.numRel - r.numRelRet)
      + q[3]! * (ctx.numDocsInCollection + r.numRelRet - r.numRet - r.numRel);
  }),
  withDoubles('11pt_avg', RECALL_POINTS, (r, points, ctx) => {
    if (points.length === 0) throw new RangeError('11pt_avg needs at least one recall point');
    let sum = 0;
    // trec_eval keeps double parameters in the given order (no sort), so neither do we.
    for (const v of interpolatedPrecision(r, points, ctx.relevanceLevel)) sum += v;
    return sum / points.length;
  }),
  single('binG', (r, ctx) => {
    let relSoFar = 0;
    let sum = 0;
    for (let i = 0; i < r.numRet; i++) {
      if (r.rels[i]! >= ctx.relevanceLevel) {
        relSoFar++;
        sum += 1.0 / Math.log2(3 + i - relSoFar);
      }
    }
    return relSoFar ? sum / r.numRel : 0;
  }),
  withGains('G', gMeasure),
  withGains('dcg', (r, pairs) => dcgs(r, pairs).dcg),
  withGains('ideal_dcg', (r, pairs) => dcgs(r, pairs).ideal),
  withGains('ndcg', (r, pairs) => {
    const { dcg, ideal } = dcgs(r, pairs);
    return ideal > 0 ? dcg / ideal : 0;
  }),
  withGains('ndcg_rel', ndcgRel),
  withGains('Rndcg', rndcg),
  atCutoffs('ndcg_cut', RANK_CUTOFFS, (r, cutoffs) => ndcgCut(r, cutoffs)),
  atCutoffs('map_cut', RANK_CUTOFFS, (r, cutoffs, ctx) => {
    if (r.numRel === 0) return cutoffs.map(() => 0);
    let relSoFar = 0;
    let sum = 0;
    const values = new Array<number>(cutoffs.length).fill(0);
    let ci = 0;
    for (let i = 0; i < r.numRet; i++) {
      if (i === cutoffs[ci]) {
        values[ci] = sum / r.numRel;
        if (++ci === cutoffs.length) break;
      }
      if (r.rels[i]! >= ctx.relevanceLevel) {
        relSoFar++;
        sum += relSoFar / (i + 1);
      }
    }
    for (; ci < cutoffs.length; ci++) values[ci] = sum / r.numRel;
    return values;
  }),
  atCutoffs('relative_P', RANK_CUTOFFS, (r, cutoffs, ctx) => {
    if (r.numRel === 0) return cutoffs.map(() => 0);
    let relSoFar = 0;
    const at = (i: number) => relSoFar / (i > r.numRel ? r.numRel : i);
    return cutoffScan(r, cutoffs, (rel) => { if (rel >= ctx.relevanceLevel) relSoFar++; }, at, at);
  }),
  atCutoffs('success', [1, 5, 10], (r, cutoffs, ctx) => {
    let relSoFar = 0;
    const at = () => (relSoFar ? 1.0 : 0.0);
    return cutoffScan(r, cutoffs, (rel) => { if (rel >= ctx.relevanceLevel) relSoFar++; }, at, at);
  }),
  single('set_P', (r) => (r.numRet ? r.numRelRet / r.numRet : 0)),
  single('set_relative_P', (r) => (r.numRet && r.numRel ? r.numRelRet / Math.min(r.numRet, r.numRel) : 0)),
  single('set_recall', (r) => (r.numRel ? r.numRelRet / r.numRel : 0)),
  single('set_map', (r) => (r.numRet && r.numRel ? (r.numRelRet * r.numRelRet) / (r.numRet * r.numRel) : 0)),
  withDoubles('set_F', [1.0], (r, q) => {
    if (!r.numRelRet) return 0;
    const P = r.numRelRet / r.numRet;
    const R = r.numRelRet / r.numRel;
    const x = q[0]!;
    return ((x + 1.0) * P * R) / (x * P + R);
  }),
  counter('num_nonrel_judged_ret', (r) => r.numRet - r.numNonpool - r.numUnjudgedInPool - r.numRelRet),
  ...PREFS_MEASURES,
  ...JG_MEASURES,
  single('yaap', (r, ctx) => {
    // Robertson's "yet another average precision": log((1 + sum) / (1 + R - sum)) over the AP summands.
    const { sum } = averagePrecision(r, ctx.relevanceLevel);
    return Math.log((1.0 + sum) / (1.0 + r.numRel - sum));
  }),
  withGains('rbp', rbp),
  single('rbp_resid', rbpResidual),
  atCutoffs('unj', [5, 10, 20], (r, cutoffs) => {
    let unjudged = 0;
    return cutoffScan(r, cutoffs, (rel) => { if (rel === NONPOOL || rel === UNJUDGED) unjudged++; }, (i) => unjudged / i, (c) => unjudged / c);
  }),
];

/** Measure-name nicknames accepted by -m. */
export const NICKNAMES: Readonly<Record<string, readonly string[]>> = {
  official: ['runid', 'num_q', 'num_ret', 'num_rel', 'num_rel_ret', 'map', 'gm_map', 'Rprec', 'bpref', 'recip_rank', 'iprec_at_recall', 'P'],
  set: ['runid', 'num_q', 'num_ret', 'num_rel', 'num_rel_ret', 'utility', 'set_P', 'set_recall', 'set_relative_P', 'set_map', 'set_F'],
  all_trec: [
    'runid', 'num_q', 'num_ret', 'num_rel', 'num_rel_ret', 'map', 'gm_map', 'Rprec', 'bpref', 'recip_rank', 'iprec_at_recall', 'P',
    'relstring', 'recall', 'unj', 'rbp', 'rbp_resid', 'infAP', 'gm_bpref', 'utility', '11pt_avg', 'ndcg', 'relative_P', 'Rprec_mult',
    'success', 'map_cut', 'ndcg_cut', 'ndcg_rel', 'Rndcg', 'binG', 'G', 'set_P', 'set_recall', 'set_relative_P', 'set_map', 'set_F',
    'num_nonrel_judged_ret',
  ],
  all_prefs: [
    'runid', 'num_q', 'prefs_num_prefs_poss', 'prefs_num_prefs_ful', 'prefs_num_prefs_ful_ret', 'prefs_simp', 'prefs_pair',
    'prefs_avgjg', 'prefs_avgjg_Rnonrel', 'prefs_simp_ret', 'prefs_pair_ret', 'prefs_avgjg_ret', 'prefs_avgjg_Rnonrel_ret',
    'prefs_simp_imp', 'prefs_pair_imp', 'prefs_avgjg_imp',
  ],
  prefs: ['runid', 'num_q', 'prefs_num_prefs_poss', 'prefs_num_prefs_ful', 'prefs_num_prefs_ful_ret', 'prefs_simp', 'prefs_pair', 'prefs_avgjg'],
  qrels_jg: ['runid', 'num_q', 'map_avgjg', 'P_avgjg', 'Rprec_mult_avgjg'],
};
