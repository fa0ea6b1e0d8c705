/**
 * Assembling a service from folders and files (what `densekit serve` does): opens the indexes, starts the
 * model in its worker, loads the corpus and the evaluation view, and listens.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { UsageError } from '../errors.js';
import { renderHtmlReport } from '../eval/index.js';
import { readQrels, readRun, type Run } from '../formats/index.js';
import { fuse, isDense, openIndex, type AnyIndex, type DenseIndex, type FusionMethod } from '../search/index.js';
import type { Bm25Index } from '../search/index.js';
import { readDocuments, type DocumentMap } from './documents.js';
import type { EncoderOpenOptions } from './encoder.js';
import type { BatchingOptions, ServiceLimits } from './limits.js';
import type { FuseFn, Hit } from './searcher.js';
import { createService } from './service.js';
import { WorkerEncoder } from './worker-encoder.js';

export interface LaunchOptions {
  /** Index folders: at most one dense (flat or hnsw) and one BM25. */
  indexes: string[];
  /** Default: the model recorded in the dense index. */
  model?: string;
  encoder?: EncoderOpenOptions & { threads?: number };
  /** BEIR corpus.jsonl; default: the corpus recorded in the BM25 index, when it still exists. */
  corpus?: string;
  /** An HTML report written by `densekit eval --report`. */
  evalReport?: string;
  /** Or: qrels and runs rendered into a report at startup. */
  evalQrels?: string;
  evalRuns?: string[];
  fusion?: { method: FusionMethod; weights?: number[]; rrfK?: number };
  hybridDepth?: number;
  efSearch?: number;
  limits?: Partial<ServiceLimits>;
  batching?: Partial<BatchingOptions>;
  logger?: boolean;
  /** Progress lines while loading (to stderr in the CLI). */
  log?: (line: string) => void;
}

export interface OpenedService {
  app: FastifyInstance;
  modes: string[];
  model: string | undefined;
  documents: number | undefined;
}

export async function openService(o: LaunchOptions): Promise<OpenedService> {
  const log = o.log ?? (() => {});
  if (o.indexes.length === 0) throw new UsageError('--index is required (a flat, hnsw or bm25 index folder; repeat it for hybrid)');
  let dense: { dir: string; index: DenseIndex } | undefined;
  let lexical: { dir: string; index: Bm25Index } | undefined;
  for (const dir of o.indexes) {
    const index: AnyIndex = await openIndex(dir, o.efSearch ? { efSearch: o.efSearch } : {});
    if (isDense(index)) {
      if (dense) throw new UsageError(`--index: two dense indexes (${dense.dir}, ${dir}); give at most one dense and one BM25 index`);
      dense = { dir, index };
    } else {
      if (lexical) throw new UsageError(`--index: two BM25 indexes (${lexical.dir}, ${dir}); give at most one dense and one BM25 index`);
      lexical = { dir, index };
    }
    log(`index ${dir}: ${isDense(index) ? `${index.meta.type}, ${index.size} x ${index.dim} ${index.similarity}` : `bm25, ${index.size} documents`}`);
  }

  const model = o.model ?? (dense ? dense.index.meta.model : undefined);
  if (dense && !model) throw new UsageError(`--model is required: the dense index ${dense.dir} does not record its model`);
  if (dense && o.model && dense.index.meta.model && o.model !== dense.index.meta.model) {
    log(`warning: the dense index ${dense.dir} was encoded with ${dense.index.meta.model}; queries are encoded with ${o.model}`);
  }
  let encoder: WorkerEncoder | undefined;
  if (model) {
    encoder = await WorkerEncoder.start(model, o.encoder ?? {});
    log(`model ${model}: dim ${encoder.dim}, ${encoder.similarity} (in a worker thread)`);
  }
  try {
    if (dense && encoder && encoder.dim !== dense.index.dim) {
      throw new UsageError(`--model ${model} encodes ${encoder.dim}-dimensional vectors but the index ${dense.dir} holds ${dense.index.dim}-dimensional ones`);
    }
    const documents = await loadDocuments(o.corpus ?? recordedCorpus(lexical?.index), o.corpus !== undefined, log);
    const evalReportHtml = await loadEvalReport(o);
    const fusion = o.fusion ?? { method: 'rrf' as const };
    const hybridDepth = o.hybridDepth ?? 100;
    const fuseOne: FuseFn = (runs: Hit[][], k: number) =>
      fuse(runs.map((hits) => new Map([['q', hits]])), { ...fusion, k, depth: Math.max(k, hybridDepth) }).get('q') ?? [];
    const app = await createService({
      ...(dense && encoder ? { dense: { index: dense.index, encoder } } : encoder ? { encoder } : {}),
      ...(lexical ? { lexical: lexical.index } : {}),
      fuse: fuseOne,
      hybridDepth,
      documents,
      evalReportHtml,
      limits: o.limits,
      batching: o.batching,
      logger: o.logger,
    });
    const modes = (await app.inject({ method: 'GET', url: '/health' })).json<{ modes: string[] }>().modes;
    return { app, modes, model, documents: documents?.size };
  } catch (e) {
    await encoder?.close();
    throw e;
  }
}

function recordedCorpus(index: Bm25Index | undefined): string | undefined {
  const source = index?.meta.source;
  return typeof source === 'string' && existsSync(source) ? source : undefined;
}

async function loadDocuments(path: string | undefined, explicit: boolean, log: (l: string) => void): Promise<DocumentMap | undefined> {
  if (path === undefined) {
    log('no corpus: results show ids only (give --corpus corpus.jsonl for titles and snippets)');
    return undefined;
  }
  const map = await readDocuments(path);
  log(`corpus ${path}${explicit ? '' : ' (recorded in the BM25 index)'}: ${map.size} documents`);
  return map;
}

async function loadEvalReport(o: LaunchOptions): Promise<string | undefined> {
  if (o.evalReport !== undefined) {
    if (o.evalQrels !== undefined) throw new UsageError('give either --eval-report or --eval-qrels with --eval-run, not both');
    if (!existsSync(o.evalReport)) throw new UsageError(`--eval-report ${o.evalReport}: no such file`);
    return readFileSync(o.evalReport, 'utf8');
  }
  if (o.evalQrels === undefined) {
    if (o.evalRuns?.length) throw new UsageError('--eval-run needs --eval-qrels');
    return undefined;
  }
  if (!o.evalRuns?.length) throw new UsageError('--eval-qrels needs at least one --eval-run');
  const qrels = await readQrels(o.evalQrels);
  const runs: Run[] = [];
  for (const path of o.evalRuns) runs.push(await readRun(path));
  return renderHtmlReport(qrels, runs);
}
