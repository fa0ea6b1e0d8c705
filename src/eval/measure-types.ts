/** The shape every trec_eval measure definition shares (measures.ts, measures-prefs.ts, measures-jg.ts). */
import type { JudgedRanking } from './judged-ranking.js';
import type { PrefsCounts } from './prefs-counts.js';

export type ValueKind = 'float' | 'long' | 'string';
/** How the `all` line combines per-query values. */
export type Averaging = 'mean' | 'sum' | 'geometric' | 'count' | 'runid' | 'none';
export type ParamKind = 'none' | 'longCutoffs' | 'doubleCutoffs' | 'doubleParams' | 'pairs';

export interface ParamPair {
  name: string;
  value: number;
}

export interface MeasureParams {
  /** Cutoffs (sorted ascending) or ordered double parameters. */
  values: number[];
  pairs: ParamPair[];
  /** The parameter text given with -m (changes the printed name of parameterized single measures). */
  printable?: string;
}

export interface EvalContext {
  relevanceLevel: number;
  numDocsInCollection: number;
  /** The measure computed just before this one for the same query (see rbp in measures.ts). */
  previousMeasure?: string;
}

/**
 * One query's judged results, in the form each family of measures needs; each view is built on first use
 * and fails (one line) when the judgments given with -R cannot provide it, as trec_eval refuses a measure
 * whose rel_info format does not match.
 */
export interface QueryData {
  /** -R qrels: the ranking labelled with grades. */
  ranking(): JudgedRanking;
  /** -R prefs / qrels_prefs: preference counts. */
  prefs(): PrefsCounts;
  /** -R qrels_jg: one labelled ranking per judgment group, groups in strcmp order. */
  groups(): JudgedRanking[];
}

export interface MeasureDefinition {
  name: string;
  paramKind: ParamKind;
  defaults: number[];
  valueKind: ValueKind;
  averaging: Averaging;
  perQuery: boolean;
  summary: boolean;
  /** One line for `densekit eval --help`. */
  summaryText?: string;
  compute(q: QueryData, p: MeasureParams, ctx: EvalContext): number[] | string;
}
