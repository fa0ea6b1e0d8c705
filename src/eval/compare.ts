/**
 * Several runs side by side against the first (the baseline): mean of each measure, difference with a
 * bootstrap confidence interval, paired t-test and randomization test p-values, both Holm-Bonferroni
 * adjusted across the runs compared with the baseline, and per-query wins/ties/losses.
 * Queries are paired over those every run was evaluated on (trec_eval's per-run query sets intersected).
 */
import { UsageError } from '../errors.js';
import { evaluate, type EvaluateOptions, type Evaluation } from './evaluate.js';
import { formatFixed } from './measure-spec.js';
import type { Qrels, Run } from '../formats/index.js';
import type { RelInfo } from './evaluate.js';
import { bootstrapInterval, holmBonferroni, pairedTTest, randomizationTest } from './significance.js';

export interface CompareOptions extends EvaluateOptions {
  /** Randomization test permutations (default 10,000). */
  permutations?: number;
  /** Bootstrap resamples (default 10,000). */
  bootstrapSamples?: number;
  /** Seed of both resampling procedures (default 42): the same inputs always give the same p-values. */
  seed?: number;
  /** Confidence level of the bootstrap interval (default 0.95). */
  confidence?: number;
}

export interface RunComparison {
  runId: string;
  mean: number;
  delta: number;
  ci: [number, number];
  pTTest: number;
  pRandomization: number;
  pTTestHolm: number;
  pRandomizationHolm: number;
  wins: number;
  ties: number;
  losses: number;
}

export interface MeasureComparison {
  measure: string;
  baselineMean: number;
  runs: RunComparison[];
}

export interface Comparison {
  baseline: string;
  runIds: string[];
  /** Queries used for pairing, in trec_eval order. */
  queries: string[];
  measures: MeasureComparison[];
  evaluations: Evaluation[];
  /** measure -> run index -> per-query values over `queries`. */
  perQuery: Map<string, number[][]>;
}

export function compareRuns(qrels: Qrels | RelInfo, runs: readonly Run[], options: CompareOptions = {}): Comparison {
  if (runs.length < 2) throw new UsageError('comparing runs needs at least two runs');
  const evaluations = runs.map((r) => evaluate(qrels, r, options));
  const runIds = uniqueNames(evaluations.map((e) => e.runId));
  const common = new Set(evaluations[0]!.queries);
  for (const e of evaluations.slice(1)) for (const q of [...common]) if (!e.perQuery.has(q)) common.delete(q);
  const queries = evaluations[0]!.queries.filter((q) => common.has(q));
  const numeric = evaluations[0]!.columns.filter((c) => c.perQuery && c.kind === 'float').map((c) => c.name);

  const perQuery = new Map<string, number[][]>();
  const measures: MeasureComparison[] = [];
  for (const measure of numeric) {
    const values = evaluations.map((e) => queries.map((q) => e.perQuery.get(q)![measure] as number));
    perQuery.set(measure, values);
    const base = values[0]!;
    const rows = values.slice(1).map((v, k): RunComparison => {
      let wins = 0;
      let ties = 0;
      let losses = 0;
      v.forEach((x, i) => {
        const d = x - base[i]!;
        if (Math.abs(d) <= 1e-12) ties++;
        else if (d > 0) wins++;
        else losses++;
      });
      const mean = average(v);
      return {
        runId: runIds[k + 1]!, mean, delta: mean - average(base),
        ci: bootstrapInterval(base, v, { samples: options.bootstrapSamples, seed: options.seed, confidence: options.confidence }),
        pTTest: pairedTTest(base, v).p,
        pRandomization: randomizationTest(base, v, { permutations: options.permutations, seed: options.seed }),
        pTTestHolm: NaN, pRandomizationHolm: NaN, wins, ties, losses,
      };
    });
    const holmT = holmBonferroni(rows.map((r) => r.pTTest));
    const holmR = holmBonferroni(rows.map((r) => r.pRandomization));
    rows.forEach((r, i) => {
      r.pTTestHolm = holmT[i]!;
      r.pRandomizationHolm = holmR[i]!;
    });
    measures.push({ measure, baselineMean: average(base), runs: rows });
  }
  return { baseline: runIds[0]!, runIds, queries, measures, evaluations, perQuery };
}

function average(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return xs.length ? s / xs.length : 0;
}

/** Runs often share a tag; suffix duplicates so every column stays identifiable. */
function uniqueNames(names: string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((n) => {
    const k = (seen.get(n) ?? 0) + 1;
    seen.set(n, k);
    return k === 1 ? n : `${n}#${k}`;
  });
}

/** A terminal table; significance marks: * p < 0.05 after Holm (randomization test). */
export function renderComparison(c: Comparison): string {
  const header = ['measure', 'run', 'mean', 'delta', '95% CI', 'p(t)', 'p(rand)', 'p(t,Holm)', 'p(rand,Holm)', 'W/T/L'];
  const rows: string[][] = [];
  const f = (v: number) => formatFixed(v, 4);
  for (const m of c.measures) {
    rows.push([m.measure, `${c.baseline} (base)`, f(m.baselineMean), '', '', '', '', '', '', '']);
    for (const r of m.runs) {
      const mark = r.pRandomizationHolm < 0.05 ? '*' : '';
      rows.push(['', r.runId, f(r.mean), `${r.delta >= 0 ? '+' : ''}${f(r.delta)}${mark}`, `[${f(r.ci[0])}, ${f(r.ci[1])}]`,
        f(r.pTTest), f(r.pRandomization), f(r.pTTestHolm), f(r.pRandomizationHolm), `${r.wins}/${r.ties}/${r.losses}`]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (cells: string[]) => cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd();
  return [
    fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt),
    '', `${c.queries.length} queries paired; * = p < 0.05 (randomization test, Holm-Bonferroni over ${c.runIds.length - 1} comparison(s))`, '',
  ].join('\n');
}

export function comparisonToJson(c: Comparison): object {
  return {
    baseline: c.baseline, runs: c.runIds, queries: c.queries.length,
    measures: c.measures.map((m) => ({ measure: m.measure, baseline_mean: m.baselineMean, runs: m.runs })),
  };
}
