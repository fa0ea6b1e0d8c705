/** The search page (GET /, its script and stylesheet) and the evaluation report shown in it (GET /eval). */
import type { FastifyPluginAsync } from 'fastify';
import { HttpError } from '../http-errors.js';
import type { RouteContext } from './context.js';

export function webRoutes({ web, evalReportHtml }: RouteContext): FastifyPluginAsync {
  return async (app) => {
    const page = (type: string, body: string) => async (_req: unknown, reply: { type(t: string): unknown; header(k: string, v: string): unknown }) => {
      reply.type(type);
      reply.header('cache-control', 'no-cache');
      return body;
    };
    app.get('/', { schema: { summary: 'the search page' } }, page('text/html; charset=utf-8', web.html));
    app.get('/assets/app.js', { schema: { summary: 'the search page\'s script' } }, page('text/javascript; charset=utf-8', web.js));
    app.get('/assets/style.css', { schema: { summary: 'the search page\'s stylesheet' } }, page('text/css; charset=utf-8', web.css));
    app.get('/eval', { schema: { summary: 'the evaluation report shown in the page (--eval-report FILE); 404 without one' } }, async (_req, reply) => {
      if (evalReportHtml === undefined) throw new HttpError(404, 'no evaluation report: start the service with --eval-report FILE');
      void reply.type('text/html; charset=utf-8');
      return evalReportHtml;
    });
  };
}
