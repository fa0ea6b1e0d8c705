/**
 * A self-contained HTML report (Chart.js inlined, no network): per-query distribution of the primary measure,
 * sorted per-query differences against the baseline, recall@k curves, and the summary / comparison tables.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { compareRuns, type CompareOptions, type Comparison } from './compare.js';
import { evaluate, type Evaluation } from './evaluate.js';
import { formatFixed } from './measure-spec.js';
import type { Qrels, Run } from '../formats/index.js';
import type { RelInfo } from './evaluate.js';

export interface HtmlReportOptions extends CompareOptions {
  title?: string;
  /** Measure plotted per query (default: ndcg_cut_10 when selected, else the first per-query measure). */
  primaryMeasure?: string;
  /** Depths of the recall curve (default 1..1000, limited to the deepest run). */
  recallDepths?: number[];
  /** The files evaluated, named in the report's header so that a report read later says what it measured. */
  sources?: { qrels: string; runs: readonly string[] };
}

const DEFAULT_DEPTHS = [1, 2, 3, 5, 10, 20, 30, 50, 100, 200, 300, 500, 1000];

function chartJsSource(): string {
  const require = createRequire(import.meta.url);
  const main = require.resolve('chart.js');
  return readFileSync(join(dirname(main), 'chart.umd.min.js'), 'utf8');
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** JSON safe to embed in a <script> element. */
const embedJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c');

export function renderHtmlReport(qrels: Qrels | RelInfo, runs: readonly Run[], options: HtmlReportOptions = {}): string {
  const comparison: Comparison | undefined = runs.length >= 2 ? compareRuns(qrels, runs, options) : undefined;
  const evaluations: Evaluation[] = comparison ? comparison.evaluations : [evaluate(qrels, runs[0]!, options)];
  const runIds = comparison ? comparison.runIds : [evaluations[0]!.runId];
  const perQueryColumns = evaluations[0]!.columns.filter((c) => c.perQuery && c.kind === 'float').map((c) => c.name);
  const primary = options.primaryMeasure ?? (perQueryColumns.includes('ndcg_cut_10') ? 'ndcg_cut_10' : perQueryColumns[0]);
  if (primary === undefined || !perQueryColumns.includes(primary)) {
    throw new RangeError(`report measure "${primary}" is not among the evaluated per-query measures (${perQueryColumns.join(', ')})`);
  }

  const perRunValues = evaluations.map((e) => e.queries.map((q) => e.perQuery.get(q)![primary] as number));
  const bins = 10;
  const histogram = perRunValues.map((vals) => {
    const counts = new Array<number>(bins).fill(0);
    for (const v of vals) counts[Math.min(bins - 1, Math.max(0, Math.floor(v * bins)))]!++;
    return counts;
  });
  const differences = comparison
    ? comparison.perQuery.get(primary)!.slice(1).map((vals, k) => ({
        runId: runIds[k + 1]!,
        diffs: vals.map((v, i) => v - comparison.perQuery.get(primary)![0]![i]!).sort((a, b) => b - a),
      }))
    : [];
  const maxDepth = Math.max(...runs.map((r) => Math.max(0, ...[...r.queries.values()].map((h) => h.length))));
  const depths = (options.recallDepths ?? DEFAULT_DEPTHS).filter((k) => k <= Math.max(1, maxDepth));
  const recallCurves = runs.map((run, i) => {
    const e = evaluate(qrels, run, { ...options, measures: [`recall.${depths.join(',')}`] });
    return { runId: runIds[i]!, values: depths.map((k) => e.aggregate[`recall_${k}`] as number) };
  });

  const data = { runIds, primary, bins, histogram, differences, depths, recallCurves };
  const summaryColumns = evaluations[0]!.columns.filter((c) => c.summary);
  const cell = (v: unknown, integer = false) => (typeof v === 'number' ? (integer ? String(Math.trunc(v)) : formatFixed(v, 4)) : escapeHtml(String(v)));
  // Wide tables scroll inside their own box (a phone shows every column), never widen the page.
  const scrolling = (label: string, table: string) => `<div class="scroll" role="region" tabindex="0" aria-label="${escapeHtml(label)}">${table}</div>`;
  const summaryTable = scrolling('Summary table', `<table><thead><tr><th>measure</th>${runIds.map((r) => `<th>${escapeHtml(r)}</th>`).join('')}</tr></thead><tbody>${
    summaryColumns.map((c) => `<tr><td>${escapeHtml(c.name)}</td>${evaluations.map((e) => `<td>${cell(e.aggregate[c.name], c.kind === 'long')}</td>`).join('')}</tr>`).join('')
  }</tbody></table>`);
  const comparisonTable = comparison
    ? `<h2>Comparison with ${escapeHtml(comparison.baseline)} (${comparison.queries.length} paired queries)</h2>${scrolling('Comparison table', `<table><thead><tr><th>measure</th><th>run</th><th>mean</th><th>delta</th><th>95% CI</th><th>p (t-test)</th><th>p (randomization)</th><th>p (t, Holm)</th><th>p (rand., Holm)</th><th>W/T/L</th></tr></thead><tbody>${
        comparison.measures.flatMap((m) => m.runs.map((r) => `<tr><td>${escapeHtml(m.measure)}</td><td>${escapeHtml(r.runId)}</td><td>${cell(r.mean)}</td><td>${cell(r.delta)}</td><td>[${cell(r.ci[0])}, ${cell(r.ci[1])}]</td><td>${cell(r.pTTest)}</td><td>${cell(r.pRandomization)}</td><td>${cell(r.pTTestHolm)}</td><td>${cell(r.pRandomizationHolm)}</td><td>${r.wins}/${r.ties}/${r.losses}</td></tr>`)).join('')
      }</tbody></table>`)}`
    : '';
  const judged = qrels instanceof Map ? qrels : qrels.format === 'qrels' ? qrels.qrels : undefined;
  const sources = options.sources
    ? `<dl class="sources"><dt>Judgments</dt><dd><code>${escapeHtml(options.sources.qrels)}</code>${judged ? ` (${judged.size} queries judged)` : ''}</dd>` +
      `<dt>Run${runIds.length > 1 ? 's' : ''}</dt><dd><ul>${runIds.map((id, i) => `<li>${escapeHtml(id)}: <code>${escapeHtml(options.sources!.runs[i] ?? '?')}</code></li>`).join('')}</ul></dd></dl>`
    : '';
  const title = options.title ?? `Evaluation of ${runIds.join(', ')}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:0 auto;padding:1.5rem clamp(.75rem,4vw,2rem);max-width:1100px;color:#1b1f24;background:#fff;line-height:1.45}
h1{font-size:clamp(1.35rem,5vw,2rem);margin:.25rem 0 .75rem;overflow-wrap:anywhere}
h2{font-size:clamp(1.1rem,4vw,1.4rem);margin:1.75rem 0 .5rem;overflow-wrap:anywhere}
.sources{display:grid;grid-template-columns:max-content 1fr;gap:.25rem .75rem;margin:0 0 1rem;color:#424a53}
.sources dt{font-weight:600}.sources dd{margin:0;min-width:0}.sources ul{margin:0;padding:0;list-style:none}
code{font-size:.9em;overflow-wrap:anywhere}
.scroll{overflow-x:auto;max-width:100%;margin:1rem 0}
.scroll:focus-visible{outline:3px solid #0b5cad;outline-offset:2px}
table{border-collapse:collapse}
td,th{border:1px solid #8c959f;padding:.3rem .6rem;text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
th{background:#f3f5f7;vertical-align:bottom}
td:first-child,th:first-child{text-align:left;position:sticky;left:0;background:#fff}
th:first-child{background:#f3f5f7}
.chart{position:relative;height:clamp(260px,60vw,360px);margin:1rem 0 2.5rem}
</style>
</head><body>
<h1>${escapeHtml(title)}</h1>
${sources}<h2>Summary</h2>${summaryTable}${comparisonTable}
<h2>Per-query ${escapeHtml(primary)}: distribution</h2><div class="chart"><canvas id="distribution"></canvas></div>
${differences.map((d, i) => `<h2>Per-query ${escapeHtml(primary)}: ${escapeHtml(d.runId)} minus ${escapeHtml(runIds[0]!)}, sorted</h2><div class="chart"><canvas id="difference-${i}"></canvas></div>`).join('\n')}
<h2>Recall at depth k</h2><div class="chart"><canvas id="recall"></canvas></div>
<script>${chartJsSource().replace(/<\/script/gi, '<\\/script')}</script>
<script>
const data = ${embedJson(data)};
const palette = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];
const common = { animation: false, responsive: true, maintainAspectRatio: false };
const charts = [];
charts.push(new Chart(document.getElementById('distribution'), { type: 'bar', options: { ...common, scales: { x: { title: { display: true, text: data.primary } }, y: { title: { display: true, text: 'queries' } } } },
  data: { labels: Array.from({ length: data.bins }, (_, i) => (i / data.bins).toFixed(1) + '–' + ((i + 1) / data.bins).toFixed(1)),
    datasets: data.histogram.map((counts, i) => ({ label: data.runIds[i], data: counts, backgroundColor: palette[i % palette.length] })) } }));
data.differences.forEach((d, i) => charts.push(new Chart(document.getElementById('difference-' + i), { type: 'bar',
  options: { ...common, plugins: { legend: { display: false } }, scales: { x: { title: { display: true, text: 'queries (sorted by difference)' }, ticks: { display: false } }, y: { title: { display: true, text: 'difference in ' + data.primary } } } },
  data: { labels: d.diffs.map((_, j) => j + 1), datasets: [{ label: d.runId, data: d.diffs, backgroundColor: d.diffs.map((v) => (v >= 0 ? '#2ca02c' : '#d62728')) }] } })));
charts.push(new Chart(document.getElementById('recall'), { type: 'line', options: { ...common, scales: { x: { type: 'logarithmic', title: { display: true, text: 'k' } }, y: { min: 0, max: 1, title: { display: true, text: 'recall@k' } } } },
  data: { datasets: data.recallCurves.map((c, i) => ({ label: c.runId, data: data.depths.map((k, j) => ({ x: k, y: c.values[j] })), borderColor: palette[i % palette.length], backgroundColor: palette[i % palette.length] })) } }));
window.densekitReport = { charts: charts.length, ready: true };
</script>
</body></html>
`;
}
