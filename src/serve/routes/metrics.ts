/** GET /metrics: Prometheus text of this service's registry. */
import type { FastifyPluginAsync } from 'fastify';
import type { RouteContext } from './context.js';

export function metricsRoutes({ metrics }: RouteContext): FastifyPluginAsync {
  return async (app) => {
    app.get('/metrics', async (_req, reply) => {
      void reply.type(metrics.contentType);
      return metrics.text();
    });
  };
}
