/** GET /documents/:id: a document of the corpus the service was started with. */
import type { FastifyPluginAsync } from 'fastify';
import { HttpError } from '../http-errors.js';
import type { RouteContext } from './context.js';

export function documentRoutes({ documents }: RouteContext): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Params: { id: string } }>('/documents/:id', {
      schema: {
        summary: 'a document of the corpus the service was started with (--corpus): { id, title, text }',
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', description: 'the document id, as in the corpus and in hits' } } },
      },
    }, async (req) => {
      const { id } = req.params;
      if (!documents) throw new HttpError(404, `document ${JSON.stringify(id)}: this service was started without a corpus (--corpus FILE)`);
      const doc = documents.get(id);
      if (!doc) throw new HttpError(404, `document ${JSON.stringify(id)} not found`);
      return doc;
    });
  };
}
