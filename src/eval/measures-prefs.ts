/**
 * trec_eval's preference measures (`-R prefs` or `-R qrels_prefs`), in its order. Each follows its m_prefs_*.c
 * loop. "ret" variants count only pairs with both documents retrieved, "imp" variants add pairs with one
 * retrieved; the plain ones also count pairs with neither retrieved as failures.
 */
import type { MeasureDefinition } from './measure-types.js';
import type { JudgmentGroup, PrefsCounts } from './prefs-counts.js';

function prefsMeasure(name: string, valueKind: 'float' | 'long', compute: (p: PrefsCounts) => number): MeasureDefinition {
  return {
    name, paramKind: 'none', defaults: [], valueKind, averaging: valueKind === 'long' ? 'sum' : 'mean', perQuery: true, summary: true,
    compute: (q) => [compute(q.prefs())],
  };
}

type Counter = (jg: JudgmentGroup) => { ful: number; poss: number };
const all: Counter = (jg) => ({ ful: jg.fulfilledRet + jg.fulfilledImp, poss: jg.possibleRet + jg.possibleImp + jg.possibleNotOccur });
const ret: Counter = (jg) => ({ ful: jg.fulfilledRet, poss: jg.possibleRet });
const imp: Counter = (jg) => ({ ful: jg.fulfilledRet + jg.fulfilledImp, poss: jg.possibleRet + jg.possibleImp });

/** Fulfilled over possible, summed over all judgment groups. */
function simple(p: PrefsCounts, count: Counter): number {
  let ful = 0;
  let poss = 0;
  for (const jg of p.jgs) {
    const c = count(jg);
    ful += c.ful;
    poss += c.poss;
  }
  return poss ? ful / poss : 0;
}

/** Fulfilled over possible within each judgment group, averaged over the groups. */
function perGroup(p: PrefsCounts, count: Counter): number {
  let sum = 0;
  for (const jg of p.jgs) {
    const c = count(jg);
    if (c.poss) sum += c.ful / c.poss;
  }
  return sum > 0 ? sum / p.jgs.length : 0;
}

/**
 * Average over document pairs of the share of judgment groups agreeing with the ranking. `upTo` chooses
 * which pairs add to the sum: "ret" (both retrieved), "imp" (at least one) or "all" (pairs with neither
 * retrieved count in the denominator only).
 */
function pairs(p: PrefsCounts, upTo: 'ret' | 'imp' | 'all'): number {
  const n = p.numJudged;
  const nr = p.numJudgedRet;
  const c = p.counts;
  let sum = 0;
  let numPairs = 0;
  const add = (i: number, j: number, scored: boolean) => {
    const ij = c[i * n + j]!;
    const ji = c[j * n + i]!;
    if (!ij && !ji) return;
    numPairs++;
    if (scored) sum += ij / (ij + ji);
  };
  for (let i = 0; i < nr; i++) for (let j = i + 1; j < nr; j++) add(i, j, true);
  if (upTo !== 'ret') for (let i = 0; i < nr; i++) for (let j = nr; j < n; j++) add(i, j, true);
  if (upTo === 'all') for (let i = nr; i < n; i++) for (let j = i + 1; j < n; j++) add(i, j, false);
  return numPairs ? sum / numPairs : 0;
}

/**
 * prefs_avgjg_Rnonrel(_ret): as if each group had exactly R judged non-relevant documents. With fewer (N < R),
 * R - N fulfilled preferences per relevant document are added; with more, the counts are redone with only
 * the first R non-relevant documents (the first R of the last equivalence class, or of the matrix in docid
 * order), exactly as trec_eval's recalculate() does.
 */
function rNonrel(p: PrefsCounts, retrievedOnly: boolean): number {
  let sum = 0;
  for (const jg of p.jgs) {
    const R = retrievedOnly ? jg.numRelRet : jg.numRel;
    const N = retrievedOnly ? jg.numNonrelRet : jg.numNonrel;
    let ful: number;
    let poss: number;
    if (R >= N) {
      const c = retrievedOnly ? ret(jg) : all(jg);
      ful = c.ful + jg.numRelRet * (R - N);
      poss = c.poss + jg.numRel * (R - N);
    } else ({ ful, poss } = recount(p, jg, R, retrievedOnly));
    sum += ful / poss;
  }
  return sum > 0 ? sum / p.jgs.length : 0;
}

