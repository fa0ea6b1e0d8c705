/**
 * `densekit serve` as a process: it starts over a BM25 index, answers, and exits cleanly on SIGTERM; bad
 * flags fail with one line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBm25Index } from '../src/retrieval/index.js';
import { runCli, spawnCli } from './cli.js';
import { datasetsDir } from './helpers.js';

const work = mkdtempSync(join(tmpdir(), 'densekit-serve-cli-'));
const corpus = join(work, 'corpus.jsonl');
const index = join(work, 'bm25');
const lines = readFileSync(join(datasetsDir, 'scifact/corpus.jsonl'), 'utf8').split('\n').slice(0, 200);
writeFileSync(corpus, lines.join('\n') + '\n');
await buildBm25Index(corpus, index);
test.after(() => rmSync(work, { recursive: true, force: true }));

test('serve starts, answers, and stops gracefully on SIGTERM', async () => {
  const child = spawnCli(['serve', '--index', index, '--port', '0']);
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening" line in 20 s: ${stderr}`)), 20_000);
    child.stderr.on('data', () => {
      const m = stderr.match(/listening on (http:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then((code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
  // The corpus recorded in the BM25 index is found without --corpus.
  assert.match(stderr, /corpus .*corpus\.jsonl \(recorded in the BM25 index\): 200 documents/);
  const health = (await (await fetch(`${base}/health`)).json()) as { modes: string[]; documents: number };
  assert.deepEqual(health.modes, ['bm25']);
  assert.equal(health.documents, 200);
  const first = JSON.parse(lines[0]!) as { _id: string; title: string };
  const res = await fetch(`${base}/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: first.title, k: 1 }) });
  assert.equal(res.status, 200);
  const hit = ((await res.json()) as { hits: { id: string; title: string }[] }).hits[0]!;
  assert.deepEqual([hit.id, hit.title], [first._id, first.title]);

  const t0 = performance.now();
  child.kill('SIGTERM');
  assert.equal(await exited, 0, stderr);
  assert.ok(performance.now() - t0 < 10_000);
  assert.match(stderr, /SIGTERM: finishing in-flight requests, then exiting\ndensekit serve: stopped\n$/);
});

test('bad flags fail with one line', () => {
  const twice = runCli(['serve', '--index', index, '--index', index, '--port', '0']);
  assert.equal(twice.code, 1);
  assert.match(twice.stderr, /^densekit: error: --index: two BM25 indexes \(.+\); give at most one dense and one BM25 index\n$/m);
  const none = runCli(['serve', '--port', '0']);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /^densekit: error: --index is required/m);
  const port = runCli(['serve', '--index', index, '--port', 'http']);
  assert.equal(port.code, 2);
  assert.match(port.stderr, /--port expects an integer 0\.\.65535, got "http"/);
});
