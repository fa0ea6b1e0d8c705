import { basename, resolve } from 'node:path';
/** `densekit search`: run queries against an index and write a TREC or MS MARCO run. */
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { isDense, openIndex } from '../search/open.js';
import { isPostgresUrl, parseFilterFlag, PgvectorIndex } from '../retrieval/pgvector/index.js';
import type { MetadataFilter } from '../retrieval/types.js';
import { readQueries, type Query } from '../search/queries.js';
import { modelQueryVectors, precomputedQueryVectors, type QueryVectorSource } from '../search/query-vectors.js';
import { searchAll } from '../search/run-search.js';
import { writeRunFile } from '../search/run-file.js';
import { oneOf, positiveInt } from './options.js';

interface SearchFlags {
  index: string;
  model?: string;
  queryEmbeddings?: string;
  queries?: string;
  k: number;
  output: string;
  format: 'trec' | 'msmarco';
  ignoreIdenticalIds?: boolean;
  batchSize?: number;
  efSearch?: number;
  threads: number;
  dtype: 'fp32' | 'bf16';
  tag?: string;
  kernel: 'auto' | 'scan' | 'usearch' | 'torch' | 'js';
  table?: string;
  probes?: number;
  filter?: MetadataFilter;
  connections?: number;
}

export function register(program: Command): void {
  program
    .command('search')
    .description('search an index (flat, hnsw or bm25) with a queries file and write a run')
    .requiredOption('--index <dir|url>', 'index folder from `densekit index`, or postgres://USER@HOST:PORT/DB with --table')
    .option('--table <name>', 'pgvector: the table `densekit index --type pgvector` built')
    .option('--probes <n>', 'pgvector ivfflat: lists probed per query', positiveInt('--probes'))
    .option('--filter <json>', 'pgvector: metadata filter, e.g. \'{"lang":"en","year":{"gte":2020}}\'', (v) => parseFilterFlag(v))
    .option('--connections <n>', 'pgvector: connections in the pool (queries of a batch run concurrently)', positiveInt('--connections'))
    .option('--model <dir|hub-id>', 'dense: encode the queries with this model')
    .option('--query-embeddings <dir>', 'dense: `densekit encode` output of the queries (instead of --model)')
    .option('--queries <file>', 'queries.jsonl (_id, text) or tsv (qid<TAB>text); optional with --query-embeddings')
    .requiredOption('--k <n>', 'hits per query', positiveInt('--k'))
    .requiredOption('--output <file>', 'run file to write (atomically)')
    .option('--format <f>', 'trec|msmarco', oneOf('--format', ['trec', 'msmarco'] as const), 'trec')
    .option('--ignore-identical-ids', "BEIR: drop a hit whose document id equals the query id")
    .option('--batch-size <n>', 'queries per search call', positiveInt('--batch-size'))
    .option('--ef-search <n>', 'hnsw: candidates explored per query', positiveInt('--ef-search'))
    .option('--threads <n>', 'search threads (0 = all cores)', (v) => (v === '0' ? 0 : positiveInt('--threads')(v)), 0)
    .option('--dtype <dtype>', 'fp32|bf16 query encoding with --model', oneOf('--dtype', ['fp32', 'bf16'] as const), 'fp32')
    .option('--tag <tag>', 'TREC run tag (default: densekit-<index folder name>)')
    .option('--kernel <k>', 'flat: candidate scan auto|scan|usearch|torch|js (all exact after rescoring; js is slow)', oneOf('--kernel', ['auto', 'scan', 'usearch', 'torch', 'js'] as const), 'auto')
    .action(async (f: SearchFlags) => {
      if (f.model && f.queryEmbeddings) throw new UsageError('give --model or --query-embeddings, not both');
      if (!f.queries && !f.queryEmbeddings) throw new UsageError('--queries is required (or --query-embeddings with encoded queries)');
      const pgvector = isPostgresUrl(f.index);
      if (pgvector !== (f.table !== undefined)) throw new UsageError(pgvector ? '--index postgres://... needs --table NAME' : '--table applies to --index postgres://...');
      if (!pgvector && (f.probes || f.filter || f.connections)) throw new UsageError('--probes, --filter and --connections apply to --index postgres://...');
      const index = pgvector
        ? await PgvectorIndex.open(f.index, f.table!, { ...(f.connections ? { connections: f.connections } : {}) })
        : await openIndex(f.index, { threads: f.threads, kernel: f.kernel, ...(f.efSearch ? { efSearch: f.efSearch } : {}) });
      let source: QueryVectorSource | undefined;
      let queries: Query[];
      try {
        if (index instanceof PgvectorIndex || isDense(index)) {
          if (!f.model && !f.queryEmbeddings) throw new UsageError(`${f.index} is a dense index: give --model or --query-embeddings`);
          if (f.queryEmbeddings) {
            const pre = precomputedQueryVectors(f.queryEmbeddings);
            source = pre;
            queries = f.queries ? await readQueries(f.queries) : pre.ids.map((id) => ({ id, text: '' }));
          } else {
            queries = await readQueries(f.queries!);
            source = await modelQueryVectors(f.model!, f.dtype);
          }
        } else {
          if (f.model || f.queryEmbeddings) throw new UsageError(`${f.index} is a BM25 index: --model and --query-embeddings do not apply`);
          queries = await readQueries(f.queries!);
        }
        const s = await searchAll(index, queries, {
          k: f.k, ignoreIdenticalIds: f.ignoreIdenticalIds ?? false,
          ...(source ? { queryVectors: source } : {}), ...(f.batchSize ? { batchSize: f.batchSize } : {}),
          searchOptions: { ...(f.efSearch ? { efSearch: f.efSearch } : {}), ...(f.probes ? { probes: f.probes } : {}), ...(f.filter ? { filter: f.filter } : {}) },
        });
        await writeRunFile(f.output, s.run, f.format, f.tag ?? (pgvector ? `densekit-pgvector-${f.table}` : `densekit-${basename(resolve(f.index))}`));
        process.stdout.write(`searched ${s.queries} queries (k=${f.k}) in ${s.seconds.toFixed(2)}s: ${s.queriesPerSecond.toFixed(1)} queries/s; run written to ${f.output}\n`);
      } finally {
        source?.close();
        if (index instanceof PgvectorIndex) await index.close();
      }
    });
}
