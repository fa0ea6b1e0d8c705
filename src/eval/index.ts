/** Evaluation: trec_eval-exact measures, run/qrels/BEIR formats, run comparisons and reports. */
// The run / qrels / BEIR readers live in src/formats; eval's API keeps offering them.
export {
  readQrels, countJudgments, readRun, writeRun, rankHits, readBeirCorpus, readBeirQueries, readBeirQrels,
  type Qrels, type Run, type RunHit, type RunFormat, type WriteRunOptions, type BeirDocument, type BeirQuery,
} from '../formats/index.js';
export { evaluate, MISSING_ZSCORE, type EvaluateOptions, type Evaluation, type MeasureColumn, type MeasureValue, type RelInfo } from './evaluate.js';
export { MEASURES, NICKNAMES } from './measures.js';
export { renderTrecEval, evaluationToJson, type RenderOptions, type EvaluationJson } from './trec-output.js';
export { msmarcoMrr, type MsMarcoMrr, type MsMarcoMrrOptions } from './msmarco.js';
export { compareRuns, renderComparison, comparisonToJson, type Comparison, type CompareOptions, type MeasureComparison, type RunComparison } from './compare.js';
export { pairedTTest, randomizationTest, bootstrapInterval, holmBonferroni } from './significance.js';
export { renderHtmlReport, type HtmlReportOptions } from './html-report.js';
