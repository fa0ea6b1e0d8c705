/**
 * `densekit serve --index DIR [--index DIR2] [--model M] [--corpus FILE] [--host H] --port N`: the search
 * service and its web page. SIGTERM/SIGINT close it gracefully (in-flight requests finish); a second
 * signal exits at once.
 */
import { preferPassiveWaits } from '../tensor/native.js';
import { choosePrecision, type RequestedPrecision } from '../tensor/cpu.js';
import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_BATCHING, DEFAULT_LIMITS } from '../serve/limits.js';
import { openService } from '../serve/launch.js';
import type { Device } from '../tensor/index.js';
import type { WeightsDtype } from '../models/weights-dtype.js';
import { VERB_SUMMARIES } from './verbs.js';
import { deviceFlag, DTYPE_AUTO_HELP, ENGINE_HELP, engineFlag, nonNegativeInt, oneOf, positiveInt, weightsDtypeFlag, WEIGHTS_DTYPE_HELP } from './options.js';
import { resolveEngine, type RequestedEngine } from '../encode/text-encoder.js';
import { UsageError } from '../errors.js';

interface ServeFlags {
  index: string[];
  model?: string;
  corpus?: string;
  host: string;
  port: number;
  dtype: RequestedPrecision;
  device: Device;
  weightsDtype: WeightsDtype;
  engine: RequestedEngine;
  threads?: number;
  fusion: 'rrf' | 'linear';
  fusionWeights?: number[];
  hybridDepth: number;
  efSearch?: number;
  table?: string;
  maxBatch: number;
  batchWaitMs: number;
  maxK: number;
  maxQueries: number;
  maxHitsWithFields: number;
  maxTexts: number;
  maxTextLength: number;
  requestTimeoutMs: number;
  evalReport?: string;
  evalQrels?: string;
  evalRun: string[];
  log?: boolean;
}

const collect = (v: string, acc: string[]): string[] => [...acc, v];

function port(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || n > 65535) throw new InvalidArgumentError(`--port expects an integer 0..65535, got "${v}"`);
  return n;
}


