/** `densekit fuse`: reciprocal rank fusion or normalized weighted fusion of runs (Pyserini's methods). */
import { InvalidArgumentError, type Command } from 'commander';
import { readRun, writeRun } from '../formats/index.js';
import { fuse, type RunHits } from '../retrieval/fusion.js';
import { oneOf, positiveInt, summary } from './options.js';
import { VERB_SUMMARIES } from './verbs.js';

interface FuseFlags {
  run: string[];
  method: 'rrf' | 'linear';
  output: string;
  k: number;
  depth: number;
  rrfK: number;
  weights?: number[];
  normalize: boolean;
  format: 'trec' | 'msmarco';
  tag?: string;
}

function weightList(v: string): number[] {
  const ws = v.split(',').map((x) => Number(x.trim()));
  if (ws.some((w, i) => !Number.isFinite(w) || v.split(',')[i]!.trim() === '')) throw new InvalidArgumentError(`--weights expects comma-separated numbers, got "${v}"`);
  return ws;
}

export function register(program: Command): void {
  program
    .command('fuse')
    .description(VERB_SUMMARIES['fuse'])
    .requiredOption('--run <file>', 'an input run (repeat: --run A --run B)', (v: string, acc: string[] = []) => [...acc, v])
    .requiredOption('--method <m>', 'rrf|linear', oneOf('--method', ['rrf', 'linear'] as const))
    .requiredOption('--output <file>', 'fused run to write (atomically)')
    .option('--k <n>', 'hits per query in the output', positiveInt('--k'), 1000)
    .option('--depth <n>', 'hits per query read from each run', positiveInt('--depth'), 1000)
    .option('--rrf-k <n>', 'rrf: the k in 1 / (k + rank)', positiveInt('--rrf-k'), 60)
    .option('--weights <list>', 'linear: one weight per run, e.g. 1,0.1 (Pyserini hybrid: dense + 0.1 * sparse); default all 1', weightList)
    .option('--no-normalize', 'linear: use raw scores instead of mid-range normalized ones')
    .option('--format <f>', 'trec|msmarco', oneOf('--format', ['trec', 'msmarco'] as const), 'trec')
    .option('--tag <tag>', 'TREC run tag (default: rrf_k=60 or linear)')
    .action(async (f: FuseFlags) => {
      const runs: RunHits[] = [];
      for (const path of f.run) runs.push((await readRun(path)).queries);
      const fused = fuse(runs, {
        method: f.method, k: f.k, depth: f.depth, rrfK: f.rrfK, normalize: f.normalize, ...(f.weights ? { weights: f.weights } : {}),
      });
      await writeRun(f.output, fused, { format: f.format, tag: f.tag ?? (f.method === 'rrf' ? `rrf_k=${f.rrfK}` : 'linear') });
      summary(f.output, `fused ${f.run.length} runs (${f.method}) over ${fused.size} queries into ${f.output}`);
    });
}
