/**
 * The service's HTTP contract over small in-process doubles of the index/encoder interfaces (the real
 * ones are exercised end to end in serve.browser.test.ts): responses, bad input, micro-batching, metrics,
 * slow clients and graceful shutdown.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { InjectOptions } from 'fastify';
import { Validator } from '@seriousme/openapi-schema-validator';
import { createService, DocumentMap, type ServiceOptions } from '../src/serve/index.js';
import type { Hit, Query, Retriever, TextEncoder, TextKind, VectorIndex } from '../src/retrieval/index.js';

const DOCS = [
  { id: 'd1', title: 'Vitamin D and bones', text: 'Vitamin D deficiency lowers bone density in older adults.' },
  { id: 'd2', title: 'Cell biology', text: 'Stem cells divide and differentiate into many cell types.' },
  { id: 'd3', title: 'Sleep', text: 'Sleep deprivation impairs memory consolidation.' },
  { id: 'd4', title: 'Diet', text: 'A diet rich in vitamins supports immune function.' },
];
const DIM = 8;

/** Bag-of-letters vectors: deterministic, and texts sharing words score higher. */
function embed(text: string): Float32Array {
  const v = new Float32Array(DIM);
  for (const ch of text.toLowerCase()) if (/[a-z]/.test(ch)) v[ch.charCodeAt(0) % DIM]! += 1;
  return v;
}

class CountingEncoder implements TextEncoder {
  readonly model = 'bag-of-letters';
  readonly dim = DIM;
  readonly similarity = 'dot' as const;
  readonly maxLength = { query: 512, passage: 512 };
  calls: number[] = [];
  closed = false;
  constructor(private readonly delayMs = 0) {}
  async encodeQueries(texts: string[]): Promise<Float32Array> {
    this.calls.push(texts.length);
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    const out = new Float32Array(texts.length * DIM);
    texts.forEach((t, i) => out.set(embed(t), i * DIM));
    return out;
  }
  encodePassages(texts: string[]): Promise<Float32Array> {
    return this.encodeQueries(texts);
  }
  async encode(texts: string[], _kind: TextKind) {
    return { vectors: await this.encodeQueries(texts), truncated: 0 };
  }
  close(): void {
    this.closed = true;
  }
}

const rank = (hits: Hit[], k: number): Hit[] =>
  hits.sort((a, b) => b.score - a.score || (a.id < b.id ? 1 : -1)).slice(0, k);

const denseIndex: VectorIndex & { search(q: Float32Array, k: number): Hit[][] } = {
  type: 'bag-of-letters',
  dim: DIM,
  size: DOCS.length,
  similarity: 'dot',
  model: undefined,
  async searchVectors(q: Float32Array, k: number) {
    return denseIndex.search(q, k);
  },
  async close() {},
  search(q: Float32Array, k: number): Hit[][] {
    const rows = q.length / DIM;
    return Array.from({ length: rows }, (_, r) => {
      const qv = q.subarray(r * DIM, (r + 1) * DIM);
      return rank(DOCS.map((d) => ({ id: d.id, score: embed(d.text).reduce((s, x, i) => s + x * qv[i]!, 0) })), k);
    });
  },
};

const lexicalIndex: Retriever & { searchTexts(queries: string[], k: number): Hit[][] } = {
  kind: 'lexical',
  size: DOCS.length,
  async search(queries: readonly Query[], k: number) {
    return lexicalIndex.searchTexts(queries.map((q) => q.text), k);
  },
  async close() {},
  searchTexts(queries: string[], k: number): Hit[][] {
    return queries.map((q) => {
      const words = new Set(q.toLowerCase().split(/\W+/).filter(Boolean));
      return rank(
        DOCS.map((d) => ({ id: d.id, score: d.text.toLowerCase().split(/\W+/).filter((w) => words.has(w)).length })).filter((h) => h.score > 0),
        k,
      );
    });
  },
};

