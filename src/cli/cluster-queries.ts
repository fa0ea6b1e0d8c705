import type { Command } from 'commander';
import { join, dirname } from 'node:path';
import { mkdirSync } from 'node:fs';
import { SentenceEncoder } from '../models/index.js';
import { readEmbeddings, readTextMap } from '../formats/index.js';
import { writeNpy } from '../io/npy.js';
import { UsageError } from '../errors.js';
import { setNumThreads } from '../tensor/index.js';
import { sphericalKMeans, writeClusterFile } from '../train/index.js';
import { positiveInt } from './options.js';
import { VERB_SUMMARIES } from './verbs.js';

interface ClusterFlags {
  model?: string;
  queries?: string;
  embeddings?: string;
  k: number;
  iterations: number;
  restarts: number;
  seed: number;
  output: string;
  batchSize: number;
  threads?: number;
}

export function register(program: Command): void {
  program
    .command('cluster-queries')
    .description(VERB_SUMMARIES['cluster-queries'])
    .requiredOption('--output <file>', 'cluster file: one line of tab-separated query ids per cluster (the released layout); centroids go to <file>.centroids.npy')
    .option('--model <dir|hub-id>', 'baseline model that encodes --queries (its own pooling, e.g. CLS for TAS-B; not normalized)')
    .option('--queries <file>', 'queries to cluster (id<TAB>text tsv or BEIR queries.jsonl)')
    .option('--embeddings <dir>', 'instead of --model/--queries: query vectors from densekit encode')
    .option('--k <n>', 'number of clusters', positiveInt('--k'), 2000)
    .option('--iterations <n>', 'k-means iterations (faiss IVF default 10)', positiveInt('--iterations'), 10)
    .option('--restarts <n>', 'independent runs, best objective kept', positiveInt('--restarts'), 1)
    .option('--seed <n>', 'initialisation seed', positiveInt('--seed'), 1234)
    .option('--batch-size <n>', 'encoding batch size', positiveInt('--batch-size'), 64)
    .option('--threads <n>', 'CPU threads for libtorch', positiveInt('--threads'))
    .action(async (f: ClusterFlags) => {
      if (f.threads) setNumThreads(f.threads);
      let ids: string[];
      let vectors: Float32Array;
      let dim: number;
      if (f.embeddings) {
        if (f.model || f.queries) throw new UsageError('--embeddings replaces --model and --queries; give one or the other');
        const e = readEmbeddings(f.embeddings);
        ({ ids, vectors } = e);
        dim = e.manifest.dim;
      } else {
        if (!f.model || !f.queries) throw new UsageError('cluster-queries needs --model and --queries (or --embeddings DIR)');
        const texts = await readTextMap(f.queries);
        ids = [...texts.keys()];
        const model = await SentenceEncoder.fromPretrained(f.model);
        try {
          vectors = model.embed([...texts.values()], 'query', { batchSize: f.batchSize }).vectors;
          dim = model.dim;
        } finally {
          model.dispose();
        }
      }
      if (ids.length < f.k) throw new UsageError(`--k ${f.k} is more than the ${ids.length} queries`);
      const result = sphericalKMeans(vectors, dim, {
        k: f.k, iterations: f.iterations, restarts: f.restarts, seed: f.seed,
        onIteration: (i, obj) => process.stderr.write(`k-means iteration ${i + 1}/${f.iterations}: mean inner product ${obj.toFixed(4)}\n`),
      });
      mkdirSync(dirname(f.output) || '.', { recursive: true });
      const sizes = writeClusterFile(f.output, ids, result.assignment, f.k);
      writeNpy(`${f.output}.centroids.npy`, 'float32', [f.k, dim], result.centroids);
      const empty = sizes.filter((s) => s === 0).length;
      const sorted = [...sizes].sort((a, b) => a - b);
      process.stdout.write(
        `clustered ${ids.length} queries into ${f.k} clusters (${empty} empty; sizes min ${sorted[0]}, median ${sorted[sorted.length >> 1]}, max ${sorted.at(-1)}); ` +
          `mean inner product to centroid ${result.objective.toFixed(4)}\nwrote ${f.output} and ${join(dirname(f.output), '')}${f.output.split('/').pop()}.centroids.npy\n`,
      );
    });
}
