import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { BEIR_MEASURES, runBeir, type BeirMeasure, type BeirReport, type BeirRetriever } from '../pipeline/beir.js';
import { setNumThreads } from '../tensor/index.js';
import { writeRun } from '../formats/index.js';
import type { Device } from '../tensor/index.js';
import type { WeightsDtype } from '../models/index.js';
import { deviceFlag, oneOf, positiveInt, weightsDtypeFlag, WEIGHTS_DTYPE_HELP } from './options.js';
import { UsageError } from '../errors.js';
import { isPostgresUrl, redactUrl } from '../retrieval/pgvector/index.js';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { VERB_SUMMARIES } from './verbs.js';

interface BeirFlags {
  dataset: string;
  model?: string;
  retriever: BeirRetriever[];
  split: string;
  k: number;
  cache?: string;
  dtype: 'fp32' | 'bf16' | 'int8';
  device: Device;
  weightsDtype: WeightsDtype;
  batchSize: number;
  queryMaxLength?: number;
  passageMaxLength?: number;
  fusion: 'rrf' | 'linear';
  threads?: number;
  runs?: string;
  json?: boolean;
  index?: string;
  table?: string;
}

function pgvectorTarget(url: string | undefined, table: string | undefined): { url: string; table: string } {
  if (!url || !table) throw new UsageError('--index postgres://... and --table NAME go together');
  if (!isPostgresUrl(url)) throw new UsageError(`--index expects postgres://USER@HOST:PORT/DB (beir keeps folder indexes in --cache), got "${redactUrl(url)}"`);
  return { url, table };
}

function retrievers(v: string): BeirRetriever[] {
  const list = v.split(',').map((s) => s.trim());
  for (const r of list) if (!['dense', 'bm25', 'hybrid'].includes(r)) throw new InvalidArgumentError(`--retriever expects dense|bm25|hybrid (comma-separated), got "${r}"`);
  return list as BeirRetriever[];
}

export function renderBeirTable(r: BeirReport): string {
  // The columns are trec_eval's names, as `densekit eval` prints them and runBeir returns them.
  const names = Object.keys(BEIR_MEASURES) as BeirMeasure[];
  const rows = [['retriever', ...names, 'queries/s']];
  for (const x of r.results)
    rows.push([x.retriever, ...names.map((n) => x.metrics[n].toFixed(4)), (x.queries / Math.max(x.searchSeconds, 1e-9)).toFixed(1)]);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  return rows.map((row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')).join('\n') + '\n';
}

export function register(program: Command): void {
  program
    .command('beir')
    .description(VERB_SUMMARIES['beir'])
    .requiredOption('--dataset <dir|name>', 'BEIR dataset folder, or a name (scifact) under $DENSEKIT_DATA or ./data')
    .option('--model <dir|hub-id>', 'sentence-transformers model (dense and hybrid)')
    .option('--retriever <list>', 'dense|bm25|hybrid, comma-separated', retrievers, ['dense'] as BeirRetriever[])
    .option('--split <name>', 'qrels split', 'test')
    .option('--k <n>', 'hits per query', positiveInt('--k'), 1000)
    .option('--cache <dir>', 'embeddings and indexes kept between runs (default ~/.cache/densekit/beir)')
    .option('--dtype <dtype>', 'fp32|bf16|int8 (int8: CPU only)', oneOf('--dtype', ['fp32', 'bf16', 'int8'] as const), 'fp32')
    .option('--device <device>', 'cpu|cuda|cuda:N', deviceFlag, 'cpu')
    .option('--weights-dtype <dtype>', WEIGHTS_DTYPE_HELP, weightsDtypeFlag, 'auto')
    .option('--batch-size <n>', 'texts per forward pass', positiveInt('--batch-size'), 32)
    .option('--query-max-length <n>', 'query token limit', positiveInt('--query-max-length'))
    .option('--passage-max-length <n>', 'passage token limit', positiveInt('--passage-max-length'))
    .option('--fusion <method>', 'hybrid fusion: rrf|linear', oneOf('--fusion', ['rrf', 'linear'] as const), 'rrf')
    .option('--threads <n>', 'CPU threads for libtorch', positiveInt('--threads'))
    .option('--index <url>', 'dense side in PostgreSQL + pgvector: postgres://USER@HOST:PORT/DB (with --table), loaded from the cached embeddings')
    .option('--table <name>', 'pgvector: the table for --index')
    .option('--runs <dir>', 'also write each run as a TREC run file in this folder')
    .option('--json', 'print the metrics as JSON')
    .action(async (f: BeirFlags) => {
      if (f.threads) setNumThreads(f.threads);
      const report = await runBeir({
        dataset: f.dataset, retrievers: f.retriever, split: f.split, k: f.k, dtype: f.dtype, device: f.device, weightsDtype: f.weightsDtype, batchSize: f.batchSize, fusion: f.fusion,
        ...(f.model ? { model: f.model } : {}), ...(f.cache ? { cacheDir: f.cache } : {}),
        ...(f.queryMaxLength ? { queryMaxLength: f.queryMaxLength } : {}), ...(f.passageMaxLength ? { passageMaxLength: f.passageMaxLength } : {}),
        ...(f.index || f.table ? { pgvector: pgvectorTarget(f.index, f.table) } : {}),
        log: (l) => process.stderr.write(l + '\n'),
      });
      if (f.runs) {
        mkdirSync(f.runs, { recursive: true });
        for (const r of report.results) await writeRun(join(f.runs, `${r.retriever}.trec`), r.run, { tag: `densekit-${r.retriever}` });
      }
      if (f.json) {
        process.stdout.write(JSON.stringify({ dataset: report.dataset, split: report.split, queries: report.queries,
          results: Object.fromEntries(report.results.map((r) => [r.retriever, r.metrics])) }) + '\n');
      } else {
        process.stdout.write(`${report.dataset} (${report.split}, ${report.queries} queries)\n` + renderBeirTable(report));
      }
    });
}
