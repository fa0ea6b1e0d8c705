import { basename, resolve } from 'node:path';
/** `densekit search`: run queries against an index and write a TREC or MS MARCO run. */
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { checkModel, DenseRetriever } from '../retrieval/dense.js';
import { withQueryVectors } from '../retrieval/query-vectors.js';
import { openIndex } from '../retrieval/registry.js';
import { searchAll } from '../retrieval/run-search.js';
import type { Query, Retriever, TextEncoder } from '../retrieval/types.js';
import { readQueries, writeRun } from '../formats/index.js';
import type { Device } from '../tensor/device.js';
import type { WeightsDtype } from '../models/weights-dtype.js';
import { deviceFlag, ENGINE_HELP, engineFlag, loaderReport, nonNegativeInt, oneOf, positiveInt, summary, weightsDtypeFlag, WEIGHTS_DTYPE_HELP } from './options.js';
import type { RequestedEngine } from '../encode/text-encoder.js';
import { isPostgresUrl, parseFilterFlag } from '../retrieval/pgvector/index.js';
import type { MetadataFilter } from '../retrieval/types.js';
import { VERB_SUMMARIES } from './verbs.js';

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
  dtype: 'fp32' | 'bf16' | 'int8';
  device: Device;
  weightsDtype: WeightsDtype;
  engine: RequestedEngine;
  tag?: string;
  kernel: 'auto' | 'scan' | 'usearch' | 'torch' | 'js';
  allowModelMismatch?: boolean;
  table?: string;
  probes?: number;
  filter?: MetadataFilter;
  connections?: number;
}

