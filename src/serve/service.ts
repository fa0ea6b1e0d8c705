/**
 * The HTTP service (Fastify): JSON API, web page, metrics, as route plugins (src/serve/routes/) over the
 * Retriever seam. It owns what it is given: closing the service finishes in-flight requests, drains the query
 * batcher, then closes the indexes and the encoder.
 *
 *   POST /search          { query | queries[], k?, mode?, fields? }
 *   POST /encode          { texts[], kind? }
 *   GET  /search?q=&k=    the same search, one query in the URL
 *   GET  /documents/:id
 *   GET  /health          modes, index sizes, model, status
 *   GET  /metrics         Prometheus text
 *   GET  /openapi.json    OpenAPI 3 description of every route (generated from the route schemas)
 *   GET  /                the search page (GET /eval: the evaluation report shown in it)
 */
import { createServer, STATUS_CODES } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyError } from 'fastify';
import swagger from '@fastify/swagger';
import type { Retriever, TextEncoder, VectorIndex } from '../retrieval/types.js';
import type { DocumentLookup } from './documents.js';
import { formatSchemaError, HttpError } from './http-errors.js';
import { DEFAULT_BATCHING, DEFAULT_LIMITS, type BatchingOptions, type ServiceLimits } from './limits.js';
import { ServiceMetrics } from './metrics.js';
import { ServiceRetrievers, type RetrieverParts } from './retrievers.js';
import type { RouteContext } from './routes/context.js';
import { documentRoutes } from './routes/documents.js';
import { encodeRoutes } from './routes/encode.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { openapiRoutes } from './routes/openapi.js';
import { searchRoutes } from './routes/search.js';
import { webRoutes } from './routes/web.js';
import { loadWebAssets, type WebAssets } from './web-assets.js';
import { packageVersion } from '../util/version.js';

export { RESULT_FIELDS, type ResultField, type ResultHit } from './routes/search.js';

export interface ServiceOptions {
  /** A vector index and the model that encodes queries for it (dimension, similarity and model must agree). */
  dense?: { index: VectorIndex; encoder: TextEncoder; allowModelMismatch?: boolean };
  /** A model without a dense index still serves POST /encode. */
  encoder?: TextEncoder;
  /** A lexical retriever (BM25). */
  lexical?: Retriever;
  /** Fusion for hybrid mode (needs dense and lexical). */
  fusion?: RetrieverParts['fusion'];
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

/** An error's HTTP status: its own (DensekitError.statusCode, or Fastify's for bad requests), else 500. */
function statusOf(err: FastifyError | Error): number {
  const s = (err as { statusCode?: unknown }).statusCode;
  return typeof s === 'number' && s >= 400 && s < 600 ? s : 500;
}

export async function createService(opts: ServiceOptions): Promise<FastifyInstance> {
  const limits: ServiceLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const batching: BatchingOptions = { ...DEFAULT_BATCHING, ...opts.batching };
  const web = opts.web ?? (await loadWebAssets());
  const encoder = opts.dense?.encoder ?? opts.encoder;

  let metrics: ServiceMetrics | undefined;
  const retrievers = new ServiceRetrievers({
    dense: opts.dense,
    lexical: opts.lexical,
    fusion: opts.fusion,
    hybridDepth: opts.hybridDepth,
    batching: { ...batching, maxQueue: limits.maxQueuedQueries },
    onBatch: (n) => metrics?.batchSize.observe(n),
    onDrop: (n) => metrics?.dropped.inc(n),
  });
  metrics = new ServiceMetrics(
    { queueDepth: () => retrievers.queueDepth, indexSizes: () => retrievers.sizes },
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

  // JSON bodies are decoded strictly: invalid UTF-8 is a 400, not replacement characters searched for.
  // Fastify's own parser (prototype-poisoning checks) then parses the text. Other media types get 415
  // (Fastify's built-in text/plain parser would hand a string to the JSON schema: a misleading 400).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(body as Buffer);
    } catch {
      done(new HttpError(400, 'body is not valid UTF-8'), undefined);
      return;
    }
    parseJson(req, text, done);
  });
  // Requests Node refuses before Fastify sees them (malformed, headers too large, too slow) count too.
  app.server.on('clientError', (err: NodeJS.ErrnoException) => {
    if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return; // the client left; nothing was answered
    const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408' : err.code === 'HPE_HEADER_OVERFLOW' ? '431' : '400';
    m.requests.inc({ method: 'unparsed', route: 'unparsed', status });
  });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    m.requests.inc({ method: req.method, route, status: String(reply.statusCode) });
    m.latency.observe({ method: req.method, route }, reply.elapsedTime / 1000);
  });

  app.setErrorHandler((err: FastifyError | Error, req, reply) => {
    const status = statusOf(err);
    let message = err.message.replace(/\s*\n\s*/g, ' ');
    // Overload is expected under load, not a fault worth a log line per request.
    if (status >= 500 && (err as { code?: unknown }).code !== 'DENSEKIT_OVERLOADED') req.log.error(err);
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
    await retrievers.close();
    if (encoder) await encoder.close();
  });

  const ctx: RouteContext = { retrievers, encoder, documents: opts.documents, limits, metrics: m, evalReportHtml: opts.evalReportHtml, web };
  // Registered before the routes: it collects each route's schema as the route is added.
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'densekit serve',
        version: packageVersion(),
        description: 'Search over dense, BM25 or hybrid retrievers. Every error is { statusCode, error, message } with a one-line message naming the field at fault.',
      },
    },
  });
  for (const routes of [searchRoutes, encodeRoutes, documentRoutes, healthRoutes, metricsRoutes, openapiRoutes, webRoutes]) await app.register(routes(ctx));

  await app.ready();
  return app;
}
