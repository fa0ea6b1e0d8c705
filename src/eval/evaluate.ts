/**
 * trec_eval's evaluation loop: for every judged query (in strcmp order) that the run answered, or every judged
 * query with -c, compute the selected measures, then combine them into the `all` values.
 */
import { DensekitError } from '../errors.js';
import { compareBytewise } from './byte-order.js';
import { judgeRanking, missingQueryRanking, type RankingOptions } from './judged-ranking.js';
import type { ValueKind } from './measures.js';
import { selectMeasures } from './measure-spec.js';
import type { Qrels, Run } from '../formats/index.js';

export interface EvaluateOptions {
  /** trec_eval -m arguments (default: "official"). */
  measures?: readonly string[];
  /** -l: minimum grade counted as relevant (default 1). */
  relevanceLevel?: number;
  /** -c: average over every judged query; queries the run lacks count with an empty ranking. */
  completeQueries?: boolean;
  /** -M: evaluate at most this many hits per query. */
  maxDocsPerQuery?: number;
  /** -J: drop unjudged documents from rankings before evaluating (trec_eval warns: do not use). */
  judgedOnly?: boolean;
  /** -N: documents in the collection (only the utility measure uses it). */
  numDocsInCollection?: number;
  /** BEIR's convention: ignore hits whose document id equals the query id. */
  dropIdenticalIds?: boolean;
}

export type MeasureValue = number | string;

export interface MeasureColumn {
  name: string;
  kind: ValueKind;
  /** Printed on per-query lines (-q). */
  perQuery: boolean;
  /** Printed on the `all` lines. */
  summary: boolean;
}

export interface Evaluation {
  runId: string;
  columns: MeasureColumn[];
  /** Evaluated query ids, in trec_eval's order. */
  queries: string[];
  /** qid -> column name -> value, for the columns with perQuery. */
  perQuery: Map<string, Record<string, MeasureValue>>;
  /** column name -> value, for the columns with summary. */
  aggregate: Record<string, MeasureValue>;
  /** Queries of the run that have no judgments: ignored, as trec_eval does. */
  runQueriesWithoutJudgments: string[];
  /** Judged queries absent from the run (they count as empty rankings only with completeQueries). */
  judgedQueriesWithoutResults: string[];
}

export function evaluate(qrels: Qrels, run: Run, options: EvaluateOptions = {}): Evaluation {
  const selected = selectMeasures(options.measures ?? []);
  const rankingOptions: RankingOptions = {
    relevanceLevel: options.relevanceLevel ?? 1,
    maxDocsPerQuery: options.maxDocsPerQuery ?? Number.MAX_SAFE_INTEGER,
    judgedOnly: options.judgedOnly ?? false,
  };
  const ctx = { relevanceLevel: rankingOptions.relevanceLevel, numDocsInCollection: options.numDocsInCollection ?? 0 };
  const columns: MeasureColumn[] = [];
  for (const m of selected) {
    for (const name of m.columns) columns.push({ name, kind: m.definition.valueKind, perQuery: m.definition.perQuery, summary: m.definition.summary });
  }

  const sums = new Map<string, number>(columns.map((c) => [c.name, 0]));
  const perQuery = new Map<string, Record<string, MeasureValue>>();
  const queries: string[] = [];
  const judgedQueriesWithoutResults: string[] = [];
  for (const qid of [...qrels.keys()].sort(compareBytewise)) {
    const judgments = qrels.get(qid)!;
    let hits = run.queries.get(qid);
    if (hits && options.dropIdenticalIds) hits = hits.filter((h) => h.id !== qid);
    if (!hits) judgedQueriesWithoutResults.push(qid);
    if (!hits && !options.completeQueries) continue;
    const ranking = hits ? judgeRanking(hits, judgments, rankingOptions) : missingQueryRanking(judgments, rankingOptions);
    const values: Record<string, MeasureValue> = {};
    const printed: Record<string, MeasureValue> = {};
    for (const m of selected) {
      const result = m.definition.compute(ranking, m.params, ctx);
      const list = typeof result === 'string' ? [result] : result;
      m.columns.forEach((name, i) => (values[name] = list[i]!));
    }
    if (!hits) clearMissingQueryLeftovers(values);
    for (const c of columns) {
      const v = values[c.name]!;
      if (typeof v === 'number') sums.set(c.name, sums.get(c.name)! + v);
      if (c.perQuery) printed[c.name] = v;
    }
    perQuery.set(qid, printed);
    queries.push(qid);
  }
  if (queries.length === 0) throw new DensekitError('no queries with both results and relevance judgments (check that the run and the qrels use the same query ids)');

  const n = queries.length;
  const aggregate: Record<string, MeasureValue> = {};
  for (const m of selected) {
    for (const name of m.columns) {
      const sum = sums.get(name)!;
      switch (m.definition.averaging) {
        case 'mean': aggregate[name] = sum / n; break;
        case 'sum': aggregate[name] = sum; break;
        case 'geometric': aggregate[name] = Math.exp(sum / n); break;
        case 'count': aggregate[name] = n; break;
        case 'runid': aggregate[name] = run.runId; break;
        case 'none': break;
      }
    }
  }
  const runQueriesWithoutJudgments = [...run.queries.keys()].filter((q) => !qrels.has(q));
  return { runId: run.runId, columns, queries, perQuery, aggregate, runQueriesWithoutJudgments, judgedQueriesWithoutResults };
}

/** What trec_eval resets after evaluating a missing query (-c) on its one-document stand-in ranking. */
function clearMissingQueryLeftovers(values: Record<string, MeasureValue>): void {
  for (const name of Object.keys(values)) {
    if (name === 'num_ret' || name === 'utility' || name.startsWith('utility_') || name.startsWith('unj') || name === 'rbp_resid' || name.startsWith('rbp_resid_')) values[name] = 0;
    else if (name === 'relstring' || name.startsWith('relstring_')) values[name] = '';
  }
}
