/** GET /metrics: Prometheus text of this service's registry. */
import type { FastifyPluginAsync } from 'fastify';
import type { RouteContext } from './context.js';

export function metricsRoutes({ metrics }: RouteContext): FastifyPluginAsync {
  return async (app) => {
    app.get('/metrics', { schema: { summary: 'Prometheus metrics: requests, latency, queries per mode, batch sizes, queue depth' } }, async (_req, reply) => {
      void reply.type(metrics.contentType);
      return metrics.text();
    });
  };
}