const rrf = (runs: Hit[][], k: number): Hit[] => {
  const scores = new Map<string, number>();
  for (const run of runs) run.forEach((h, i) => scores.set(h.id, (scores.get(h.id) ?? 0) + 1 / (60 + i + 1)));
  return rank([...scores].map(([id, score]) => ({ id, score })), k);
};

async function service(extra: Partial<ServiceOptions> = {}, encoder = new CountingEncoder()) {
  const app = await createService({
    dense: { index: denseIndex, encoder },
    lexical: lexicalIndex,
    fusion: { method: 'rrf' },
    documents: new DocumentMap(DOCS),
    processMetrics: false,
    ...extra,
  });
  return { app, encoder };
}

const post = (url: string, payload: unknown): InjectOptions => ({ method: 'POST', url, payload: payload as object });

test('health lists the modes, indexes and model', async () => {
  const { app } = await service();
  const res = await app.inject({ method: 'GET', url: '/health' });
  assert.equal(res.statusCode, 200);
  const body = res.json();
  assert.deepEqual(body.modes, ['hybrid', 'dense', 'bm25']);
  assert.deepEqual(body.indexes, { dense: 4, bm25: 4 });
  assert.equal(body.documents, 4);
  assert.deepEqual(body.model, { dim: DIM, similarity: 'dot' });
  await app.close();
});

test('search answers each mode with ranked hits, titles, snippets and highlights', async () => {
  const { app } = await service();
  const query = 'vitamin D bone';
  for (const mode of ['dense', 'bm25', 'hybrid'] as const) {
    const res = await app.inject(post('/search', { query, k: 3, mode, fields: ['title', 'snippet', 'highlights'] }));
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.equal(body.mode, mode);
    const expected =
      mode === 'dense' ? denseIndex.search(embed(query), 3)[0]!
      : mode === 'bm25' ? lexicalIndex.searchTexts([query], 3)[0]!
      : rrf([denseIndex.search(embed(query), 100)[0]!, lexicalIndex.searchTexts([query], 100)[0]!], 3);
    assert.deepEqual(body.hits.map((h: Hit) => [h.id, h.score]), expected.map((h) => [h.id, h.score]));
    assert.deepEqual(body.hits.map((h: { rank: number }) => h.rank), expected.map((_, i) => i + 1));
    const d1 = body.hits.find((h: { id: string }) => h.id === 'd1');
    assert.equal(d1.title, DOCS[0]!.title);
    assert.equal(d1.snippet, DOCS[0]!.text);
    const marked = d1.highlights.snippet.map(([s, e]: [number, number]) => d1.snippet.slice(s, e));
    assert.deepEqual(marked, ['Vitamin', 'D', 'bone']);
    assert.deepEqual(d1.highlights.title.map(([s, e]: [number, number]) => d1.title.slice(s, e)), ['Vitamin', 'D', 'bones']);
  }
  await app.close();
});

test('queries[] gets one result list per query, same as asking one by one', async () => {
  const { app } = await service();
  const queries = ['sleep memory', 'stem cells', 'vitamins diet'];
  const res = await app.inject(post('/search', { queries, k: 2, mode: 'dense', fields: [] }));
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json();
  assert.equal(body.results.length, 3);
  for (const [i, q] of queries.entries()) {
    assert.equal(body.results[i].query, q);
    const alone = (await app.inject(post('/search', { query: q, k: 2, mode: 'dense', fields: [] }))).json();
    assert.deepEqual(body.results[i].hits, alone.hits);
    assert.equal(alone.hits[0].title, undefined);
  }
  await app.close();
});

