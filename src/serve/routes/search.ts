/** POST /search { query | queries[], k?, mode?, fields? }: ranked hits, with titles, snippets and highlights. */
import type { FastifyPluginAsync } from 'fastify';
import type { Hit } from '../../retrieval/types.js';
import type { DocumentLookup } from '../documents.js';
import { makeSnippet, matchSpans, queryTerms } from '../highlight.js';
import { HttpError } from '../http-errors.js';
import { SEARCH_MODES, type SearchMode } from '../retrievers.js';
import { TEXT_SCHEMA, type RouteContext } from './context.js';

export const RESULT_FIELDS = ['title', 'text', 'snippet', 'highlights'] as const;
export type ResultField = (typeof RESULT_FIELDS)[number];

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

interface SearchBody {
  query?: string;
  queries?: string[];
  k?: number;
  mode?: SearchMode;
  fields?: ResultField[];
}

export function searchRoutes({ retrievers, documents, limits, metrics }: RouteContext): FastifyPluginAsync {
  return async (app) => {
    app.post<{ Body: SearchBody }>('/search', {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            query: TEXT_SCHEMA,
            queries: { type: 'array', items: TEXT_SCHEMA, minItems: 1 },
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
      const mode = body.mode ?? retrievers.defaultMode;
      const k = body.k ?? 10;
      const fields = new Set<ResultField>(body.fields ?? (documents ? ['title', 'snippet'] : []));
      const needsDocuments = [...fields].find((f) => f !== 'highlights');
      if (needsDocuments && !documents) {
        throw new HttpError(400, `body.fields: "${needsDocuments}" needs the documents; this service was started without a corpus (--corpus FILE)`);
      }
      if (fields.size > 0 && queries.length * k > limits.maxHitsWithFields) {
        throw new HttpError(413, `body asks for ${queries.length} x ${k} = ${queries.length * k} hits with fields ${[...fields].join(', ')}; ` +
          `the limit is ${limits.maxHitsWithFields} per request (ask for fewer, or give "fields": [] for ids and scores only)`);
      }
      const retriever = retrievers.get(mode);
      // Request queries have no ids of their own; their position names them.
      const runs = await retriever.search(queries.map((text, i) => ({ id: String(i), text })), k);
      metrics.queries.inc({ mode }, queries.length);
      const missing: string[] = [];
      const results: Array<{ query: string; hits: ReturnType<typeof presentHits> }> = [];
      for (let i = 0; i < queries.length; i++) {
        // Between queries other requests (/health) get the event loop.
        if (i > 0 && fields.size > 0) await new Promise((resolve) => setImmediate(resolve));
        results.push({ query: queries[i]!, hits: presentHits(runs[i]!, queries[i]!, fields, documents, missing) });
      }
      const tookMs = performance.now() - started;
      const warnings = missing.length
        ? [`${missing.length} hit(s) are not in the corpus, e.g. ${JSON.stringify(missing[0])}: the index and --corpus do not match`]
        : undefined;
      return single
        ? { mode, k, tookMs, hits: results[0]!.hits, ...(warnings && { warnings }) }
        : { mode, k, tookMs, results, ...(warnings && { warnings }) };
    });
  };
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
