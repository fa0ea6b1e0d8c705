/**
 * One retrieval seam: `densekit beir`, `densekit search` and the service's POST /search rank the same queries
 * against the same index folders (the ones `beir` built and cached) and must give byte-identical rankings: the
 * same ids in the same order with the same scores, as printed in a run file and in JSON, for dense and BM25.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openService } from '../src/serve/launch.js';
import { runCli } from './cli.js';
import { datasetsDir, fixturesDir } from './helpers.js';

const SCIFACT = join(datasetsDir, 'scifact');
const MODEL = join(fixturesDir, 'models/tasb-distilbert-tiny');
const K = 10;

/** A small BEIR folder cut from SciFact: 400 documents, 20 queries (ids prefixed so none equals a document id). */
function smallDataset(dir: string): { queries: { id: string; text: string }[] } {
  mkdirSync(join(dir, 'qrels'), { recursive: true });
  const docs = readFileSync(join(SCIFACT, 'corpus.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).slice(0, 400);
  writeFileSync(join(dir, 'corpus.jsonl'), docs.join('\n') + '\n');
  const docIds = docs.map((l) => (JSON.parse(l) as { _id: string })._id);
  const queries = readFileSync(join(SCIFACT, 'queries.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).slice(0, 20)
    .map((l) => JSON.parse(l) as { _id: string; text: string }).map((q) => ({ id: `q${q._id}`, text: q.text }));
  writeFileSync(join(dir, 'queries.jsonl'), queries.map((q) => JSON.stringify({ _id: q.id, text: q.text })).join('\n') + '\n');
  // Judgments only decide which queries `beir` runs: every query gets one, on an arbitrary document.
  writeFileSync(join(dir, 'qrels', 'test.tsv'), 'query-id\tcorpus-id\tscore\n' + queries.map((q, i) => `${q.id}\t${docIds[i]}\t1`).join('\n') + '\n');
  return { queries };
}

/** qid -> "docid score" lines, in rank order, from a TREC run file. */
function readTrecRun(path: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of readFileSync(path, 'utf8').split('\n').filter(Boolean)) {
    const [qid, , doc, rank, score] = line.split(' ');
    const list = out.get(qid!) ?? [];
    assert.equal(Number(rank), list.length + 1, `${path}: ranks in order`);
    list.push(`${doc} ${score}`);
    out.set(qid!, list);
  }
  return out;
}

function findDir(root: string, name: string): string {
  for (const e of readdirSync(root, { withFileTypes: true, recursive: true })) {
    if (e.isDirectory() && e.name === name) return join(e.parentPath, e.name);
  }
  throw new Error(`no ${name} folder under ${root}`);
}

test('densekit beir, densekit search and POST /search give byte-identical rankings (dense and bm25)', async () => {
  const work = mkdtempSync(join(tmpdir(), 'densekit-paths-'));
  try {
    const dataset = join(work, 'data');
    const { queries } = smallDataset(dataset);
    const cache = join(work, 'cache');
    const beir = runCli(['beir', '--dataset', dataset, '--model', MODEL, '--retriever', 'dense,bm25', '--k', String(K), '--cache', cache, '--runs', join(work, 'beir-runs'), '--json']);
    assert.equal(beir.code, 0, beir.stderr);
    const indexes = { dense: findDir(cache, 'flat'), bm25: findDir(cache, 'bm25') };

    const opened = await openService({ indexes: [indexes.dense, indexes.bm25], model: MODEL });
    try {
      for (const mode of ['dense', 'bm25'] as const) {
        const fromBeir = readTrecRun(join(work, 'beir-runs', `${mode}.trec`));

        const runFile = join(work, `search-${mode}.trec`);
        const search = runCli(['search', '--index', indexes[mode], ...(mode === 'dense' ? ['--model', MODEL] : []), '--queries', join(dataset, 'queries.jsonl'), '--k', String(K), '--output', runFile]);
        assert.equal(search.code, 0, search.stderr);
        const fromSearch = readTrecRun(runFile);

        const res = await opened.app.inject({ method: 'POST', url: '/search', payload: { queries: queries.map((q) => q.text), k: K, mode, fields: [] } });
        assert.equal(res.statusCode, 200, res.body);
        const body = res.json<{ results: { hits: { id: string; score: number }[] }[] }>();
        // JSON and the run file both print a score as JavaScript's shortest round-tripping form of the double.
        const fromService = new Map(queries.map((q, i) => [q.id, body.results[i]!.hits.map((h) => `${h.id} ${h.score}`)]));

        assert.equal(fromBeir.size, queries.length, `${mode}: beir ran every query`);
        for (const q of queries) {
          const expected = fromBeir.get(q.id)!;
          assert.equal(expected.length, K, `${mode} ${q.id}: ${K} hits`);
          assert.deepEqual(fromSearch.get(q.id), expected, `${mode} ${q.id}: densekit search vs densekit beir`);
          assert.deepEqual(fromService.get(q.id), expected, `${mode} ${q.id}: POST /search vs densekit beir`);
        }
      }
    } finally {
      await opened.app.close();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
