/** POST /encode { texts[], kind? }: the model's vectors, exactly (float32 printed as the shortest round-tripping double). */
import type { FastifyPluginAsync } from 'fastify';
import type { TextKind } from '../../retrieval/types.js';
import { HttpError } from '../http-errors.js';
import { TEXT_SCHEMA, type RouteContext } from './context.js';

interface EncodeBody {
  texts: string[];
  kind?: TextKind;
}

export function encodeRoutes({ encoder, limits }: RouteContext): FastifyPluginAsync {
  return async (app) => {
    app.post<{ Body: EncodeBody }>('/encode', {
      schema: {
        summary: 'the model\'s vectors for texts (kind query, the default, or passage)',
        description: `Answers { kind, dim, similarity, embeddings }; at most ${limits.maxTexts} texts of ${limits.maxTextLength} characters.`,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['texts'],
          properties: {
            texts: { type: 'array', items: TEXT_SCHEMA, minItems: 1 },
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
      const embeddings = texts.map((_, i) => Array.from(flat.subarray(i * dim, (i + 1) * dim)));
      return { kind, dim, similarity: encoder.similarity, embeddings };
    });
  };
}