function weights(v: string): number[] {
  const w = v.split(',').map(Number);
  if (w.length !== 2 || w.some((x) => !Number.isFinite(x))) throw new InvalidArgumentError(`--fusion-weights expects two numbers "DENSE,BM25", got "${v}"`);
  return w;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description(VERB_SUMMARIES['serve'])
    .option('--index <dir|url>', 'index folder (flat, hnsw or bm25) or postgres://... (pgvector, with --table); give a dense and a BM25 index for hybrid', collect, [] as string[])
    .option('--table <name>', 'pgvector: the table of a postgres:// --index')
    .option('--model <dir|hub-id>', 'query encoder (default: the model recorded in the dense index)')
    .option('--corpus <file>', 'BEIR corpus.jsonl for titles, snippets and /documents/:id (default: the one recorded in the BM25 index)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port to listen on (0: any free port)', port, 8080)
    .option('--dtype <dtype>', `encoder precision ${DTYPE_AUTO_HELP}; fp16 on CUDA only`, oneOf('--dtype', ['auto', 'fp32', 'bf16', 'int8', 'fp16'] as const), 'auto')
    .option('--device <device>', 'cpu|cuda|cuda:N', deviceFlag, 'cpu')
    .option('--weights-dtype <dtype>', WEIGHTS_DTYPE_HELP, weightsDtypeFlag, 'auto')
    .option('--threads <n>', 'encoder threads (libtorch, or ONNX Runtime with --engine onnx)', positiveInt('--threads'))
    .option('--engine <engine>', ENGINE_HELP, engineFlag, 'auto')
    .option('--fusion <method>', 'hybrid fusion rrf|linear', oneOf('--fusion', ['rrf', 'linear'] as const), 'rrf')
    .option('--fusion-weights <d,s>', 'linear fusion weights of the dense and BM25 runs (Pyserini: 1,0.1)', weights)
    .option('--hybrid-depth <n>', 'hits per run fused in hybrid mode', positiveInt('--hybrid-depth'), 100)
    .option('--ef-search <n>', 'hnsw: candidates per query', positiveInt('--ef-search'))
    .option('--max-batch <n>', 'most queries in one encoder call', positiveInt('--max-batch'), DEFAULT_BATCHING.maxBatch)
    .option('--batch-wait-ms <n>', 'how long an idle encoder waits to batch concurrent queries', nonNegativeInt('--batch-wait-ms'), DEFAULT_BATCHING.maxWaitMs)
    .option('--max-k <n>', 'largest k a request may ask for', positiveInt('--max-k'), DEFAULT_LIMITS.maxK)
    .option('--max-hits-with-fields <n>', 'most queries x k in one /search request with document fields', positiveInt('--max-hits-with-fields'), DEFAULT_LIMITS.maxHitsWithFields)
    .option('--max-queries <n>', 'most queries in one /search request', positiveInt('--max-queries'), DEFAULT_LIMITS.maxQueries)
    .option('--max-texts <n>', 'most texts in one /encode request', positiveInt('--max-texts'), DEFAULT_LIMITS.maxTexts)
    .option('--max-text-length <n>', 'longest query or text, in characters', positiveInt('--max-text-length'), DEFAULT_LIMITS.maxTextLength)
    .option('--request-timeout-ms <n>', 'requests not fully received by then get 408', positiveInt('--request-timeout-ms'), DEFAULT_LIMITS.requestTimeoutMs)
    .option('--eval-report <file.html>', 'report written by `densekit eval --report`, shown in the evaluation view')
    .option('--eval-qrels <file>', 'or: qrels to render an evaluation report from at startup (with --eval-run)')
    .option('--eval-run <file>', 'run for the evaluation report; repeatable', collect, [] as string[])
    .option('--log', 'JSON request log on stdout')
    .action(async (f: ServeFlags) => {
      // The encoder shares 2 cores with the event loop and other requests: spinning OpenMP waits hurt latency there.
      preferPassiveWaits();
      const say = (line: string) => process.stderr.write(`densekit serve: ${line}\n`);
      // Without --model the engine is decided in the worker from the index's recorded model (auto: torch unless an export).
      const engine = f.model ? resolveEngine(f.model, f.engine) : f.engine;
      if (engine === 'onnx' && f.dtype !== 'auto' && f.dtype !== 'fp32') throw new UsageError(`--dtype ${f.dtype} applies to --engine torch; the onnx engine computes in fp32 (or int8 with a --quantize int8 export)`);
      const precision = engine === 'onnx' ? { dtype: 'fp32' as const, note: 'onnx engine (fp32 compute)', warning: undefined } : choosePrecision(f.dtype, f.device);
      say(precision.note);
      if (precision.warning) say(`warning: ${precision.warning}`);
      const { app, modes, documents } = await openService({
        indexes: f.index,
        model: f.model,
        encoder: { engine, dtype: precision.dtype, ...(f.dtype === 'auto' ? { autoDtype: true } : {}), device: f.device, weightsDtype: f.weightsDtype, ...(f.threads ? { threads: f.threads } : {}) },
        corpus: f.corpus,
        evalReport: f.evalReport,
        evalQrels: f.evalQrels,
        evalRuns: f.evalRun,
        fusion: { method: f.fusion, ...(f.fusionWeights ? { weights: f.fusionWeights } : {}) },
        hybridDepth: f.hybridDepth,
        efSearch: f.efSearch,
        ...(f.table ? { table: f.table } : {}),
        batching: { maxBatch: f.maxBatch, maxWaitMs: f.batchWaitMs },
        limits: { maxK: f.maxK, maxQueries: f.maxQueries, maxHitsWithFields: f.maxHitsWithFields, maxTexts: f.maxTexts, maxTextLength: f.maxTextLength, requestTimeoutMs: f.requestTimeoutMs },
        logger: f.log ?? false,
        log: say,
      });
      const closed = new Promise<void>((resolve, reject) => {
        let stopping = false;
        const stop = (signal: NodeJS.Signals): void => {
          if (stopping) {
            say(`${signal} again: exiting without waiting`);
            process.exit(130);
          }
          stopping = true;
          say(`${signal}: finishing in-flight requests, then exiting`);
          app.close().then(resolve, reject);
        };
        process.on('SIGTERM', stop).on('SIGINT', stop);
      });
      const url = await app.listen({ host: f.host, port: f.port });
      say(`listening on ${url} (modes: ${modes.join(', ')}${documents !== undefined ? `; ${documents} documents` : ''}); open it in a browser to search, or see ${url}/openapi.json for the API`);
      await closed;
      say('stopped');
    });
}
