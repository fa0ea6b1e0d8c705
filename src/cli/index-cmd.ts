/** `densekit index`: build a flat, HNSW or BM25 index folder. */
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { readEmbeddings } from '../formats/index.js';
import { ANSERINI_BM25 } from '../retrieval/bm25/build.js';
import { FlatIndex } from '../retrieval/flat.js';
import { DEFAULT_HNSW, HnswIndex } from '../retrieval/hnsw.js';
import { checkRecall } from '../retrieval/recall.js';
import { buildIndex } from '../retrieval/registry.js';
import { boundedNumber, nonNegativeInt, oneOf, positiveInt } from './options.js';

interface IndexFlags {
  type: 'flat' | 'hnsw' | 'bm25';
  input: string;
  output: string;
  similarity?: 'dot' | 'cosine';
  storage: 'float32' | 'int8' | 'bf16';
  M: number;
  efConstruction: number;
  efSearch: number;
  threads: number;
  k1: number;
  b: number;
  append?: boolean;
  checkRecall?: number | true;
  recallK: number;
}

export function register(program: Command): void {
  program
    .command('index')
    .description('build an index: flat or hnsw from `densekit encode` output, bm25 from a BEIR corpus.jsonl')
    .requiredOption('--type <type>', 'flat|hnsw|bm25', oneOf('--type', ['flat', 'hnsw', 'bm25'] as const))
    .requiredOption('--input <path>', 'embeddings folder (flat, hnsw) or corpus.jsonl (bm25)')
    .requiredOption('--output <dir>', 'index folder to write')
    .option('--similarity <s>', "dot|cosine (default: the encoder's); cosine over a dot model stores normalized rows", oneOf('--similarity', ['dot', 'cosine'] as const))
    .option('--storage <s>', 'flat: float32|int8|bf16 (int8 or bf16 scan + exact float32 rescoring)', oneOf('--storage', ['float32', 'int8', 'bf16'] as const), 'float32')
    .option('--M <n>', 'hnsw: graph degree', positiveInt('--M'), DEFAULT_HNSW.M)
    .option('--ef-construction <n>', 'hnsw: candidates while building', positiveInt('--ef-construction'), DEFAULT_HNSW.efConstruction)
    .option('--ef-search <n>', 'hnsw: default candidates while searching', positiveInt('--ef-search'), DEFAULT_HNSW.efSearch)
    .option('--threads <n>', 'threads for building and recall checks (0 = all cores)', nonNegativeInt('--threads'), 0)
    .option('--k1 <x>', 'bm25: k1 (Anserini default 0.9)', boundedNumber('--k1', 0), ANSERINI_BM25.k1)
    .option('--b <x>', 'bm25: b (Anserini default 0.4)', boundedNumber('--b', 0), ANSERINI_BM25.b)
    .option('--append', 'hnsw: add the input vectors to the existing index in --output')
    .option('--check-recall [sample]', 'hnsw or int8/bf16 flat: recall@k against exact search on a sample of documents (default 1000)', positiveInt('--check-recall'))
    .option('--recall-k <n>', 'k for --check-recall', positiveInt('--recall-k'), 10)
    .action(async (f: IndexFlags) => {
      const say = (l: string) => process.stdout.write(l + '\n');
      const start = performance.now();
      if (f.type === 'bm25') {
        if (f.append || f.checkRecall) throw new UsageError('--append and --check-recall apply to dense indexes only');
        const built = await buildIndex('bm25', f.input, f.output, { k1: f.k1, b: f.b });
        say(`${built.summary} in ${secs(start)} at ${f.output}`);
        return;
      }
      if (f.checkRecall && f.type === 'flat' && f.storage === 'float32')
        throw new UsageError('--check-recall applies to hnsw and int8/bf16 flat indexes (float32 flat search is exact)');
      if (f.append) {
        if (f.type !== 'hnsw') throw new UsageError('--append is supported for --type hnsw');
        const idx = await HnswIndex.open(f.output, { writable: true, threads: f.threads });
        const { manifest, ids, vectors } = readEmbeddings(f.input);
        if (manifest.dim !== idx.dim) throw new UsageError(`${f.input} has dimension ${manifest.dim}, the index at ${f.output} has ${idx.dim}`);
        await idx.add(ids, vectors);
        say(`hnsw index: added ${ids.length} vectors (now ${idx.size}) in ${secs(start)} at ${f.output}`);
      } else {
        if (f.type === 'hnsw' && f.storage !== 'float32') throw new UsageError(`--storage ${f.storage} applies to --type flat`);
        if (f.type === 'hnsw' && f.similarity) throw new UsageError('--similarity applies to --type flat (hnsw uses the encoder similarity)');
        const built = f.type === 'flat'
          ? await buildIndex('flat', f.input, f.output, { storage: f.storage, ...(f.similarity ? { similarity: f.similarity } : {}) })
          : await buildIndex('hnsw', f.input, f.output, { M: f.M, efConstruction: f.efConstruction, efSearch: f.efSearch, threads: f.threads });
        say(`${built.summary} in ${secs(start)} at ${f.output}`);
      }
      if (f.checkRecall) {
        const sample = f.checkRecall === true ? 1000 : f.checkRecall;
        const exact = await FlatIndex.open(f.output, { useCompressed: false, threads: f.threads });
        const approx = f.type === 'hnsw' ? await HnswIndex.open(f.output, { threads: f.threads }) : await FlatIndex.open(f.output, { threads: f.threads });
        const r = checkRecall(approx, exact, exact.vectors, exact.dim, sample, f.recallK);
        say(`recall@${r.k} vs exact on ${r.sample} sampled documents: ${r.recall.toFixed(4)} (approximate ${r.approxQueriesPerSecond.toFixed(0)} q/s, exact ${r.exactQueriesPerSecond.toFixed(0)} q/s)`);
      }
    });
}

function secs(start: number): string {
  return `${((performance.now() - start) / 1000).toFixed(1)}s`;
}