test('bad input gets the right status and a one-line message naming the field', async () => {
  const { app } = await service();
  const cases: [string, InjectOptions, number, RegExp][] = [
    ['malformed JSON', { method: 'POST', url: '/search', headers: { 'content-type': 'application/json' }, payload: '{"query": "x",' }, 400, /JSON/],
    ['wrong type of k', post('/search', { query: 'x', k: '10' }), 400, /^body\.k must be an integer$/],
    ['wrong type of query', post('/search', { query: 42 }), 400, /^body\.query must be a string$/],
    ['query in a list of the wrong type', post('/search', { queries: ['ok', 3] }), 400, /^body\.queries\[1\] must be a string$/],
    ['empty query', post('/search', { query: '   ' }), 400, /^body\.query is empty$/],
    ['no query', post('/search', { k: 3 }), 400, /^body\.query is required/],
    ['1 MB query', post('/search', { query: 'a'.repeat(1_000_000) }), 413, /^body\.query is 1000000 characters; the limit is 4096$/],
    ['k = 0', post('/search', { query: 'x', k: 0 }), 400, /^body\.k must be >= 1$/],
    ['k = 100000', post('/search', { query: 'x', k: 100_000 }), 400, /^body\.k must be <= 1000$/],
    ['unknown mode', post('/search', { query: 'x', mode: 'semantic' }), 400, /^body\.mode must be one of: "dense", "bm25", "hybrid"$/],
    ['unknown field', post('/search', { query: 'x', topk: 3 }), 400, /^body has an unknown field "topk"$/],
    ['unknown result field', post('/search', { query: 'x', fields: ['body'] }), 400, /^body\.fields\[0\] must be one of/],
    ['too many queries', post('/search', { queries: Array(65).fill('x') }), 413, /^body\.queries has 65 queries; the limit is 64/],
    ['body over the limit', post('/search', { query: 'x', pad: 'y'.repeat(3 * 1024 * 1024) }), 413, /too large/],
    ['unknown document', { method: 'GET', url: '/documents/nope' }, 404, /^document "nope" not found$/],
    ['unknown endpoint', { method: 'GET', url: '/nope' }, 404, /^no such endpoint: GET \/nope$/],
    ['encode without texts', post('/encode', { kind: 'query' }), 400, /^body\.texts is required$/],
    ['encode with a bad kind', post('/encode', { texts: ['x'], kind: 'doc' }), 400, /^body\.kind must be one of: "query", "passage"$/],
    ['encode too long', post('/encode', { texts: ['x', 'b'.repeat(5000)] }), 413, /^body\.texts\[1\] is 5000 characters/],
  ];
  for (const [what, req, status, message] of cases) {
    const res = await app.inject(req);
    assert.equal(res.statusCode, status, `${what}: ${res.body}`);
    const body = res.json();
    assert.match(body.message, message, what);
    assert.ok(!body.message.includes('\n'), `${what}: one line`);
    assert.equal(body.statusCode, status);
  }
  // and it still serves
  assert.equal((await app.inject(post('/search', { query: 'sleep' }))).statusCode, 200);
  await app.close();
});

test('a mode without its index is refused, not crashed', async () => {
  const app = await createService({ lexical: lexicalIndex, processMetrics: false });
  const res = await app.inject(post('/search', { query: 'sleep', mode: 'dense' }));
  assert.equal(res.statusCode, 400);
  assert.match(res.json().message, /mode "dense" is not available: this service answers bm25/);
  const fields = await app.inject(post('/search', { query: 'sleep', fields: ['title'] }));
  assert.equal(fields.statusCode, 400);
  assert.match(fields.json().message, /^body\.fields: "title" needs the documents/);
  const ok = await app.inject(post('/search', { query: 'sleep memory' }));
  assert.deepEqual(ok.json().hits, [{ rank: 1, id: 'd3', score: 2 }]);
  await app.close();
});

