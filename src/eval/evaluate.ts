/**
 * trec_eval's evaluation loop: for every judged query (in strcmp order) that the run answered, or every judged
 * query with -c, compute the selected measures, optionally turn them into z-scores (-Z), then combine them
 * into the `all` values.
 */
import { DensekitError, UsageError } from '../errors.js';
import type { PrefsInfo } from '../formats/prefs.js';
import type { QrelsJg } from '../formats/qrels-jg.js';
import type { Zscores } from '../formats/zscores.js';
import { compareBytewise } from './byte-order.js';
import { judgeRanking, type JudgedRanking, type RankingOptions } from './judged-ranking.js';
import type { QueryData, ValueKind } from './measures.js';
import { selectMeasures } from './measure-spec.js';
import { formPrefsCounts, type PrefsCounts } from './prefs-counts.js';
import type { Qrels, Run, RunHit } from '../formats/index.js';

/** The judgments, in one of trec_eval's rel_info formats (-R). */
export type RelInfo =
  | { format: 'qrels'; qrels: Qrels }
  | { format: 'prefs' | 'qrels_prefs'; prefs: PrefsInfo }
  | { format: 'qrels_jg'; groups: QrelsJg };

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
  /** -Z: print each value as a z-score against these per-query means and standard deviations. */
  zscores?: Zscores;
  /** -D N.QID: evaluate only this query (averages still divide as trec_eval's do). */
  onlyQuery?: string;
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

const MIN_GEO_MEAN = 0.00001;
/** What trec_eval prints for a value whose query or measure the -Z file lacks. */
export const MISSING_ZSCORE = -1000000;
/** trec_eval -c evaluates a query the run lacks on this one-document ranking, then resets a few values. */
const MISSING_QUERY_HITS: readonly RunHit[] = [{ id: 'ceci_nest_pas_un_docno', score: 1.0, rank: 1 }];

export function evaluate(judgments: Qrels | RelInfo, run: Run, options: EvaluateOptions = {}): Evaluation {
  const relInfo: RelInfo = judgments instanceof Map ? { format: 'qrels', qrels: judgments } : judgments;
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

  const judgedQids = judgedQueries(relInfo);
  const sums = new Map<string, number>(columns.map((c) => [c.name, 0]));
  const perQuery = new Map<string, Record<string, MeasureValue>>();
  const queries: string[] = [];
  const judgedQueriesWithoutResults: string[] = [];
  for (const qid of judgedQids) {
    if (options.onlyQuery !== undefined && qid !== options.onlyQuery) continue;
    let hits = run.queries.get(qid);
    if (hits && options.dropIdenticalIds) hits = hits.filter((h) => h.id !== qid);
    if (!hits) judgedQueriesWithoutResults.push(qid);
    if (!hits && !options.completeQueries) continue;
    const data = queryData(relInfo, qid, hits ?? MISSING_QUERY_HITS, rankingOptions);
    const values: Record<string, MeasureValue> = {};
    let previousMeasure: string | undefined;
    for (const m of selected) {
      const result = m.definition.compute(data, m.params, { ...ctx, previousMeasure });
      previousMeasure = m.definition.name;
      const list = typeof result === 'string' ? [result] : result;
      m.columns.forEach((name, i) => (values[name] = list[i]!));
    }
    if (!hits) clearMissingQueryLeftovers(values);
    if (options.zscores) toZscores(values, options.zscores.get(qid));
    const printed: Record<string, MeasureValue> = {};
    for (const c of columns) {
      const v = values[c.name]!;
      if (typeof v === 'number') sums.set(c.name, sums.get(c.name)! + v);
      if (c.perQuery) printed[c.name] = v;
    }
    perQuery.set(qid, printed);
    queries.push(qid);
  }
  if (queries.length === 0) throw new DensekitError('no queries with both results and relevance judgments (check that the run and the qrels use the same query ids)');

  // As trec_eval: with -c the means divide by every judged query, evaluated or not.
  const n = options.completeQueries ? judgedQids.length : queries.length;
  const aggregate: Record<string, MeasureValue> = {};
  for (const m of selected) {
    for (const name of m.columns) {
      const sum = sums.get(name)!;
      switch (m.definition.averaging) {
        case 'mean': aggregate[name] = sum / n; break;
        case 'sum': aggregate[name] = sum; break;
        case 'geometric': aggregate[name] = Math.exp((sum + (n - queries.length) * Math.log(MIN_GEO_MEAN)) / n); break;
        case 'count': aggregate[name] = queries.length; break;
        case 'runid': aggregate[name] = run.runId; break;
        case 'none': break;
      }
    }
  }
  const judgedSet = new Set(judgedQids);
  const runQueriesWithoutJudgments = [...run.queries.keys()].filter((q) => !judgedSet.has(q));
  return { runId: run.runId, columns, queries, perQuery, aggregate, runQueriesWithoutJudgments, judgedQueriesWithoutResults };
}

