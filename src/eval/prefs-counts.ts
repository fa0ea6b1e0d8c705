/**
 * One query's ranking joined with its preference judgments, as trec_eval's form_prefs_counts builds them for
 * the prefs_* measures (`-R prefs` or `-R qrels_prefs`).
 *
 * Every judged document gets a "docid rank": judged documents the run retrieved (within -M) are numbered
 * 0..numJudgedRet-1 in ranking order, the others numJudgedRet.. in docno order; so docid rank a < b means
 * "a ranked above b", and a document with docid rank >= numJudgedRet was not retrieved.
 *
 * A judgment group (JG) with one sub-group is kept as equivalence classes (ECs) of equal rel_level, best
 * first; a JG with several sub-groups becomes a preference matrix closed under transitivity. For each JG the
 * preferences A > B are counted as fulfilled/possible among retrieved pairs ("ret"), pairs with exactly one
 * retrieved ("imp") and pairs with neither retrieved ("notoccur"); `counts` sums, over all JGs, how often
 * each ordered pair is preferred (it is an unsigned short matrix in trec_eval, and so here).
 */
import { DensekitError } from '../errors.js';
import type { PrefJudgment } from '../formats/prefs.js';
import { compareBytewise } from './byte-order.js';
import type { RunHit } from '../formats/index.js';

export interface EquivalenceClass {
  relLevel: number;
  /** Offset of this class's docid ranks in PrefsCounts.rankPool, and how many. */
  start: number;
  size: number;
}

export interface JudgmentGroup {
  /** ECs, best first; empty for a group kept as a preference matrix. */
  ecs: EquivalenceClass[];
  /** numJudged x numJudged, row-major: prefs[a * numJudged + b] = 1 when a is preferred to b (matrix groups). */
  prefs?: Uint8Array;
  /** rel_level per docid rank, -1 for documents this group does not judge (matrix groups). */
  relArray?: Float64Array;
  fulfilledRet: number;
  possibleRet: number;
  fulfilledImp: number;
  possibleImp: number;
  possibleNotOccur: number;
  numRel: number;
  numRelRet: number;
  numNonrel: number;
  numNonrelRet: number;
}

export interface PrefsCounts {
  numJudged: number;
  numJudgedRet: number;
  jgs: JudgmentGroup[];
  /** numJudged x numJudged, row-major: counts[a * numJudged + b] = JGs preferring a to b. */
  counts: Uint16Array;
  /** The docid ranks of every EC, class after class (trec_eval's rank pool; see prefs_avgjg_Rnonrel). */
  rankPool: Int32Array;
}

interface Ranked extends PrefJudgment {
  rank: number;
}

export function formPrefsCounts(hits: readonly RunHit[], judgments: readonly PrefJudgment[], maxDocs: number): PrefsCounts {
  const { prefs, numJudged, numJudgedRet } = docidRanks(hits, judgments, maxDocs);
  const counts = new Uint16Array(numJudged * numJudged);
  const rankPool = new Int32Array(prefs.length);
  let poolUsed = 0;
  const jgs: JudgmentGroup[] = [];
  for (let start = 0; start < prefs.length;) {
    let end = start;
    let subGroups = 0;
    let jsg: string | undefined;
    while (end < prefs.length && prefs[end]!.jg === prefs[start]!.jg) {
      if (prefs[end]!.jsg !== jsg) {
        subGroups++;
        jsg = prefs[end]!.jsg;
      }
      end++;
    }
    const group = prefs.slice(start, end);
    if (subGroups > 1) jgs.push(matrixGroup(group, numJudged, numJudgedRet, counts));
    else {
      jgs.push(classGroup(group, numJudged, numJudgedRet, counts, rankPool, poolUsed));
      poolUsed += group.length;
    }
    start = end;
  }
  return { numJudged, numJudgedRet, jgs, counts, rankPool };
}

/** Steps 1 of form_prefs_counts: docid ranks, then judgments sorted by jg, jsg, rel_level (desc), docid rank. */
function docidRanks(hits: readonly RunHit[], judgments: readonly PrefJudgment[], maxDocs: number) {
  // Unlike form_res_rels, trec_eval breaks score ties here by docno ascending.
  const ranked = [...hits].sort((a, b) => (a.score > b.score ? -1 : a.score < b.score ? 1 : compareBytewise(a.id, b.id)));
  const retrieved = ranked.slice(0, Math.max(0, maxDocs));
  const judged = new Set(judgments.map((j) => j.docId));
  const rankOf = new Map<string, number>();
  for (const h of retrieved) if (judged.has(h.id)) rankOf.set(h.id, rankOf.size);
  const numJudgedRet = rankOf.size;
  let next = numJudgedRet;
  for (const docId of [...judged].sort(compareBytewise)) if (!rankOf.has(docId)) rankOf.set(docId, next++);
  const prefs: Ranked[] = judgments.map((j) => ({ ...j, rank: rankOf.get(j.docId)! }));
  prefs.sort((a, b) => compareBytewise(a.jg, b.jg) || compareBytewise(a.jsg, b.jsg)
    || (a.relLevel > b.relLevel ? -1 : a.relLevel < b.relLevel ? 1 : a.rank - b.rank));
  return { prefs, numJudged: next, numJudgedRet };
}