export function register(program: Command): void {
  program
    .command('search')
    .description(VERB_SUMMARIES['search'])
    .requiredOption('--index <dir|url>', 'index folder from `densekit index`, or postgres://USER@HOST:PORT/DB with --table')
    .option('--table <name>', 'pgvector: the table `densekit index --type pgvector` built')
    .option('--probes <n>', 'pgvector ivfflat: lists probed per query', positiveInt('--probes'))
    .option('--filter <json>', 'pgvector: metadata filter, e.g. \'{"lang":"en","year":{"gte":2020}}\'', (v) => parseFilterFlag(v))
    .option('--connections <n>', 'pgvector: connections in the pool (the queries of a batch run concurrently)', positiveInt('--connections'))
    .option('--model <dir|hub-id>', 'dense: encode the queries with this model')
    .option('--query-embeddings <dir>', 'dense: `densekit encode` output of the queries (instead of --model)')
    .option('--queries <file>', 'queries.jsonl (_id, text) or tsv (qid<TAB>text); optional with --query-embeddings')
    .requiredOption('--k <n>', 'hits per query', positiveInt('--k'))
    .requiredOption('--output <file>', 'run file to write (atomically)')
    .option('--format <f>', 'trec|msmarco', oneOf('--format', ['trec', 'msmarco'] as const), 'trec')
    .option('--ignore-identical-ids', "BEIR: drop a hit whose document id equals the query id")
    .option('--batch-size <n>', 'queries per search call', positiveInt('--batch-size'))
    .option('--ef-search <n>', 'hnsw (usearch or pgvector): candidates explored per query', positiveInt('--ef-search'))
    .option('--threads <n>', 'search threads (0 = all cores)', nonNegativeInt('--threads'), 0)
    .option('--dtype <dtype>', 'fp32|bf16|int8 query encoding with --model (int8: CPU only)', oneOf('--dtype', ['fp32', 'bf16', 'int8'] as const), 'fp32')
    .option('--device <device>', 'cpu|cuda|cuda:N for --model', deviceFlag, 'cpu')
    .option('--weights-dtype <dtype>', WEIGHTS_DTYPE_HELP, weightsDtypeFlag, 'auto')
    .option('--engine <engine>', ENGINE_HELP, engineFlag, 'auto')
    .option('--tag <tag>', 'TREC run tag (default: densekit-<index folder name>)')
    .option('--kernel <k>', 'flat: candidate scan auto|scan|usearch|torch|js (all exact after rescoring; js is slow)', oneOf('--kernel', ['auto', 'scan', 'usearch', 'torch', 'js'] as const), 'auto')
    .option('--allow-model-mismatch', 'dense: search an index built with another model than --model (or the query embeddings\' model)')
    .action(async (f: SearchFlags) => {
      if (f.model && f.queryEmbeddings) throw new UsageError('give --model or --query-embeddings, not both');
      if (!f.queries && !f.queryEmbeddings) throw new UsageError('--queries is required (or --query-embeddings with encoded queries)');
      const pgvector = isPostgresUrl(f.index);
      if (pgvector !== (f.table !== undefined)) throw new UsageError(pgvector ? '--index postgres://... needs --table NAME' : '--table applies to --index postgres://...');
      if (!pgvector && (f.probes || f.filter || f.connections)) throw new UsageError('--probes, --filter and --connections apply to --index postgres://...');
      const opened = await openIndex(f.index, {
        threads: f.threads, kernel: f.kernel, ...(f.efSearch ? { efSearch: f.efSearch } : {}),
        ...(f.table ? { table: f.table } : {}), ...(f.probes ? { probes: f.probes } : {}), ...(f.connections ? { connections: f.connections } : {}),
      });
      let encoder: TextEncoder | undefined;
      let retriever: Retriever;
      const report = loaderReport();
      let queries: Query[];
      try {
        if (opened.kind === 'vector') {
          if (!f.model && !f.queryEmbeddings) throw new UsageError(`${f.index} is a dense index: give --model or --query-embeddings`);
          if (f.queryEmbeddings) {
            const pre = withQueryVectors(f.queryEmbeddings, f.queries ? await readQueries(f.queries) : undefined);
            if (!f.allowModelMismatch) checkModel(opened.index, pre.model);
            queries = pre.queries;
          } else {
            queries = await readQueries(f.queries!);
            // Loaded on demand: the encoder pulls in the libtorch addon, which BM25 and precomputed vectors never need.
            const { openTextEncoder, resolveEngine } = await import('../encode/index.js');
            const engine = resolveEngine(f.model!, f.engine);
            // --dtype defaults to fp32 here, which the onnx engine computes in too; bf16 is torch's alone.
            encoder = await openTextEncoder(f.model!, { engine, ...(engine === 'torch' || f.dtype !== 'fp32' ? { dtype: f.dtype } : {}), device: f.device, weightsDtype: f.weightsDtype, log: report.log });
          }
          retriever = new DenseRetriever(encoder, opened.index, { allowModelMismatch: f.allowModelMismatch ?? false });
        } else {
          if (f.model || f.queryEmbeddings) throw new UsageError(`${f.index} is a BM25 index: --model and --query-embeddings do not apply`);
          queries = await readQueries(f.queries!);
          retriever = opened.retriever;
        }
      } catch (e) {
        await encoder?.close();
        await (opened.kind === 'vector' ? opened.index : opened.retriever).close();
        throw e;
      }
      try {
        const s = await searchAll(retriever, queries, {
          k: f.k, ignoreIdenticalIds: f.ignoreIdenticalIds ?? false, ...(f.batchSize ? { batchSize: f.batchSize } : {}),
          ...(f.filter ? { filter: f.filter } : {}),
        });
        await writeRun(f.output, s.run, { format: f.format, tag: f.tag ?? (pgvector ? `densekit-pgvector-${f.table}` : `densekit-${basename(resolve(f.index))}`) });
        report.flush();
        summary(f.output, `searched ${s.queries} queries (k=${f.k}) in ${s.seconds.toFixed(2)}s: ${s.queriesPerSecond.toFixed(1)} queries/s; run written to ${f.output}`);
      } finally {
        await retriever.close();
        await encoder?.close();
      }
    });
}
