/**
 * The HTTP service (Fastify): JSON API, web page, metrics. It owns what it is given: closing the service
 * finishes in-flight requests, drains the query batcher, then closes the encoder.
 *
 *   POST /search          { query | queries[], k?, mode?, fields? }
 *   POST /encode          { texts[], kind? }
 *   GET  /documents/:id
 *   GET  /health          modes, index sizes, model, status
 *   GET  /metrics         Prometheus text
 *   GET  /                the search page (GET /eval: the evaluation report shown in it)
 */
import { createServer, STATUS_CODES } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyError } from 'fastify';
import { DensekitError } from '../errors.js';
import type { DocumentLookup } from './documents.js';
import type { QueryEncoder } from './encoder.js';
import { makeSnippet, matchSpans, queryTerms } from './highlight.js';
import { formatSchemaError, HttpError } from './http-errors.js';
import { DEFAULT_BATCHING, DEFAULT_LIMITS, type BatchingOptions, type ServiceLimits } from './limits.js';
import { ServiceMetrics } from './metrics.js';
import { QueueFullError } from './micro-batcher.js';
import { ModeUnavailableError, SEARCH_MODES, Searcher, type DenseBackend, type FuseFn, type Hit, type LexicalBackend, type SearchMode } from './searcher.js';
import { loadWebAssets, type WebAssets } from './web-assets.js';

export const RESULT_FIELDS = ['title', 'text', 'snippet', 'highlights'] as const;
export type ResultField = (typeof RESULT_FIELDS)[number];

export interface ServiceOptions {
  /** A dense index and the model that encodes queries for it (their dims must agree). */
  dense?: { index: DenseBackend; encoder: QueryEncoder };
  /** A model without a dense index still serves POST /encode. */
  encoder?: QueryEncoder;
  lexical?: LexicalBackend;
  /** Fusion for hybrid mode (needs dense and lexical). */
  fuse?: FuseFn;
  /** Depth of each list fused in hybrid mode (default 100, at least k). */
  hybridDepth?: number;
  /** Titles, snippets and GET /documents/:id. */
  documents?: DocumentLookup;
  /** The HTML report of `densekit eval`, shown in the page's evaluation view. */
  evalReportHtml?: string;
  limits?: Partial<ServiceLimits>;
  batching?: Partial<BatchingOptions>;
  /** Fastify's JSON request log on stdout. */
  logger?: boolean;
  /** Include Node process metrics (CPU, memory, event-loop lag) in /metrics; default true. */
  processMetrics?: boolean;
  /** The page's files; loaded from the package when absent. */
  web?: WebAssets;
}

interface SearchBody {
  query?: string;
  queries?: string[];
  k?: number;
  mode?: SearchMode;
  fields?: ResultField[];
}

interface EncodeBody {
  texts: string[];
  kind?: 'query' | 'passage';
}

export interface ResultHit {
  rank: number;
  id: string;
  score: number;
  title?: string;
  text?: string;
  snippet?: string;
  snippetCut?: { start: boolean; end: boolean };
  highlights?: { title?: [number, number][]; text?: [number, number][]; snippet?: [number, number][] };
}