test('concurrent queries share encoder calls (micro-batching) and get their own answers', async () => {
  const encoder = new CountingEncoder(20);
  const { app } = await service({ batching: { maxBatch: 32, maxWaitMs: 5 } }, encoder);
  const queries = Array.from({ length: 40 }, (_, i) => `${['vitamin', 'sleep', 'cells', 'diet'][i % 4]} query ${i}`);
  const answers = await Promise.all(queries.map((query) => app.inject(post('/search', { query, mode: 'dense', k: 4, fields: [] }))));
  assert.ok(encoder.calls.length <= 4, `40 queries took ${encoder.calls.length} encoder calls: ${encoder.calls}`);
  assert.equal(encoder.calls.reduce((a, b) => a + b, 0), 40);
  assert.ok(Math.max(...encoder.calls) <= 32);
  answers.forEach((res, i) => {
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json().hits.map((h: Hit) => h.id), denseIndex.search(embed(queries[i]!), 4)[0]!.map((h) => h.id));
  });
  await app.close();
});

test('encode returns the encoder output exactly', async () => {
  const { app, encoder } = await service();
  const texts = ['vitamin d', 'stem cells'];
  const res = await app.inject(post('/encode', { texts, kind: 'passage' }));
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json();
  assert.equal(body.dim, DIM);
  const expected = await encoder.encodePassages(texts);
  assert.deepEqual(body.embeddings.flat(), Array.from(expected));
  await app.close();
});

test('metrics expose request counts, latency, queue depth and index size', async () => {
  const { app } = await service();
  await app.inject(post('/search', { query: 'sleep', mode: 'dense' }));
  await app.inject(post('/search', { query: 'sleep', k: 0 }));
  const res = await app.inject({ method: 'GET', url: '/metrics' });
  assert.equal(res.statusCode, 200);
  assert.match(res.headers['content-type'] as string, /^text\/plain/);
  const text = res.body;
  assert.match(text, /densekit_http_requests_total\{method="POST",route="\/search",status="200"\} 1/);
  assert.match(text, /densekit_http_requests_total\{method="POST",route="\/search",status="400"\} 1/);
  assert.match(text, /densekit_http_request_duration_seconds_bucket\{le="0.001",method="POST",route="\/search"\}/);
  assert.match(text, /densekit_encoder_queue_depth 0/);
  assert.match(text, /densekit_index_documents\{index="dense"\} 4/);
  assert.match(text, /densekit_encoder_batch_size_count 1/);
  assert.match(text, /densekit_queries_total\{mode="dense"\} 1/);
  await app.close();
});

test('the page and its assets are served', async () => {
  const { app } = await service();
  const page = await app.inject({ method: 'GET', url: '/' });
  assert.equal(page.statusCode, 200);
  assert.match(page.headers['content-type'] as string, /text\/html/);
  assert.match(page.body, /<label for="q">/);
  const js = await app.inject({ method: 'GET', url: '/assets/app.js' });
  assert.match(js.headers['content-type'] as string, /javascript/);
  assert.match(js.body, /fetch\('\/search'/);
  assert.doesNotMatch(js.body, /: HTMLElement|interface /, 'served as JavaScript, not TypeScript');
  const evalView = await app.inject({ method: 'GET', url: '/eval' });
  assert.equal(evalView.statusCode, 404);
  await app.close();
});

async function listen(extra: Partial<ServiceOptions>, encoder?: CountingEncoder) {
  const s = await service(extra, encoder);
  await s.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = s.app.server.address() as AddressInfo;
  return { ...s, base: `http://127.0.0.1:${port}`, port };
}

test('a slow client gets 408 while others are served', async () => {
  const { app, base, port } = await listen({ limits: { requestTimeoutMs: 400 } });
  const socket = connect(port, '127.0.0.1');
  let answer = '';
  socket.on('data', (d) => (answer += d.toString()));
  const closed = new Promise<void>((r) => socket.on('close', () => r()));
  socket.write('POST /search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"query": "sl');
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${base}/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"sleep"}' });
    assert.equal(res.status, 200);
  }
  await closed;
  assert.match(answer, /^HTTP\/1\.1 408/);
  await app.close();
});

