/**
 * The whole BEIR protocol on one dataset folder: encode the corpus (cached and resumable), build or reuse the
 * indexes, search the test queries, and score the runs as BEIR does (trec_eval measures, hits whose id equals
 * the query id dropped). A dataset is a folder or a name looked up in the data directory (resolveDataset).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DensekitError, UsageError } from '../errors.js';
import type { Precision, WeightsDtype } from '../models/index.js';
import type { Device } from '../tensor/index.js';
import { openEncoder, runEncodeJob } from '../encode/index.js';
import { fuse, type FusionMethod, type RunHits } from '../retrieval/fusion.js';
import { buildIndex, openRetriever } from '../retrieval/registry.js';
import { searchAll } from '../retrieval/run-search.js';
import type { Query, Retriever } from '../retrieval/types.js';
import { readBeirQrels, readQueries, type Run } from '../formats/index.js';
import { evaluate } from '../eval/index.js';
import { ensureModel } from '../hub/index.js';
import { fileDigest, folderDigest } from '../util/digest.js';

export type BeirRetriever = 'dense' | 'bm25' | 'hybrid';

export interface BeirOptions {
  /** A BEIR folder, or a dataset's name in the data directory (`scifact`: see resolveDataset). */
  dataset: string;
  retrievers: readonly BeirRetriever[];
  model?: string;
  split?: string;
  /** Hits per query (BEIR: 1,000). */
  k?: number;
  /** Where embeddings and indexes are kept between runs (default ~/.cache/densekit/beir). */
  cacheDir?: string;
  dtype?: Precision;
  device?: Device;
  weightsDtype?: WeightsDtype;
  batchSize?: number;
  queryMaxLength?: number;
  passageMaxLength?: number;
  fusion?: FusionMethod;
  /** Dense side in PostgreSQL + pgvector instead of a cached flat folder: the table is loaded (only missing rows) and searched. */
  pgvector?: { url: string; table: string };
  log?: (line: string) => void;
}

/**
 * What runBeir reports, named as trec_eval (and so `densekit eval` and `evaluate`) names them: each value is what
 * `densekit eval -m SPEC` prints for the run (with BEIR's identical-id rule), so the two can be compared by name.
 * Keys: trec_eval's output names; values: the -m argument that produces them.
 */
export const BEIR_MEASURES = { ndcg_cut_10: 'ndcg_cut.10', recall_100: 'recall.100', recip_rank: 'recip_rank', map_cut_100: 'map_cut.100' } as const;
export type BeirMeasure = keyof typeof BEIR_MEASURES;

export interface BeirResult {
  retriever: BeirRetriever;
  metrics: Record<BeirMeasure, number>;
  run: RunHits;
  queries: number;
  searchSeconds: number;
}

export interface BeirReport {
  dataset: string;
  split: string;
  queries: number;
  corpusEncodedNow: number;
  results: BeirResult[];
}

export function defaultCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'densekit', 'beir');
}

/**
 * Where datasets named without a folder live: $DENSEKIT_DATA if set, else ./data; then the data/ folder of the
 * densekit package itself (which ships data/scifact), so `--dataset scifact` works from any folder.
 */
export function dataDirs(): string[] {
  const env = process.env.DENSEKIT_DATA;
  const dirs = [resolve(env && env !== '' ? env : 'data')];
  const shipped = packageDataDir();
  if (shipped && !dirs.includes(shipped)) dirs.push(shipped);
  return dirs;
}

function packageDataDir(): string | undefined {
  // src/pipeline (tsx) or dist/src/pipeline (compiled): the package root is the first parent with package.json and data/.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    dir = dirname(dir);
    if (existsSync(join(dir, 'package.json')) && isFolder(join(dir, 'data'))) return join(dir, 'data');
  }
  return undefined;
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * A dataset's folder: `dataset` itself when it is a folder (a path, as before), else, for a bare name
 * (`scifact`, `nfcorpus`: no slash), NAME under each of dataDirs() in turn. Not found: one line listing every
 * place looked at.
 */
export function resolveDataset(dataset: string): string {
  if (isFolder(dataset)) return resolve(dataset);
  const bareName = dataset !== '' && !/[\\/]/.test(dataset) && dataset !== '.' && dataset !== '..';
  if (!bareName) return resolve(dataset); // a path: its missing corpus.jsonl is reported as such
  const tried = [resolve(dataset), ...dataDirs().map((d) => join(d, dataset))];
  const found = tried.slice(1).find(isFolder);
  if (found) return found;
  throw new DensekitError(`dataset "${dataset}": no such folder; looked for ${tried.join(', ')} ` +
    '(a BEIR folder: corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv; DENSEKIT_DATA names the folder holding datasets, default ./data)');
}

function key(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 12);
}