export async function createService(opts: ServiceOptions): Promise<FastifyInstance> {
  const limits: ServiceLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const batching: BatchingOptions = { ...DEFAULT_BATCHING, ...opts.batching };
  const web = opts.web ?? (await loadWebAssets());
  const encoder = opts.dense?.encoder ?? opts.encoder;
  const documents = opts.documents;

  let metrics: ServiceMetrics | undefined;
  const searcher = new Searcher({
    dense: opts.dense,
    lexical: opts.lexical,
    fuse: opts.fuse,
    hybridDepth: opts.hybridDepth,
    batching: { ...batching, maxQueue: limits.maxQueuedQueries },
    onBatch: (n) => metrics?.batchSize.observe(n),
  });
  if (searcher.modes.length === 0) throw new DensekitError('nothing to serve: give a dense index with a model, or a BM25 index');
  metrics = new ServiceMetrics(
    { queueDepth: () => searcher.queueDepth, indexSizes: () => searcher.sizes },
    { processMetrics: opts.processMetrics },
  );
  const m = metrics;

  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: limits.bodyLimit,
    routerOptions: { maxParamLength: 1000 },
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false } },
    schemaErrorFormatter: formatSchemaError,
    // Node's own timers answer slow clients with 408; the check interval bounds how late that happens.
    serverFactory: (handler) =>
      createServer(
        {
          requestTimeout: limits.requestTimeoutMs,
          headersTimeout: Math.min(limits.requestTimeoutMs, 60_000),
          connectionsCheckingInterval: Math.max(50, Math.min(1000, limits.requestTimeoutMs / 4)),
          keepAliveTimeout: 5000,
        },
        handler,
      ),
  });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    m.requests.inc({ method: req.method, route, status: String(reply.statusCode) });
    m.latency.observe({ method: req.method, route }, reply.elapsedTime / 1000);
  });

  app.setErrorHandler((err: FastifyError | Error, req, reply) => {
    let status = 500;
    if (err instanceof HttpError) status = err.statusCode;
    else if (err instanceof ModeUnavailableError) status = 400;
    else if (err instanceof QueueFullError) status = 503;
    else if (err instanceof DensekitError) status = 400;
    else if ('statusCode' in err && typeof err.statusCode === 'number' && err.statusCode >= 400) status = err.statusCode;
    let message = err.message.replace(/\s*\n\s*/g, ' ');
    if (err instanceof QueueFullError) message = `the service is overloaded (${message}); retry later`;
    if (status >= 500 && !(err instanceof QueueFullError)) req.log.error(err);
    if (status === 500) message = `internal error: ${message}`;
    void reply.status(status).send({ statusCode: status, error: STATUS_CODES[status] ?? 'Error', message });
  });

  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send({ statusCode: 404, error: 'Not Found', message: `no such endpoint: ${req.method} ${req.url.split('?')[0]}` });
  });

  // Responses finished while closing tell keep-alive clients to go, so the listener can close promptly.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_req, reply) => {
    if (closing) void reply.header('connection', 'close');
  });

  app.addHook('onClose', async () => {
    // In-flight requests have finished by now (Fastify closes the listener and waits for them first).
    await searcher.drain();
    if (encoder) await encoder.close();
  });

  // ---- API ---------------------------------------------------------------------------------------
  const textSchema = { type: 'string' };
  app.post<{ Body: SearchBody }>('/search', {
    schema: {
      body: {
        type: 'object',
        additionalProperties: false,
        properties: {
          query: textSchema,
          queries: { type: 'array', items: textSchema, minItems: 1 },
          k: { type: 'integer', minimum: 1, maximum: limits.maxK },
          mode: { type: 'string', enum: SEARCH_MODES },
          fields: { type: 'array', items: { type: 'string', enum: RESULT_FIELDS }, uniqueItems: true },
        },
      },
    },
  }, async (req) => {
    const body = req.body;
    const started = performance.now();
    const single = body.queries === undefined;
    if (body.query !== undefined && body.queries !== undefined) throw new HttpError(400, 'body: give either query or queries, not both');
    if (body.query === undefined && body.queries === undefined) throw new HttpError(400, 'body.query is required (a string; or body.queries, a list of strings)');
    const queries = single ? [body.query!] : body.queries!;
    if (queries.length > limits.maxQueries) {
      throw new HttpError(413, `body.queries has ${queries.length} queries; the limit is ${limits.maxQueries} per request`);
    }
    queries.forEach((q, i) => checkText(q, single ? 'body.query' : `body.queries[${i}]`, limits.maxTextLength));
    const mode = body.mode ?? searcher.defaultMode;
    const k = body.k ?? 10;
    const fields = new Set<ResultField>(body.fields ?? (documents ? ['title', 'snippet'] : []));
    const needsDocuments = [...fields].find((f) => f !== 'highlights');
    if (needsDocuments && !documents) {
      throw new HttpError(400, `body.fields: "${needsDocuments}" needs the documents; this service was started without a corpus (--corpus FILE)`);
    }
    const runs = await searcher.search(queries, k, mode);
    m.queries.inc({ mode }, queries.length);
    const missing: string[] = [];
    const results = queries.map((q, i) => ({ query: q, hits: presentHits(runs[i]!, q, fields, documents, missing) }));
    const tookMs = performance.now() - started;
    const warnings = missing.length
      ? [`${missing.length} hit(s) are not in the corpus, e.g. ${JSON.stringify(missing[0])}: the index and --corpus do not match`]
      : undefined;
    return single
      ? { mode, k, tookMs, hits: results[0]!.hits, ...(warnings && { warnings }) }
      : { mode, k, tookMs, results, ...(warnings && { warnings }) };
  });

  app.post<{ Body: EncodeBody }>('/encode', {
    schema: {
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['texts'],
        properties: {
          texts: { type: 'array', items: textSchema, minItems: 1 },
          kind: { type: 'string', enum: ['query', 'passage'] },
        },
      },
    },
  }, async (req) => {
    if (!encoder) throw new HttpError(400, 'this service has no model: start it with --model to encode');
    const { texts } = req.body;
    const kind = req.body.kind ?? 'query';
    if (texts.length > limits.maxTexts) throw new HttpError(413, `body.texts has ${texts.length} texts; the limit is ${limits.maxTexts} per request`);
    texts.forEach((t, i) => {
      if (t.length > limits.maxTextLength) throw new HttpError(413, `body.texts[${i}] is ${t.length} characters; the limit is ${limits.maxTextLength}`);
    });
    const flat = kind === 'query' ? await encoder.encodeQueries(texts) : await encoder.encodePassages(texts);
    const dim = encoder.dim;
    if (flat.length !== texts.length * dim) throw new Error(`encoder returned ${flat.length} values for ${texts.length} texts of dim ${dim}`);
    // float32 -> double is exact and JSON prints the shortest round-tripping double: no precision is lost.
    const embeddings = texts.map((_, i) => Array.from(flat.subarray(i * dim, (i + 1) * dim)));
    return { kind, dim, similarity: encoder.similarity, embeddings };
  });

  app.get<{ Params: { id: string } }>('/documents/:id', async (req) => {
    const { id } = req.params;
    if (!documents) throw new HttpError(404, `document ${JSON.stringify(id)}: this service was started without a corpus (--corpus FILE)`);
    const doc = documents.get(id);
    if (!doc) throw new HttpError(404, `document ${JSON.stringify(id)} not found`);
    return doc;
  });

  app.get('/health', async (_req, reply) => {
    const encoderError = (encoder as { error?: Error } | undefined)?.error;
    const status = encoderError ? 'degraded' : 'ok';
    if (encoderError) void reply.status(503);
    const indexes: Record<string, number> = {};
    const sizes = searcher.sizes;
    if (sizes.dense !== undefined) indexes.dense = sizes.dense;
    if (sizes.bm25 !== undefined) indexes.bm25 = sizes.bm25;
    return {
      status,
      ...(encoderError && { problem: encoderError.message }),
      modes: searcher.modes,
      defaultMode: searcher.defaultMode,
      indexes,
      documents: documents?.size ?? null,
      model: encoder ? { dim: encoder.dim, similarity: encoder.similarity } : null,
      evalReport: opts.evalReportHtml !== undefined,
      queueDepth: searcher.queueDepth,
    };
  });

  app.get('/metrics', async (_req, reply) => {
    void reply.type(m.contentType);
    return m.text();
  });

  // ---- page --------------------------------------------------------------------------------------
  const page = (type: string, body: string) => async (_req: unknown, reply: { type(t: string): unknown; header(k: string, v: string): unknown }) => {
    reply.type(type);
    reply.header('cache-control', 'no-cache');
    return body;
  };
  app.get('/', page('text/html; charset=utf-8', web.html));
  app.get('/assets/app.js', page('text/javascript; charset=utf-8', web.js));
  app.get('/assets/style.css', page('text/css; charset=utf-8', web.css));
  app.get('/eval', async (_req, reply) => {
    if (opts.evalReportHtml === undefined) throw new HttpError(404, 'no evaluation report: start the service with --eval-report FILE');
    void reply.type('text/html; charset=utf-8');
    return opts.evalReportHtml;
  });

  await app.ready();
  return app;
}

