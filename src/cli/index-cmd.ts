/** `densekit index`: build a flat, HNSW or BM25 index folder, or a pgvector table in PostgreSQL. */
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { readEmbeddings } from '../formats/index.js';
import { ANSERINI_BM25 } from '../retrieval/bm25/build.js';
import { FlatIndex } from '../retrieval/flat.js';
import { DEFAULT_HNSW, HnswIndex } from '../retrieval/hnsw.js';
import { checkRecall } from '../retrieval/recall.js';
import { buildIndex } from '../retrieval/registry.js';
import { DEFAULT_PG_HNSW, isPostgresUrl, redactUrl, type AnnRequest } from '../retrieval/pgvector/index.js';
import { boundedNumber, nonNegativeInt, oneOf, positiveInt } from './options.js';
import { VERB_SUMMARIES } from './verbs.js';

interface IndexFlags {
  type: 'flat' | 'hnsw' | 'bm25' | 'pgvector';
  input: string[];
  output: string;
  table?: string;
  ann: 'hnsw' | 'ivfflat' | 'none';
  m: number;
  lists?: number;
  corpus?: string;
  batchRows?: number;
  similarity?: 'dot' | 'cosine';
  storage: 'float32' | 'int8' | 'bf16';
  M: number;
  efConstruction?: number;
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
    .description(VERB_SUMMARIES['index'])
    .requiredOption('--type <type>', 'flat|hnsw|bm25|pgvector', oneOf('--type', ['flat', 'hnsw', 'bm25', 'pgvector'] as const))
    .requiredOption('--input <path...>', 'embeddings folder(s) (flat, hnsw, pgvector: one, or the N `encode --shard I/N` folders) or corpus.jsonl (bm25)')
    .requiredOption('--output <dir|url>', 'index folder to write, or postgres://USER@HOST:PORT/DB (pgvector)')
    .option('--table <name>', 'pgvector: table to create or complete')
    .option('--ann <method>', 'pgvector: hnsw|ivfflat|none', oneOf('--ann', ['hnsw', 'ivfflat', 'none'] as const), 'hnsw')
    .option('--m <n>', 'pgvector hnsw: graph degree', positiveInt('--m'), DEFAULT_PG_HNSW.m)
    .option('--lists <n>', 'pgvector ivfflat: lists (default rows/1000, sqrt(rows) past 1M)', positiveInt('--lists'))
    .option('--corpus <file>', 'pgvector: the encoded corpus (corpus.jsonl or tsv), to store text and metadata')
    .option('--batch-rows <n>', 'pgvector: rows per COPY transaction', positiveInt('--batch-rows'))
    .option('--similarity <s>', "dot|cosine (default: the encoder's); cosine over a dot model stores normalized rows", oneOf('--similarity', ['dot', 'cosine'] as const))
    .option('--storage <s>', 'flat: float32|int8|bf16 (int8 or bf16 scan + exact float32 rescoring)', oneOf('--storage', ['float32', 'int8', 'bf16'] as const), 'float32')
    .option('--M <n>', 'hnsw: graph degree', positiveInt('--M'), DEFAULT_HNSW.M)
    .option('--ef-construction <n>', `hnsw: candidates while building (default ${DEFAULT_HNSW.efConstruction}; pgvector ${DEFAULT_PG_HNSW.efConstruction})`, positiveInt('--ef-construction'))
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
      if (f.type === 'pgvector') {
        if (!isPostgresUrl(f.output)) throw new UsageError(`--type pgvector writes to a database: --output must be postgres://USER@HOST:PORT/DB, got "${f.output}"`);
        if (!f.table) throw new UsageError('--type pgvector needs --table NAME');
        if (f.append || f.checkRecall) throw new UsageError('--append and --check-recall apply to flat and hnsw folders');
        if (f.ann !== 'ivfflat' && f.lists) throw new UsageError('--lists applies to --ann ivfflat');
        const ann: AnnRequest = f.ann === 'hnsw' ? { method: 'hnsw', m: f.m, efConstruction: f.efConstruction ?? DEFAULT_PG_HNSW.efConstruction }
          : f.ann === 'ivfflat' ? { method: 'ivfflat', ...(f.lists ? { lists: f.lists } : {}) } : { method: 'none' };
        const built = await buildIndex('pgvector', f.input, f.output, {
          table: f.table, ann, ...(f.corpus ? { corpus: f.corpus } : {}), ...(f.batchRows ? { batchRows: f.batchRows } : {}),
          log: (l) => process.stderr.write(l + '\n'),
        });
        say(`${built.summary} in ${secs(start)} at ${redactUrl(f.output)}`);
        return;
      }
      if (f.table || f.corpus || f.lists || f.batchRows) throw new UsageError('--table, --corpus, --lists and --batch-rows apply to --type pgvector');
      if (f.type === 'bm25' && f.input.length !== 1) throw new UsageError('--type bm25 takes one corpus file as --input');
      if (f.append && f.input.length !== 1) throw new UsageError('--append takes one embeddings folder as --input');
      const input = f.input[0]!;
      if (f.type === 'bm25') {
        if (f.append || f.checkRecall) throw new UsageError('--append and --check-recall apply to dense indexes only');
        const built = await buildIndex('bm25', input, f.output, { k1: f.k1, b: f.b });
        say(`${built.summary} in ${secs(start)} at ${f.output}`);
        return;
      }
      if (f.checkRecall && f.type === 'flat' && f.storage === 'float32')
        throw new UsageError('--check-recall applies to hnsw and int8/bf16 flat indexes (float32 flat search is exact)');
      if (f.append) {
        if (f.type !== 'hnsw') throw new UsageError('--append is supported for --type hnsw');
        const idx = await HnswIndex.open(f.output, { writable: true, threads: f.threads });
        const { manifest, ids, vectors } = readEmbeddings(input);
        if (manifest.dim !== idx.dim) throw new UsageError(`${input} has dimension ${manifest.dim}, the index at ${f.output} has ${idx.dim}`);
        await idx.add(ids, vectors);
        say(`hnsw index: added ${ids.length} vectors (now ${idx.size}) in ${secs(start)} at ${f.output}`);
      } else {
        if (f.type === 'hnsw' && f.storage !== 'float32') throw new UsageError(`--storage ${f.storage} applies to --type flat`);
        if (f.type === 'hnsw' && f.similarity) throw new UsageError('--similarity applies to --type flat (hnsw uses the encoder similarity)');
        const built = f.type === 'flat'
          ? await buildIndex('flat', f.input, f.output, { storage: f.storage, ...(f.similarity ? { similarity: f.similarity } : {}) })
          : await buildIndex('hnsw', f.input, f.output, { M: f.M, efConstruction: f.efConstruction ?? DEFAULT_HNSW.efConstruction, efSearch: f.efSearch, threads: f.threads });
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
