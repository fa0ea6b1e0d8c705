import type { Command } from 'commander';
import { resolve } from 'node:path';
import { loadRecipe, train, type RecipeOverrides } from '../train/index.js';
import { Progress } from '../util/progress.js';
import type { LogEntry } from '../train/log.js';
import type { Device } from '../tensor/index.js';
import { deviceFlag, nonNegativeInt, oneOf, positiveInt, positiveNumber } from './options.js';
import { VERB_SUMMARIES } from './verbs.js';

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
  lr?: number;
  warmup?: number;
  queryMaxLength?: number;
  passageMaxLength?: number;
  pooling?: 'cls' | 'mean' | 'max' | 'mean_sqrt_len';
  evalEvery?: number;
  device: Device;
  quiet?: boolean;
}

const abs = (p: string | undefined) => (p === undefined ? undefined : resolve(p));

export function register(program: Command): void {
  program
    .command('train')
    .description(VERB_SUMMARIES['train'])
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
    .option('--lr <x>', 'peak learning rate (optimizer.lr)', positiveNumber('--lr'))
    .option('--warmup <n>', 'linear warm-up steps (schedule.warmupSteps)', nonNegativeInt('--warmup'))
    .option('--query-max-length <n>', 'query token limit', positiveInt('--query-max-length'))
    .option('--passage-max-length <n>', 'passage token limit', positiveInt('--passage-max-length'))
    .option('--pooling <mode>', 'cls|mean|max|mean_sqrt_len (needed to start from a plain Hugging Face model)', oneOf('--pooling', ['cls', 'mean', 'max', 'mean_sqrt_len'] as const))
    .option('--eval-every <n>', 'evaluate on the dev set every N steps', positiveInt('--eval-every'))
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
        lr: f.lr, warmupSteps: f.warmup, queryMaxLength: f.queryMaxLength, passageMaxLength: f.passageMaxLength,
        pooling: f.pooling, evalEvery: f.evalEvery,
      };
      const recipe = loadRecipe(f.recipe, overrides);
      const summaries = await train({ recipe, output: f.output, device: f.device, onLog: reporter(f.quiet === true) });
      for (const s of summaries) {
        process.stdout.write(
          `${s.stage}: ${s.steps} steps` + (s.trainedNow === 0 ? ' (already trained: nothing to do)' : '') + (s.stoppedEarly ? ' (stopped early)' : '') +
            (s.firstLoss !== undefined ? `, loss ${s.firstLoss.toFixed(4)} -> ${s.lastLoss!.toFixed(4)}` : '') +
            (s.bestMetric !== undefined ? `, best dev ${s.bestMetric.toFixed(4)} (${s.bestDir})` : '') + `, model: ${s.finalDir}\n`,
        );
      }
    });
}

/**
 * What `densekit train` shows: on a terminal one progress line per stage (step, loss, samples/s, ETA) with
 * evaluations and checkpoints printed above it; piped, every log entry as a JSON line (as train-log.jsonl has
 * it). Warnings are printed in both cases, and with --quiet only they are.
 */
function reporter(quiet: boolean): (e: LogEntry) => void {
  let progress: Progress | undefined;
  let stage = '';
  let step = 0;
  return (e) => {
    if (e.kind === 'warning') {
      process.stderr.write(`densekit: warning: ${String(e.message)}\n`);
      return;
    }
    if (quiet) return;
    if (!process.stderr.isTTY) {
      process.stderr.write(JSON.stringify(e) + '\n');
      return;
    }
    if (e.kind === 'stage') {
      progress?.finish();
      stage = e.stage;
      step = e.step;
      const total = typeof e.steps === 'number' ? e.steps : undefined;
      progress = new Progress({ label: stage, unit: 'steps', ...(total !== undefined ? { total } : {}) });
      progress.message(e.resumed_from ? `${stage}: resuming at step ${e.step} from ${String(e.resumed_from)}` : `${stage}: training ${String(e.model)} (${String(e.loss)} loss)`);
      return;
    }
    if (e.kind === 'train' && progress && e.stage === stage) {
      const loss = typeof e.loss === 'number' ? e.loss.toFixed(4) : '?';
      const rate = typeof e.samples_per_s === 'number' ? `, ${e.samples_per_s.toFixed(1)} samples/s` : '';
      progress.tick(e.step - step, `loss ${loss}${rate}`);
      step = e.step;
      return;
    }
    if (e.kind === 'eval') progress?.message(`${e.stage} step ${e.step}: dev ${String(e.metric)} ${Number(e.value).toFixed(4)} (best ${Number(e.best).toFixed(4)})`);
    else if (e.kind === 'stop') progress?.message(`${e.stage} step ${e.step}: stopped (${String(e.reason)})`);
  };
}