export async function runBeir(o: BeirOptions): Promise<BeirReport> {
  const dataset = resolveDataset(o.dataset);
  const split = o.split ?? 'test';
  const k = o.k ?? 1000;
  const log = o.log ?? (() => {});
  const corpus = join(dataset, 'corpus.jsonl');
  for (const f of [corpus, join(dataset, 'queries.jsonl')])
    if (!existsSync(f)) throw new DensekitError(`${f}: missing (expected a BEIR folder with corpus.jsonl, queries.jsonl and qrels/${split}.tsv)`);
  const needDense = o.retrievers.includes('dense') || o.retrievers.includes('hybrid');
  const needBm25 = o.retrievers.includes('bm25') || o.retrievers.includes('hybrid');
  if (needDense && !o.model) throw new UsageError('is required for the dense and hybrid retrievers', { param: 'model' });

  const qrels = await readBeirQrels(dataset, split);
  const queries: Query[] = (await readQueries(join(dataset, 'queries.jsonl'))).filter((q) => qrels.has(q.id));
  if (queries.length === 0) throw new DensekitError(`${join(dataset, 'qrels', `${split}.tsv`)}: none of its queries are in queries.jsonl`);
  // Keyed by what is in the corpus, never by its path: a corpus regenerated in place gets a new cache (its own
  // BM25 index and embeddings), not the old one's.
  const cache = join(o.cacheDir ?? defaultCacheDir(), `${basename(dataset)}-${key((await fileDigest(corpus)).sha256)}`);
  mkdirSync(cache, { recursive: true });

  const runs = new Map<BeirRetriever, { run: RunHits; seconds: number }>();
  const search = async (retriever: Retriever): Promise<{ run: RunHits; seconds: number }> => {
    try {
      return await searchAll(retriever, queries, { k, ignoreIdenticalIds: true, progress: false });
    } finally {
      await retriever.close();
    }
  };
  let encodedNow = 0;
  if (needBm25) {
    const dir = join(cache, 'bm25');
    if (!existsSync(join(dir, 'index.json'))) {
      log('building the BM25 index');
      await buildIndex('bm25', corpus, dir);
    }
    runs.set('bm25', await search(await openRetriever(dir, undefined)));
  }
  if (needDense) {
    // The model is recorded by its absolute folder (a Hub id: its snapshot, downloaded or found in the Hugging Face
    // cache), so the cache key and the index's model check agree.
    const modelFolder = await ensureModel(o.model!);
    const encoder = await openEncoder(modelFolder, {
      batchSize: o.batchSize ?? 32,
      ...(o.dtype ? { dtype: o.dtype } : {}),
      ...(o.device ? { device: o.device } : {}),
      ...(o.weightsDtype ? { weightsDtype: o.weightsDtype } : {}),
      ...(o.log ? { log: o.log } : {}),
      ...(o.queryMaxLength ? { queryMaxLength: o.queryMaxLength } : {}),
      ...(o.passageMaxLength ? { passageMaxLength: o.passageMaxLength } : {}),
    });
    try {
      // The weights' storage dtype changes the vectors, so it is part of the cache key (fp32 keeps the old keys).
      const weights = encoder.encoder.weights.dtype === 'float32' ? [] : [encoder.encoder.weights.dtype];
      // The model by its content (weights, tokenizer, pooling and Dense configs), so a model retrained into the same
      // folder gets new passage embeddings instead of old vectors beside a new query encoder.
      const modelDigest = await folderDigest(modelFolder);
      const modelDir = join(cache, `model-${key(modelDigest, o.dtype ?? 'fp32', String(encoder.maxLength.passage), ...weights)}`);
      const embDir = join(modelDir, 'corpus');
      const summary = await runEncodeJob({ encoder, input: corpus, output: embDir, kind: 'passage', precision: o.dtype ?? 'fp32', log });
      encodedNow = summary.encoded;
      if (summary.encoded) log(`encoded ${summary.encoded} passages (${summary.rate.toFixed(1)}/s); ${summary.manifest.truncated.count} truncated to ${summary.manifest.truncated.maxLength} tokens`);
      if (o.pgvector) {
        // Idempotent: a table already holding every row costs one lookup per batch.
        const { url, table } = o.pgvector;
        const built = await buildIndex('pgvector', embDir, url, { table, corpus, log });
        log(built.summary);
        runs.set('dense', await search(await openRetriever(url, encoder, { table })));
      } else {
        const indexDir = join(modelDir, 'flat');
        if (summary.encoded > 0 || !existsSync(join(indexDir, 'index.json'))) await buildIndex('flat', embDir, indexDir);
        runs.set('dense', await search(await openRetriever(indexDir, encoder)));
      }
    } finally {
      encoder.close();
    }
  }
  // Hybrid fuses the two runs already searched (as Pyserini's fusion of run files does) instead of searching again.
  if (o.retrievers.includes('hybrid')) {
    const d = runs.get('dense')!;
    const b = runs.get('bm25')!;
    runs.set('hybrid', { run: fuse([d.run, b.run], { method: o.fusion ?? 'rrf', k }), seconds: d.seconds + b.seconds });
  }

  const results = o.retrievers.map((retriever): BeirResult => {
    const { run, seconds } = runs.get(retriever)!;
    const evalRun: Run = { runId: retriever, queries: run };
    const ev = evaluate(qrels, evalRun, { measures: Object.values(BEIR_MEASURES), dropIdenticalIds: true });
    const metrics = Object.fromEntries((Object.keys(BEIR_MEASURES) as BeirMeasure[]).map((name) => {
      const value = ev.aggregate[name];
      if (value === undefined) throw new Error(`evaluate gave no ${name} for -m ${BEIR_MEASURES[name]}`);
      return [name, Number(value)];
    })) as Record<BeirMeasure, number>;
    return { retriever, run, queries: queries.length, searchSeconds: seconds, metrics };
  });
  return { dataset, split, queries: queries.length, corpusEncodedNow: encodedNow, results };
}