test('shutdown finishes in-flight requests, then closes the encoder', async () => {
  const encoder = new CountingEncoder(300);
  const { app, base } = await listen({}, encoder);
  const inflight = fetch(`${base}/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"sleep","mode":"dense"}' });
  // Close once the request is inside the encoder (a fixed delay is not enough on a loaded machine: the request
  // may not have reached the server yet, and a request arriving while closing is rightly refused with 503).
  while (encoder.calls.length === 0) await new Promise((r) => setTimeout(r, 5));
  const closing = app.close();
  const res = await inflight;
  assert.equal(res.status, 200);
  assert.equal((await res.json()).hits.length, 4);
  await closing;
  assert.equal(encoder.closed, true);
  await assert.rejects(fetch(`${base}/health`));
});

test('hostile bodies: invalid UTF-8 JSON is 400, text/plain is 415, prototype keys are refused', async () => {
  const { app } = await service();
  const valid = Buffer.from(JSON.stringify({ query: 'vitamin', mode: 'bm25', k: 2 }));
  const ok = await app.inject({ method: 'POST', url: '/search', payload: valid, headers: { 'content-type': 'application/json' } });
  assert.equal(ok.statusCode, 200, ok.body);
  const bad = Buffer.concat([Buffer.from('{"query":"vita'), Buffer.from([0xff, 0xfe]), Buffer.from('min","mode":"bm25","k":2}')]);
  const res = await app.inject({ method: 'POST', url: '/search', payload: bad, headers: { 'content-type': 'application/json' } });
  assert.equal(res.statusCode, 400);
  assert.match(res.json().message, /body is not valid UTF-8/);
  const text = await app.inject({ method: 'POST', url: '/search', payload: '{"query":"vitamin"}', headers: { 'content-type': 'text/plain' } });
  assert.equal(text.statusCode, 415);
  const proto = await app.inject({ method: 'POST', url: '/search', payload: '{"query":"x","__proto__":{"k":1}}', headers: { 'content-type': 'application/json' } });
  assert.equal(proto.statusCode, 400);
  await app.close();
});

test('requests Node refuses before routing (malformed, oversized headers) are answered and counted in /metrics', async () => {
  const { app } = await service();
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  const raw = (bytes: string) =>
    new Promise<string>((resolve) => {
      let got = '';
      const s = connect(port, '127.0.0.1', () => s.write(bytes));
      s.on('data', (d) => (got += d.toString('latin1')));
      s.on('close', () => resolve(got));
      s.on('error', () => resolve(got));
    });
  assert.match(await raw('GARBAGE / NOT-HTTP\r\n\r\n'), /^HTTP\/1\.1 400/);
  assert.match(await raw(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`), /^HTTP\/1\.1 431/);
  const metrics = await app.inject({ method: 'GET', url: '/metrics' });
  assert.match(metrics.body, /route="unparsed",status="400"} 1/);
  assert.match(metrics.body, /route="unparsed",status="431"} 1/);
  await app.close();
});

test('a request for many hits with document fields is 413 before any work; ids and scores alone stay allowed', async () => {
  const { app } = await service({ limits: { maxHitsWithFields: 100 } });
  const queries = Array.from({ length: 20 }, (_, i) => `vitamin ${i}`);
  const heavy = await app.inject(post('/search', { queries, k: 10, mode: 'bm25' }));
  assert.equal(heavy.statusCode, 413);
  assert.match(heavy.json().message, /body asks for 20 x 10 = 200 hits with fields title, snippet; the limit is 100 per request/);
  const bare = await app.inject(post('/search', { queries, k: 10, mode: 'bm25', fields: [] }));
  assert.equal(bare.statusCode, 200, bare.body);
  assert.equal(bare.json().results.length, 20);
  await app.close();
});

