/** GET /health: modes, index sizes, model, queue depth; 503 once the encoder worker has died. */
import type { FastifyPluginAsync } from 'fastify';
import type { RouteContext } from './context.js';

export function healthRoutes({ retrievers, encoder, documents, evalReportHtml }: RouteContext): FastifyPluginAsync {
  return async (app) => {
    app.get('/health', {
      schema: { summary: 'modes, default mode, index sizes, documents, model (dim, similarity), queue depth; 503 once the encoder has died' },
    }, async (_req, reply) => {
      // WorkerEncoder reports why its thread died; an in-process encoder has no such state.
      const encoderError = (encoder as { error?: Error } | undefined)?.error;
      const status = encoderError ? 'degraded' : 'ok';
      if (encoderError) void reply.status(503);
      const indexes: Record<string, number> = {};
      const sizes = retrievers.sizes;
      if (sizes.dense !== undefined) indexes.dense = sizes.dense;
      if (sizes.bm25 !== undefined) indexes.bm25 = sizes.bm25;
      return {
        status,
        ...(encoderError && { problem: encoderError.message }),
        modes: retrievers.modes,
        defaultMode: retrievers.defaultMode,
        indexes,
        documents: documents?.size ?? null,
        model: encoder ? { dim: encoder.dim, similarity: encoder.similarity } : null,
        evalReport: evalReportHtml !== undefined,
        queueDepth: retrievers.queueDepth,
      };
    });
  };
}
