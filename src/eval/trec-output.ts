/** trec_eval's text output (`%-22s\t%s\t%6.4f`), and the same numbers as JSON at full precision. */
import type { Evaluation, MeasureValue, MeasureColumn } from './evaluate.js';
import { formatFixed } from './measure-spec.js';

export interface RenderOptions {
  /** -q: per-query lines before the `all` lines. */
  perQuery?: boolean;
  /** -n turns this off: no `all` lines. */
  summary?: boolean;
}

export function renderTrecEval(evaluation: Evaluation, options: RenderOptions = {}): string {
  const out: string[] = [];
  if (options.perQuery) {
    for (const qid of evaluation.queries) {
      const values = evaluation.perQuery.get(qid)!;
      for (const c of evaluation.columns) if (c.perQuery) out.push(line(c, qid, values[c.name]!));
    }
  }
  if (options.summary ?? true) {
    for (const c of evaluation.columns) if (c.summary) out.push(line(c, 'all', evaluation.aggregate[c.name]!));
  }
  return out.join('');
}

function line(column: MeasureColumn, qid: string, value: MeasureValue): string {
  return `${column.name.padEnd(22)}\t${qid}\t${formatValue(column, value)}\n`;
}

function formatValue(column: MeasureColumn, value: MeasureValue): string {
  if (column.name === 'relstring' || column.name.startsWith('relstring_')) return `'${value}'`;
  if (typeof value === 'string') return value;
  if (column.kind === 'long') return String(Math.trunc(value));
  return formatFixed(value, 4).padStart(6);
}

export interface EvaluationJson {
  runid: string;
  measures: string[];
  all: Record<string, MeasureValue>;
  per_query: Record<string, Record<string, MeasureValue>>;
  run_queries_without_judgments: number;
  judged_queries_without_results: number;
}

/** Full-precision JSON; the layout matches the reference trec_eval.json fixtures (all / per_query). */
export function evaluationToJson(evaluation: Evaluation): EvaluationJson {
  const perQuery: Record<string, Record<string, MeasureValue>> = {};
  for (const qid of evaluation.queries) perQuery[qid] = evaluation.perQuery.get(qid)!;
  return {
    runid: evaluation.runId,
    measures: evaluation.columns.map((c) => c.name),
    all: evaluation.aggregate,
    per_query: perQuery,
    run_queries_without_judgments: evaluation.runQueriesWithoutJudgments.length,
    judged_queries_without_results: evaluation.judgedQueriesWithoutResults.length,
  };
}