test('GET /search?q= answers what POST /search answers, within the same limits', async () => {
  const { app } = await service({ limits: { maxK: 50, maxTextLength: 40 } });
  const strip = (body: Record<string, unknown>) => ({ ...body, tookMs: 0 });
  const cases: Array<[string, Record<string, unknown>]> = [
    ['q=vitamin%20D%20bone&k=3&mode=bm25', { query: 'vitamin D bone', k: 3, mode: 'bm25' }],
    ['q=vitamin%20D%20bone&k=2&mode=dense&fields=title,snippet,highlights', { query: 'vitamin D bone', k: 2, mode: 'dense', fields: ['title', 'snippet', 'highlights'] }],
    ['q=sleep&fields=title&fields=text', { query: 'sleep', fields: ['title', 'text'] }],
    ['q=sleep&fields=', { query: 'sleep', fields: [] }],
    ['q=sleep', { query: 'sleep' }],
  ];
  for (const [qs, body] of cases) {
    const viaGet = await app.inject({ method: 'GET', url: `/search?${qs}` });
    const viaPost = await app.inject(post('/search', body));
    assert.equal(viaGet.statusCode, 200, `${qs}: ${viaGet.body}`);
    assert.deepEqual(strip(viaGet.json()), strip(viaPost.json()), qs);
  }
  // Refusals: the POST body's limits (maxK 50, maxTextLength 40), named for the query string.
  const refused: Array<[string, number, RegExp]> = [
    ['q=x&k=51', 400, /^querystring\.k must be <= 50$/],
    ['q=x&k=0', 400, /^querystring\.k must be >= 1$/],
    ['q=x&k=ten', 400, /^querystring\.k must be an integer$/],
    ['q=x&k=2.5', 400, /^querystring\.k must be an integer$/],
    ['k=3', 400, /^querystring\.q is required$/],
    ['q=%20', 400, /^querystring\.q is empty$/],
    [`q=${'a'.repeat(41)}`, 413, /^querystring\.q is 41 characters; the limit is 40$/],
    ['q=x&mode=colbert', 400, /^querystring\.mode must be one of: "dense", "bm25", "hybrid"$/],
    ['q=x&fields=title,body', 400, /^querystring\.fields\[1\] must be one of/],
    ['q=x&page=2', 400, /^querystring has an unknown field "page"$/],
  ];
  for (const [qs, status, message] of refused) {
    const res = await app.inject({ method: 'GET', url: `/search?${qs}` });
    assert.equal(res.statusCode, status, `${qs}: ${res.body}`);
    assert.match(res.json().message, message, qs);
  }
  await app.close();
});

/** The service's routes as Fastify's router holds them (printRoutes' tree, one `path (METHODS)` per line). */
function routerRoutes(app: Awaited<ReturnType<typeof service>>['app']): Set<string> {
  const out = new Set<string>();
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│├└─\s]*?)(?:[├└]── )(\S+) \(([A-Z, ]+)\)$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    const path = stack.join('').replace(/^\/?/, '/').replace(/\/\//g, '/');
    for (const method of m[3]!.split(', ')) if (method !== 'HEAD') out.add(`${method} ${path.replace(/:(\w+)/g, '{$1}')}`);
  }
  return out;
}