function emptyGroup(): JudgmentGroup {
  return {
    ecs: [], fulfilledRet: 0, possibleRet: 0, fulfilledImp: 0, possibleImp: 0, possibleNotOccur: 0,
    numRel: 0, numRelRet: 0, numNonrel: 0, numNonrelRet: 0,
  };
}

/** A group with one sub-group: equivalence classes, every pair across classes is a preference. */
function classGroup(group: Ranked[], numJudged: number, numJudgedRet: number, counts: Uint16Array, pool: Int32Array, poolStart: number): JudgmentGroup {
  const jg = emptyGroup();
  for (let i = 0; i < group.length; i++) {
    const p = group[i]!;
    pool[poolStart + i] = p.rank;
    const last = jg.ecs[jg.ecs.length - 1];
    if (last && last.relLevel === p.relLevel) last.size++;
    else jg.ecs.push({ relLevel: p.relLevel, start: poolStart + i, size: 1 });
  }
  for (let e1 = 0; e1 < jg.ecs.length; e1++) {
    const ec1 = jg.ecs[e1]!;
    let ret = 0;
    while (ret < ec1.size && pool[ec1.start + ret]! < numJudgedRet) ret++;
    if (ec1.relLevel > 0) {
      jg.numRelRet += ret;
      jg.numRel += ec1.size;
    } else {
      jg.numNonrelRet += ret;
      jg.numNonrel += ec1.size;
    }
    for (let e2 = e1 + 1; e2 < jg.ecs.length; e2++) {
      const ec2 = jg.ecs[e2]!;
      for (let a = ec1.start; a < ec1.start + ec1.size; a++) {
        for (let b = ec2.start; b < ec2.start + ec2.size; b++) {
          const r1 = pool[a]!;
          const r2 = pool[b]!;
          counts[r1 * numJudged + r2]!++;
          if (r1 === r2) throw new DensekitError(`prefs: a document has two different rel_levels in one judgment sub-group (group "${group[0]!.jg}")`);
          if (r1 < r2) {
            if (r2 < numJudgedRet) jg.fulfilledRet++;
            else if (r1 < numJudgedRet) jg.fulfilledImp++;
            else jg.possibleNotOccur++;
          } else if (r1 < numJudgedRet) jg.possibleRet++;
          else if (r2 < numJudgedRet) jg.possibleImp++;
          else jg.possibleNotOccur++;
        }
      }
    }
  }
  jg.possibleRet += jg.fulfilledRet;
  jg.possibleImp += jg.fulfilledImp;
  return jg;
}

/** A group with several sub-groups: a preference matrix, closed under transitivity, counted by areas. */
function matrixGroup(group: Ranked[], numJudged: number, numJudgedRet: number, counts: Uint16Array): JudgmentGroup {
  const jg = emptyGroup();
  const n = numJudged;
  const a = new Uint8Array(n * n);
  const rel = new Float64Array(n).fill(-1);
  for (let i = 0; i < group.length; i++) {
    const p = group[i]!;
    const old = rel[p.rank]!;
    if ((old > 0 && p.relLevel === 0) || (old === 0 && p.relLevel > 0)) {
      throw new DensekitError(`prefs: document "${p.docId}" has both 0 and non-0 rel_level in judgment group "${p.jg}"`);
    }
    rel[p.rank] = p.relLevel;
    let j = i + 1;
    while (j < group.length && group[j]!.jsg === p.jsg && group[j]!.relLevel === p.relLevel) j++;
    for (; j < group.length && group[j]!.jsg === p.jsg; j++) a[p.rank * n + group[j]!.rank] = 1;
  }
  // Transitive closure (trec_eval multiplies the matrix by itself until it stops changing: the same fixpoint).
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < n; i++) {
      if (i === k || !a[i * n + k]) continue;
      for (let j = 0; j < n; j++) if (a[k * n + j]) a[i * n + j] = 1;
    }
  }
  for (let i = 0; i < n; i++) a[i * n + i] = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (a[i * n + j] && a[j * n + i]) throw new DensekitError(`prefs: inconsistent preferences in judgment group "${group[0]!.jg}" (two documents are each preferred to the other)`);
    }
  }
  for (let i = 0; i < n; i++) {
    const r = rel[i]!;
    if (r > 0) {
      jg.numRel++;
      if (i < numJudgedRet) jg.numRelRet++;
    } else if (r === 0) {
      jg.numNonrel++;
      if (i < numJudgedRet) jg.numNonrelRet++;
    }
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (!a[i * n + j]) continue;
      counts[i * n + j]!++;
      if (i < numJudgedRet) {
        if (j < i) jg.possibleRet++;
        else if (j < numJudgedRet) jg.fulfilledRet++;
        else jg.fulfilledImp++;
      } else if (j < numJudgedRet) jg.possibleImp++;
      else jg.possibleNotOccur++;
    }
  }
  jg.possibleRet += jg.fulfilledRet;
  jg.possibleImp += jg.fulfilledImp;
  jg.prefs = a;
  jg.relArray = rel;
  return jg;
}