function judgedQueries(relInfo: RelInfo): string[] {
  const keys = relInfo.format === 'qrels' ? relInfo.qrels.keys() : relInfo.format === 'qrels_jg' ? relInfo.groups.keys() : relInfo.prefs.keys();
  return [...keys].sort(compareBytewise);
}

/** The lazily built views of one query's judged results; a view the -R format cannot give is an error. */
function queryData(relInfo: RelInfo, qid: string, hits: readonly RunHit[], opts: RankingOptions): QueryData {
  let ranking: JudgedRanking | undefined;
  let prefs: PrefsCounts | undefined;
  let groups: JudgedRanking[] | undefined;
  const wrongFormat = (wanted: string): never => {
    throw new UsageError(`the selected measures need ${wanted} judgments, but the judgments were read as -R ${relInfo.format}`);
  };
  return {
    ranking: () => {
      if (relInfo.format !== 'qrels') return wrongFormat('-R qrels');
      return (ranking ??= judgeRanking(hits, relInfo.qrels.get(qid)!, opts));
    },
    prefs: () => {
      if (relInfo.format !== 'prefs' && relInfo.format !== 'qrels_prefs') return wrongFormat('-R prefs or -R qrels_prefs');
      return (prefs ??= formPrefsCounts(hits, relInfo.prefs.get(qid)!, opts.maxDocsPerQuery));
    },
    groups: () => {
      if (relInfo.format !== 'qrels_jg') return wrongFormat('-R qrels_jg');
      const byGroup = relInfo.groups.get(qid)!;
      return (groups ??= [...byGroup.keys()].sort(compareBytewise).map((jg) => judgeRanking(hits, byGroup.get(jg)!, opts)));
    },
  };
}

/**
 * What trec_eval resets after evaluating a missing query (-c) on its one-document stand-in ranking: exactly
 * the values named num_ret, utility, relstring and rbp_resid, and every value whose name starts with "unj"
 * (so a parameterized utility_1,-1,0,0 keeps the stand-in's value, as in trec_eval).
 */
function clearMissingQueryLeftovers(values: Record<string, MeasureValue>): void {
  for (const name of Object.keys(values)) {
    if (name === 'num_ret' || name === 'utility' || name === 'rbp_resid' || name.startsWith('unj')) values[name] = 0;
    else if (name === 'relstring') values[name] = '';
  }
}

/** trec_eval's te_convert_to_zscore: (value - mean) / stddev, or MISSING_ZSCORE where that is undefined. */
function toZscores(values: Record<string, MeasureValue>, stats: ReadonlyMap<string, { mean: number; stddev: number }> | undefined): void {
  for (const [name, v] of Object.entries(values)) {
    if (typeof v !== 'number') continue;
    const s = stats?.get(name);
    if (!s) values[name] = MISSING_ZSCORE;
    else if (s.stddev) values[name] = (v - s.mean) / s.stddev;
    else values[name] = v === s.mean ? 0 : MISSING_ZSCORE;
  }
}