function checkText(text: string, field: string, maxLength: number): void {
  if (text.length > maxLength) throw new HttpError(413, `${field} is ${text.length} characters; the limit is ${maxLength}`);
  if (text.trim() === '') throw new HttpError(400, `${field} is empty`);
}

function presentHits(hits: Hit[], query: string, fields: ReadonlySet<ResultField>, documents: DocumentLookup | undefined, missing: string[]): ResultHit[] {
  const wantsText = fields.has('title') || fields.has('text') || fields.has('snippet');
  const marks = fields.has('highlights');
  const terms = marks || fields.has('snippet') ? queryTerms(query) : new Set<string>();
  return hits.map((h, i) => {
    const out: ResultHit = { rank: i + 1, id: h.id, score: h.score };
    if (!wantsText || !documents) return out;
    const doc = documents.get(h.id);
    if (!doc) {
      missing.push(h.id);
      return out;
    }
    const highlights: NonNullable<ResultHit['highlights']> = {};
    if (fields.has('title')) {
      out.title = doc.title;
      if (marks) highlights.title = matchSpans(doc.title, terms);
    }
    if (fields.has('text')) {
      out.text = doc.text;
      if (marks) highlights.text = matchSpans(doc.text, terms);
    }
    if (fields.has('snippet')) {
      const s = makeSnippet(doc.text, terms);
      out.snippet = s.text;
      out.snippetCut = { start: s.cutStart, end: s.cutEnd };
      if (marks) highlights.snippet = s.highlights;
    }
    if (marks) out.highlights = highlights;
    return out;
  });
}