test('GET /openapi.json documents every route, and each documented route answers', async () => {
  const { app } = await service({ evalReportHtml: '<p>report</p>' });
  const res = await app.inject({ method: 'GET', url: '/openapi.json' });
  assert.equal(res.statusCode, 200);
  const doc = res.json() as {
    openapi: string; info: { title: string; version: string };
    paths: Record<string, Record<string, { summary?: string; parameters?: Array<{ in: string; name: string; required?: boolean; schema: Record<string, unknown> }>; requestBody?: { content: Record<string, { schema: { properties: Record<string, Record<string, unknown>>; required?: string[]; additionalProperties?: boolean } }> } }>>;
  };
  assert.match(doc.openapi, /^3\.\d+\.\d+$/);
  assert.ok(doc.info.title && doc.info.version);
  // Valid against the OpenAPI 3 JSON schema (an independent validator, not @fastify/swagger's own view).
  const validation = await new Validator().validate(structuredClone(doc) as unknown as Parameters<Validator["validate"]>[0]);
  assert.deepEqual(validation, { valid: true });
  const documented = new Set(Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)));
  const routes = routerRoutes(app);
  // The parser must see the router's routes for the comparison to mean anything.
  for (const r of ['POST /search', 'GET /search', 'POST /encode', 'GET /documents/{id}', 'GET /health', 'GET /openapi.json']) assert.ok(routes.has(r), `router lacks ${r}: ${[...routes]}`);
  assert.deepEqual([...documented].sort(), [...routes].sort(), 'documented routes = routes');
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      assert.ok(op.summary, `${method} ${path} has no summary`);
      // Each documented route answers, and not with the not-found handler, when given its required inputs.
      const url = path.replace('{id}', 'd1') + (op.parameters?.some((p) => p.in === 'query' && p.required) ? '?q=vitamin' : '');
      const payload = method === 'post' ? (path === '/encode' ? { texts: ['a'] } : { query: 'vitamin' }) : undefined;
      const answer = await app.inject({ method: method.toUpperCase() as 'GET' | 'POST', url, ...(payload && { payload }) });
      assert.equal(answer.statusCode, 200, `${method} ${url}: ${answer.body.slice(0, 200)}`);
    }
  }
  // The documented inputs are what the routes accept: each enum value and each integer bound goes through; one
  // past a bound, a value outside an enum and an undocumented field are refused.
  const probe = async (method: 'GET' | 'POST', fields: Record<string, unknown>) => {
    if (method === 'POST') return app.inject(post('/search', { query: 'vitamin', ...fields }));
    const qs = Object.entries(fields).map(([k, v]) => `${k}=${encodeURIComponent(Array.isArray(v) ? v.join(',') : String(v))}`).join('&');
    return app.inject({ method: 'GET', url: `/search?q=vitamin&${qs}` });
  };
  const getParams = Object.fromEntries((doc.paths['/search']!.get!.parameters ?? []).filter((p) => p.in === 'query').map((p) => [p.name, p.schema]));
  const postBody = doc.paths['/search']!.post!.requestBody!.content['application/json']!.schema;
  assert.equal(postBody.additionalProperties, false);
  for (const [method, props] of [['GET', getParams], ['POST', postBody.properties]] as const) {
    assert.ok(props.k && props.mode && props.fields, `${method}: k, mode and fields documented`);
    for (const [name, schema] of Object.entries(props)) {
      if (name === 'q' || name === 'query' || name === 'queries' || name === 'filter') continue;
      const s = schema as { type: string; minimum?: number; maximum?: number; enum?: string[]; items?: { enum?: string[] } };
      if (s.type === 'integer') {
        assert.equal((await probe(method, { [name]: s.maximum })).statusCode, 200, `${method} ${name}=${s.maximum}`);
        assert.equal((await probe(method, { [name]: s.minimum })).statusCode, 200, `${method} ${name}=${s.minimum}`);
        assert.equal((await probe(method, { [name]: s.maximum! + 1 })).statusCode, 400, `${method} ${name}=${s.maximum! + 1}`);
      }
      const values = s.enum ?? s.items?.enum;
      if (values) {
        for (const v of values) {
          const r = await probe(method, { [name]: s.type === 'array' ? [v] : v });
          assert.equal(r.statusCode, 200, `${method} ${name}=${v}: ${r.body}`);
        }
        assert.equal((await probe(method, { [name]: s.type === 'array' ? ['nope'] : 'nope' })).statusCode, 400, `${method} ${name}=nope`);
      }
    }
    assert.equal((await probe(method, { undocumented: 1 })).statusCode, 400, `${method}: an undocumented field`);
  }
  await app.close();
});
