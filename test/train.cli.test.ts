/**
 * `densekit cluster-queries` and `densekit mine` on small generated data with the tiny TAS-B fixture model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/cli/main.js';
import { readClusterFile, readMinedNegatives } from '../src/train/index.js';
import { readNpy } from '../src/io/npy.js';
import { sharedDir } from './helpers.js';

const model = join(sharedDir, 'fixtures/models/tasb-distilbert-tiny');
const dir = mkdtempSync(join(tmpdir(), 'densekit-train-cli-'));
const TOPICS = [['capital', 'france'], ['quick', 'brown', 'fox'], ['deep', 'learning', 'model'], ['information', 'retrieval', 'query']];

/** Runs the CLI in-process; stderr is captured (stdout belongs to the test reporter). */
async function cli(args: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const e = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    return { code: await main(args), err };
  } finally {
    process.stderr.write = e;
  }
}

test('cluster-queries writes the released cluster layout (every query once) and the centroids', async () => {
  const queries: string[] = [];
  TOPICS.forEach((words, t) => { for (let i = 0; i < 6; i++) queries.push(`q${t}_${i}\t${words.join(' ')} ${'abcdef'[i]}`); });
  writeFileSync(join(dir, 'queries.tsv'), queries.join('\n') + '\n');
  const out = join(dir, 'clusters.tsv');
  const r = await cli(['cluster-queries', '--model', model, '--queries', join(dir, 'queries.tsv'), '--k', '4', '--restarts', '3', '--output', out]);
  assert.equal(r.code, 0, r.err);
  const clusters = await readClusterFile(out);
  assert.equal(clusters.length, 4);
  assert.deepEqual(clusters.flat().sort(), queries.map((l) => l.split('\t')[0]!).sort());
  const centroids = readNpy(`${out}.centroids.npy`);
  assert.deepEqual(centroids.shape, [4, 64]);
  const bad = await cli(['cluster-queries', '--model', model, '--queries', join(dir, 'queries.tsv'), '--k', '100', '--output', out]);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /--k 100 is more than the 24 queries/);
});

test('mine keeps the top-ranked passages that are not judged relevant, in rank order', async () => {
  const docs: string[] = [];
  TOPICS.forEach((words, t) => { for (let i = 0; i < 5; i++) docs.push(`d${t}_${i}\t${words.join(' ')} ${'ghijk'[i]}`); });
  writeFileSync(join(dir, 'collection.tsv'), docs.join('\n') + '\n');
  writeFileSync(join(dir, 'qrels.tsv'), 'query-id\tcorpus-id\tscore\nq0_0\td0_0\t1\nq1_0\td1_1\t1\nq1_0\td1_2\t1\n');
  const out = join(dir, 'negatives.trec');
  const r = await cli(['mine', '--model', model, '--queries', join(dir, 'queries.tsv'), '--collection', join(dir, 'collection.tsv'),
    '--qrels', join(dir, 'qrels.tsv'), '--depth', '5', '--output', out]);
  assert.equal(r.code, 0, r.err);
  const negatives = await readMinedNegatives(out);
  assert.deepEqual([...negatives.keys()].sort(), ['q0_0', 'q1_0']);
  assert.equal(negatives.get('q0_0')!.length, 5);
  assert.ok(!negatives.get('q0_0')!.includes('d0_0'));
  assert.ok(!negatives.get('q1_0')!.some((p) => p === 'd1_1' || p === 'd1_2'));
  const lines = readFileSync(out, 'utf8').trim().split('\n').filter((l) => l.startsWith('q0_0 '));
  const scores = lines.map((l) => Number(l.split(' ')[4]));
  assert.deepEqual(scores, [...scores].sort((a, b) => b - a), 'scores descend with rank');
});
