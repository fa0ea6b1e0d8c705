/**
 * The training log: one JSON object per line (`train-log.jsonl`), appended as training goes, and a
 * self-contained HTML plot of loss and dev metric over steps (chart.js inlined: opens offline).
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { writeFileAtomicSync } from '../util/fs.js';

export interface LogEntry {
  kind: 'train' | 'eval' | 'stage' | 'data' | 'checkpoint' | 'stop' | 'warning';
  stage: string;
  step: number;
  time: string;
  [key: string]: unknown;
}

export class TrainingLog {
  constructor(readonly file: string) {}

  write(entry: Omit<LogEntry, 'time'>): LogEntry {
    const full = { ...entry, time: new Date().toISOString() } as LogEntry;
    appendFileSync(this.file, JSON.stringify(full) + '\n');
    return full;
  }

  entries(): LogEntry[] {
    if (!existsSync(this.file)) return [];
    return readFileSync(this.file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as LogEntry);
  }

  /**
   * After a resume, drop the entries a killed run wrote past the checkpoint it resumes from, so that the log
   * reads as one uninterrupted run.
   */
  truncateAfter(stage: string, step: number): void {
    const kept = this.entries().filter((e) => e.stage !== stage || e.step <= step || e.kind === 'stage');
    writeFileAtomicSync(this.file, kept.map((e) => JSON.stringify(e) + '\n').join(''));
  }
}

/** Loss (left axis) and dev metric (right axis) against the global step, every stage in sequence. */
export function writePlot(file: string, entries: readonly LogEntry[]): void {
  const require = createRequire(import.meta.url);
  // The UMD build is not in chart.js's package exports; it sits next to the CommonJS entry point.
  const chartJs = readFileSync(join(dirname(require.resolve('chart.js')), 'chart.umd.js'), 'utf8');
  const stages = [...new Set(entries.map((e) => e.stage))];
  const offsets = new Map<string, number>();
  let offset = 0;
  for (const s of stages) {
    offsets.set(s, offset);
    offset += Math.max(0, ...entries.filter((e) => e.stage === s).map((e) => e.step));
  }
  const point = (e: LogEntry, y: unknown) => ({ x: e.step + offsets.get(e.stage)!, y });
  const loss = entries.filter((e) => e.kind === 'train').map((e) => point(e, e.loss));
  const metric = entries.filter((e) => e.kind === 'eval').map((e) => point(e, e.value));
  const metricName = String(entries.find((e) => e.kind === 'eval')?.metric ?? 'dev metric');
  const config = {
    type: 'line',
    data: {
      datasets: [
        { label: 'training loss', data: loss, yAxisID: 'loss', borderColor: '#1f77b4', pointRadius: 0, borderWidth: 1.5 },
        { label: `dev ${metricName}`, data: metric, yAxisID: 'metric', borderColor: '#d62728', pointRadius: 3 },
      ],
    },
    options: {
      animation: false,
      parsing: true,
      scales: {
        x: { type: 'linear', title: { display: true, text: 'optimizer step' } },
        loss: { type: 'linear', position: 'left', title: { display: true, text: 'loss' } },
        metric: { type: 'linear', position: 'right', title: { display: true, text: metricName }, grid: { drawOnChartArea: false } },
      },
    },
  };
  const html = `<!doctype html>
<html><head><meta charset="utf-8"><title>densekit training</title>
<style>body{font-family:sans-serif;margin:2em;max-width:70em}</style></head>
<body><h1>Training: loss and dev metric</h1><p>Stages: ${stages.map(escapeHtml).join(' &rarr; ')}</p>
<canvas id="chart"></canvas>
<script>${chartJs.replace(/<\/script/gi, '<\\/script')}</script>
<script>new Chart(document.getElementById('chart'), ${JSON.stringify(config)});</script>
</body></html>
`;
  writeFileAtomicSync(file, html);
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}
