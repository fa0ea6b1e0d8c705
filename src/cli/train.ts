import type { Command } from 'commander';
import { resolve } from 'node:path';
import { loadRecipe, train, type RecipeOverrides } from '../train/index.js';
import type { Device } from '../tensor/index.js';
import { deviceFlag, oneOf, positiveInt } from './options.js';

interface TrainFlags {
  recipe: string;
  output: string;
  model?: string;
  queries?: string;
  collection?: string;
  teacherPairs?: string;
  triples?: string;
  qrels?: string;
  negatives?: string;
  clusters?: string;
  missingIds?: 'skip' | 'fail';
  teacher?: string;
  teacherKind?: 'colbert' | 'densekit' | 'none';
  devQueries?: string;
  devQrels?: string;
  devCorpus?: string;
  steps?: number;
  batchSize?: number;
  precision?: 'fp32' | 'bf16';
  seed?: number;
  threads?: number;
  device: Device;
  quiet?: boolean;
}

const abs = (p: string | undefined) => (p === undefined ? undefined : resolve(p));

export function register(program: Command): void {
  program
    .command('train')
    .description('train or fine-tune a dense retriever with a recipe (built-in tas-b or gtr, or a JSON/YAML file); rerun to resume')
    .requiredOption('--recipe <tas-b|gtr|file>', 'built-in recipe name or recipe file (see recipes/README.md)')
    .requiredOption('--output <dir>', 'output folder: <stage>/final (model), <stage>/best, checkpoints, train-log.jsonl, train-plot.html')
    .option('--model <dir|hub-id>', 'starting model of the first stage')
    .option('--queries <file>', 'training queries (id<TAB>text tsv or BEIR queries.jsonl)')
    .option('--collection <file>', 'passages (collection.tsv or BEIR corpus.jsonl)')
    .option('--teacher-pairs <file>', 'pairwise teacher scores: pos_score neg_score qid pos_pid neg_pid')
    .option('--triples <file>', 'id triples: qid pos_pid neg_pid')
    .option('--qrels <file>', 'train qrels (positives)')
    .option('--negatives <file>', 'mined hard negatives (TREC run from densekit mine)')
    .option('--clusters <file>', 'query clusters from densekit cluster-queries')
    .option('--missing-ids <policy>', 'skip|fail: pairs whose ids are missing from the texts', oneOf('--missing-ids', ['skip', 'fail'] as const))
    .option('--teacher <dir>', 'in-batch teacher checkpoint (tas-b loss)')
    .option('--teacher-kind <kind>', 'colbert|densekit|none', oneOf('--teacher-kind', ['colbert', 'densekit', 'none'] as const))
    .option('--dev-queries <file>', 'dev queries for periodic evaluation')
    .option('--dev-qrels <file>', 'dev qrels')
    .option('--dev-corpus <file>', 'dev corpus (searched exhaustively)')
    .option('--steps <n>', 'optimizer steps per stage', positiveInt('--steps'))
    .option('--batch-size <n>', 'queries per step', positiveInt('--batch-size'))
    .option('--precision <p>', 'fp32|bf16', oneOf('--precision', ['fp32', 'bf16'] as const))
    .option('--seed <n>', 'sampler and dropout seed', positiveInt('--seed'))
    .option('--threads <n>', 'CPU threads for libtorch', positiveInt('--threads'))
    .option('--device <device>', 'cpu|cuda|cuda:N', deviceFlag, 'cpu')
    .option('--quiet', 'do not print log lines')
    .action(async (f: TrainFlags) => {
      const overrides: RecipeOverrides = {
        model: f.model,
        data: {
          queries: abs(f.queries), collection: abs(f.collection), teacherPairs: abs(f.teacherPairs), triples: abs(f.triples),
          qrels: abs(f.qrels), negatives: abs(f.negatives), clusters: abs(f.clusters), missingIds: f.missingIds,
        },
        teacher: { path: f.teacher, kind: f.teacherKind },
        eval: { queries: abs(f.devQueries), qrels: abs(f.devQrels), corpus: abs(f.devCorpus) },
        steps: f.steps, batchSize: f.batchSize, precision: f.precision, seed: f.seed, threads: f.threads,
      };
      const recipe = loadRecipe(f.recipe, overrides);
      const summaries = await train({
        recipe, output: f.output, device: f.device,
        onLog: f.quiet ? undefined : (e) => process.stderr.write(JSON.stringify(e) + '\n'),
      });
      for (const s of summaries) {
        process.stdout.write(
          `${s.stage}: ${s.steps} steps` + (s.stoppedEarly ? ' (stopped early)' : '') +
            (s.firstLoss !== undefined ? `, loss ${s.firstLoss.toFixed(4)} -> ${s.lastLoss!.toFixed(4)}` : '') +
            (s.bestMetric !== undefined ? `, best dev ${s.bestMetric.toFixed(4)} (${s.bestDir})` : '') + `, model: ${s.finalDir}\n`,
        );
      }
    });
}