function recount(p: PrefsCounts, jg: JudgmentGroup, R: number, retrievedOnly: boolean): { ful: number; poss: number } {
  const nr = p.numJudgedRet;
  let ful = 0;
  let poss = 0;
  if (jg.ecs.length > 0) {
    const pool = p.rankPool;
    const last = jg.ecs[jg.ecs.length - 1]!;
    // trec_eval takes the R ranks that follow the last class's start in its rank pool (they may run past the
    // class when non-relevant documents are spread over several levels); we stop where the pool ends.
    const nonrel = Array.from(pool.subarray(last.start, Math.min(pool.length, last.start + R)));
    const ranksOf = (e: { start: number; size: number }) => Array.from(pool.subarray(e.start, e.start + e.size));
    const take = (ranks: number[]) => (retrievedOnly ? ranks.slice(0, firstUnretrieved(ranks, nr)) : ranks);
    const score = (r1: number, r2: number) => {
      if (r1 < r2 && (retrievedOnly || r1 < nr)) ful++;
      else poss++;
    };
    for (let e1 = 0; e1 < jg.ecs.length; e1++) {
      const a = take(ranksOf(jg.ecs[e1]!));
      for (let e2 = e1 + 1; e2 < jg.ecs.length - 1; e2++) {
        const b = take(ranksOf(jg.ecs[e2]!));
        for (const r1 of a) for (const r2 of b) score(r1, r2);
      }
    }
    const b = take(nonrel);
    for (const ec of jg.ecs) for (const r1 of take(ranksOf(ec))) for (const r2 of b) score(r1, r2);
  } else {
    const n = p.numJudged;
    const a = jg.prefs!;
    const rel = jg.relArray!;
    let seen = 0;
    let firstDiscarded = 0;
    const scanEnd = retrievedOnly ? nr : n;
    for (; firstDiscarded < scanEnd; firstDiscarded++) {
      if (rel[firstDiscarded] === 0 && ++seen === jg.numRel + 1) break;
    }
    const dropped = (i: number) => i >= firstDiscarded && rel[i] === 0;
    const rows = retrievedOnly ? nr : n;
    for (let i = 0; i < rows; i++) {
      if (dropped(i)) continue;
      const cols = retrievedOnly ? nr : n;
      for (let j = 0; j < cols; j++) {
        if (j === i || dropped(j) || !a[i * n + j]) continue;
        if (i < nr && j > i) ful++;
        else poss++;
      }
    }
  }
  return { ful, poss: poss + ful };
}

function firstUnretrieved(ranks: number[], numJudgedRet: number): number {
  let k = 0;
  while (k < ranks.length && ranks[k]! < numJudgedRet) k++;
  return k;
}

function sumOver(p: PrefsCounts, f: (jg: JudgmentGroup) => number): number {
  let s = 0;
  for (const jg of p.jgs) s += f(jg);
  return s;
}

export const PREFS_MEASURES: readonly MeasureDefinition[] = [
  prefsMeasure('prefs_num_prefs_poss', 'long', (p) => sumOver(p, (jg) => jg.possibleRet + jg.possibleImp + jg.possibleNotOccur)),
  prefsMeasure('prefs_num_prefs_ful', 'long', (p) => sumOver(p, (jg) => jg.fulfilledRet + jg.fulfilledImp)),
  prefsMeasure('prefs_num_prefs_ful_ret', 'long', (p) => sumOver(p, (jg) => jg.fulfilledRet)),
  prefsMeasure('prefs_simp', 'float', (p) => simple(p, all)),
  prefsMeasure('prefs_pair', 'float', (p) => pairs(p, 'all')),
  prefsMeasure('prefs_avgjg', 'float', (p) => perGroup(p, all)),
  prefsMeasure('prefs_avgjg_Rnonrel', 'float', (p) => rNonrel(p, false)),
  prefsMeasure('prefs_simp_ret', 'float', (p) => simple(p, ret)),
  prefsMeasure('prefs_pair_ret', 'float', (p) => pairs(p, 'ret')),
  prefsMeasure('prefs_avgjg_ret', 'float', (p) => perGroup(p, ret)),
  prefsMeasure('prefs_avgjg_Rnonrel_ret', 'float', (p) => rNonrel(p, true)),
  prefsMeasure('prefs_simp_imp', 'float', (p) => simple(p, imp)),
  prefsMeasure('prefs_pair_imp', 'float', (p) => pairs(p, 'imp')),
  prefsMeasure('prefs_avgjg_imp', 'float', (p) => perGroup(p, imp)),
];
