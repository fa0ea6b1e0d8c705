/**
 * Assembling a service from folders and files (what `densekit serve` does): opens the indexes, starts the
 * model in its worker, loads the corpus and the evaluation view, and listens.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { UsageError } from '../errors.js';
import { renderHtmlReport } from '../eval/index.js';
import { readQrels, readRun, type Run } from '../formats/index.js';
import { sameModel } from '../retrieval/dense.js';
import { INT8_IDENTITY_SUFFIX } from '../backends/onnx/engine.js';
import type { FusionMethod } from '../retrieval/fusion.js';
import { readIndexMeta } from '../retrieval/meta.js';
import { openIndex } from '../retrieval/registry.js';
import type { Retriever, VectorIndex } from '../retrieval/types.js';
import { readDocuments, type DocumentMap } from './documents.js';
import type { BatchingOptions, ServiceLimits } from './limits.js';
import { createService } from './service.js';
import { WorkerEncoder, type EncoderOpenOptions } from './worker-encoder.js';

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
  /** The table, when an index is a postgres:// URL (pgvector). */
  table?: string;
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
  let dense: { dir: string; index: VectorIndex } | undefined;
  let lexical: { dir: string; retriever: Retriever } | undefined;
  for (const dir of o.indexes) {
    const opened = await openIndex(dir, { ...(o.efSearch ? { efSearch: o.efSearch } : {}), ...(o.table ? { table: o.table } : {}) });
    if (opened.kind === 'vector') {
      if (dense) throw new UsageError(`--index: two dense indexes (${dense.dir}, ${dir}); give at most one dense and one BM25 index`);
      dense = { dir, index: opened.index };
      log(`index ${dir}: ${opened.type}, ${opened.index.size} x ${opened.index.dim} ${opened.index.similarity}`);
    } else {
      if (lexical) throw new UsageError(`--index: two BM25 indexes (${lexical.dir}, ${dir}); give at most one dense and one BM25 index`);
      lexical = { dir, retriever: opened.retriever };
      log(`index ${dir}: ${opened.type}, ${opened.retriever.size} documents`);
    }
  }

  const model = o.model ?? dense?.index.model;
  if (dense && !model) throw new UsageError(`--model is required: the dense index ${dense.dir} does not record its model`);
  // An int8 export's identity names its source, not a folder: only the export itself can encode its queries.
  if (!o.model && model?.endsWith(INT8_IDENTITY_SUFFIX))
    throw new UsageError(`--model is required: the dense index ${dense!.dir} was encoded by an int8 ONNX export of ${model.slice(0, -INT8_IDENTITY_SUFFIX.length)}; give that export's folder`);
  // The service has always served a model other than the index's with a warning (e.g. a fine-tuned query
  // encoder); dimension and similarity are still checked.
  const recorded = dense?.index.model;
  let encoder: WorkerEncoder | undefined;
  if (model) {
    encoder = await WorkerEncoder.start(model, o.encoder ?? {});
    log(`model ${model}: dim ${encoder.dim}, ${encoder.similarity} (in a worker thread)`);
  }
  // Compared by the encoder's identity, not the folder given: an fp32 ONNX export is the model it was exported from.
  const queriesWith = encoder?.model ?? o.model;
  const allowModelMismatch = dense !== undefined && o.model !== undefined && recorded !== undefined && queriesWith !== undefined && !sameModel(queriesWith, recorded);
  if (allowModelMismatch) log(`warning: the dense index ${dense!.dir} was encoded with ${recorded}; queries are encoded with ${queriesWith}`);
  try {
    const documents = await loadDocuments(o.corpus ?? recordedCorpus(lexical?.dir), o.corpus !== undefined, log);
    const evalReportHtml = await loadEvalReport(o);
    const app = await createService({
      ...(dense && encoder ? { dense: { index: dense.index, encoder, allowModelMismatch } } : encoder ? { encoder } : {}),
      ...(lexical ? { lexical: lexical.retriever } : {}),
      fusion: o.fusion ?? { method: 'rrf' },
      hybridDepth: o.hybridDepth ?? 100,
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

/** The corpus an index folder's index.json records it was built from (BM25 indexes do), when it still exists. */
function recordedCorpus(dir: string | undefined): string | undefined {
  const source = dir !== undefined && existsSync(join(dir, 'index.json')) ? readIndexMeta(dir).source : undefined;
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
  return renderHtmlReport(qrels, runs, { sources: { qrels: o.evalQrels, runs: o.evalRuns } });
}
