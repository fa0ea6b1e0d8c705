/**
 * POST /search { query | queries[], k?, mode?, fields? } and GET /search?q=&k=: ranked hits, with titles, snippets
 * and highlights.
 *
 * The reply is streamed, one query's hits at a time, yielding the event loop between them: a request at the
 * limits (64 queries x k 1,000) is a few MB of JSON, and building it whole on the event loop held /health for
 * seconds. A client that disconnects stops the work: its queries still waiting for the encoder are dropped
 * (MicroBatcher), and the reply is not built further.
 */
import { Readable } from 'node:stream';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { Hit, MetadataFilter } from '../../retrieval/types.js';
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
  /** pgvector: metadata filter (equality and ranges on metadata keys). */
  filter?: MetadataFilter;
  /** HNSW (usearch or pgvector): candidates explored per query. */
  efSearch?: number;
}

/** The query-string form of GET /search: POST /search's fields, each once (fields as a comma-separated list). */
interface SearchQuery {
  q: string;
  k?: number;
  mode?: SearchMode;
  fields?: ResultField[];
  efSearch?: number;
}

export function searchRoutes({ retrievers, documents, limits, metrics }: RouteContext): FastifyPluginAsync {
  // One schema per field, shared by the body of POST /search and the query string of GET /search, so that both
  // forms take the same values within the same limits (and the OpenAPI document says so once).
  const field = {
    k: { type: 'integer', minimum: 1, maximum: limits.maxK, default: 10, description: 'hits per query' },
    mode: { type: 'string', enum: SEARCH_MODES, description: 'retriever; the service\'s default mode when absent' },
    fields: {
      type: 'array', items: { type: 'string', enum: RESULT_FIELDS }, uniqueItems: true,
      description: 'what each hit carries besides id and score; default title and snippet when the service has a corpus',
    },
    efSearch: { type: 'integer', minimum: 1, maximum: 1000, description: 'HNSW (usearch or pgvector): candidates explored per query' },
  } as const;

  const search = async (body: SearchBody, reply: FastifyReply, queryField = 'body.query') => {
    // 'close' before the reply finished: the client has gone.
    const gone = new AbortController();
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) gone.abort();
    });
    const started = performance.now();
    const single = body.queries === undefined;
    if (body.query !== undefined && body.queries !== undefined) throw new HttpError(400, 'body: give either query or queries, not both');
    if (body.query === undefined && body.queries === undefined) throw new HttpError(400, `${queryField} is required (a string; or body.queries, a list of strings)`);
    const queries = single ? [body.query!] : body.queries!;
    if (queries.length > limits.maxQueries) {
      throw new HttpError(413, `body.queries has ${queries.length} queries; the limit is ${limits.maxQueries} per request`);
    }
    queries.forEach((q, i) => checkText(q, single ? queryField : `body.queries[${i}]`, limits.maxTextLength));
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
    const opts = {
      ...(body.filter ? { filter: body.filter } : {}), ...(body.efSearch ? { efSearch: body.efSearch } : {}), signal: gone.signal,
    };
    const runs = await retriever.search(queries.map((text, i) => ({ id: String(i), text })), k, opts);
    metrics.queries.inc({ mode }, queries.length);
    async function* json(): AsyncGenerator<string> {
      const missing: string[] = [];
      // Other requests (/health) get the event loop whenever this one has held it for BREATHE_MS.
      let since = performance.now();
      yield `{"mode":${JSON.stringify(mode)},"k":${k},${single ? '"hits":' : '"results":['}`;
      for (let i = 0; i < queries.length; i++) {
        yield `${i > 0 ? ',' : ''}${single ? '' : `{"query":${JSON.stringify(queries[i]!)},"hits":`}[`;
        const run = runs[i]!;
        for (let a = 0; a < run.length; a += HITS_PER_PIECE) {
          if (performance.now() - since > BREATHE_MS) {
            await new Promise((resolve) => setImmediate(resolve));
            since = performance.now();
          }
          if (gone.signal.aborted) return;
          const piece = presentHits(run.slice(a, a + HITS_PER_PIECE), queries[i]!, fields, documents, missing, a);
          yield (a > 0 ? ',' : '') + piece.map((h) => JSON.stringify(h)).join(',');
        }
        yield single ? ']' : ']}';
      }
      const warnings = missing.length
        ? [`${missing.length} hit(s) are not in the corpus, e.g. ${JSON.stringify(missing[0])}: the index and --corpus do not match`]
        : undefined;
      yield `${single ? '' : ']'},"tookMs":${performance.now() - started}${warnings ? `,"warnings":${JSON.stringify(warnings)}` : ''}}`;
    }
    void reply.type('application/json; charset=utf-8');
    return reply.send(Readable.from(json()));
  };

  return async (app) => {
    app.post<{ Body: SearchBody }>('/search', {
      schema: {
        summary: 'search with one query (query) or several (queries)',
        description: 'Answers { mode, k, tookMs, hits } for query, { mode, k, tookMs, results: [{ query, hits }] } for queries; ' +
          `at most ${limits.maxQueries} queries of ${limits.maxTextLength} characters, ${limits.maxHitsWithFields} queries x k with fields.`,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            query: { ...TEXT_SCHEMA, description: 'one query (or give queries)' },
            queries: { type: 'array', items: TEXT_SCHEMA, minItems: 1, description: 'several queries, answered in order' },
            k: field.k,
            mode: field.mode,
            fields: field.fields,
            filter: { type: 'object', description: 'pgvector only: metadata filter, e.g. {"lang":"en","year":{"gte":2020}}' },
            efSearch: field.efSearch,
          },
        },
      },
    }, async (req, reply) => search(req.body, reply));

    app.get<{ Querystring: SearchQuery }>('/search', {
      schema: {
        summary: 'search with one query in the URL: GET /search?q=...&k=10',
        description: 'POST /search with { query: q, k, mode, fields, efSearch }: the same limits and the same reply. ' +
          'fields is comma-separated (fields=title,snippet; fields= for ids and scores only).',
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['q'],
          properties: { q: { ...TEXT_SCHEMA, description: 'the query' }, k: field.k, mode: field.mode, fields: field.fields, efSearch: field.efSearch },
        },
      },
      // A query string holds only strings and the service's schemas do not coerce types (a JSON body's "10" is an
      // error, not 10), so the numbers and the list are read here, before validation applies the shared limits.
      preValidation: async (req) => {
        const query = req.query as unknown as Record<string, unknown>;
        for (const key of ['k', 'efSearch'] as const) {
          const v = query[key];
          if (typeof v === 'string' && /^[0-9]{1,15}$/.test(v)) query[key] = Number(v);
        }
        if (typeof query.fields === 'string') query.fields = query.fields === '' ? [] : query.fields.split(',');
      },
    }, async (req, reply) => {
      const { q, ...rest } = req.query;
      return search({ query: q, ...rest }, reply, 'querystring.q');
    });
  };
}

function checkText(text: string, field: string, maxLength: number): void {
  if (text.length > maxLength) throw new HttpError(413, `${field} is ${text.length} characters; the limit is ${maxLength}`);
  if (text.trim() === '') throw new HttpError(400, `${field} is empty`);
}

/** Hits are made into JSON this many at a time (snippets and highlights of 1,000 long documents take tens of ms). */
const HITS_PER_PIECE = 100;
const BREATHE_MS = 5;

/** `first`: the 0-based rank of hits[0] in its query's list. */
function presentHits(hits: Hit[], query: string, fields: ReadonlySet<ResultField>, documents: DocumentLookup | undefined, missing: string[], first = 0): ResultHit[] {
  const wantsText = fields.has('title') || fields.has('text') || fields.has('snippet');
  const marks = fields.has('highlights');
  const terms = marks || fields.has('snippet') ? queryTerms(query) : new Set<string>();
  return hits.map((h, i) => {
    const out: ResultHit = { rank: first + i + 1, id: h.id, score: h.score };
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
