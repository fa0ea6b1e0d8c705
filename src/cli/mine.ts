import type { Command } from 'commander';
import { SentenceEncoder } from '../models/index.js';
import { setNumThreads, type Device } from '../tensor/index.js';
import { mineHardNegatives } from '../train/mine.js';
import { deviceFlag, nonNegativeInt, positiveInt, summary } from './options.js';
import { VERB_SUMMARIES } from './verbs.js';

interface MineFlags {
  model: string;
  queries: string;
  collection: string;
  qrels: string;
  output: string;
  depth: number;
  skip: number;
  batchSize: number;
  threads?: number;
  device: Device;
}

export function register(program: Command): void {
  program
    .command('mine')
    .description(VERB_SUMMARIES['mine'])
    .requiredOption('--model <dir|hub-id>', 'model to retrieve with')
    .requiredOption('--queries <file>', 'training queries (tsv or BEIR jsonl); only queries in --qrels are mined')
    .requiredOption('--collection <file>', 'passages to search (tsv or BEIR jsonl), exhaustively')
    .requiredOption('--qrels <file>', 'train qrels: their relevant passages are never negatives')
    .requiredOption('--output <file>', 'TREC run of negatives per query (read by train --negatives)')
    .option('--depth <n>', 'negatives kept per query', positiveInt('--depth'), 30)
    .option('--skip <n>', 'ignore the top n non-relevant hits (likely unjudged positives)', nonNegativeInt('--skip'), 0)
    .option('--batch-size <n>', 'encoding batch size', positiveInt('--batch-size'), 64)
    .option('--threads <n>', 'CPU threads for libtorch', positiveInt('--threads'))
    .option('--device <device>', 'cpu|cuda|cuda:N', deviceFlag, 'cpu')
    .action(async (f: MineFlags) => {
      if (f.threads) setNumThreads(f.threads);
      const model = await SentenceEncoder.fromPretrained(f.model, { device: f.device });
      try {
        const s = await mineHardNegatives({
          model, queriesFile: f.queries, collectionFile: f.collection, qrelsFile: f.qrels, output: f.output,
          depth: f.depth, skip: f.skip, batchSize: f.batchSize, log: (l) => process.stderr.write(l + '\n'),
        });
        summary(f.output, `mined ${s.negatives} negatives for ${s.queries} queries over ${s.passages} passages into ${f.output}`);
      } finally {
        model.dispose();
      }
    });
}
