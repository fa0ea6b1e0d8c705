/**
 * Hostile HNSW graph files: a false header used to send usearch past the end of its mapping (exit 139,
 * nothing printed). Each corruption runs `densekit search` in a child process, so a segfault fails the test
 * instead of killing the runner.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeManifest, writeShard } from '../src/formats/index.js';
import { buildHnswIndex } from '../src/retrieval/index.js';
import { seededRandom } from '../src/util/random.js';
import { runCli, spawnCli } from './cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'densekit-hostile-hnsw-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const dim = 8;
const n = 300;
const enc = join(tmp, 'enc');
mkdirSync(enc);
const r = seededRandom(11);
const ids = Array.from({ length: n }, (_, i) => `d${i}`);
const shard = writeShard(enc, 0, ids, Float32Array.from({ length: n * dim }, () => r() - 0.5), dim);
writeManifest(enc, {
  format: 'densekit-embeddings', version: 1, model: 'test', kind: 'passage', dim, dtype: 'float32', similarity: 'cosine', input: 'test',
  total: n, shardSize: n, shards: [shard], truncated: { count: 0, maxLength: 0 }, complete: true,
});
const good = join(tmp, 'good');
await buildHnswIndex(enc, good, { M: 8 }, 1);
const graphBytes = readFileSync(join(good, 'graph.usearch'));

function searchWith(graph: Uint8Array, name: string) {
  const dir = join(tmp, name);
  cpSync(good, dir, { recursive: true });
  writeFileSync(join(dir, 'graph.usearch'), graph);
  const res = runCli(['search', '--index', dir, '--query-embeddings', enc, '--k', '5', '--output', join(dir, 'run.trec')]);
  rmSync(dir, { recursive: true, force: true });
  return res;
}

function assertOneLineGraphError(res: ReturnType<typeof searchWith>, what: string): void {
  assert.equal(res.signal, null, `${what}: killed by ${res.signal}`);
  assert.equal(res.code, 1, `${what}: exit ${res.code}, stderr ${res.stderr}`);
  assert.match(res.stderr, /^densekit: error: .*graph\.usearch: .*\n$/, what);
}

test('a false row count in the graph header is one line, not a segfault (the reported case)', () => {
  const bad = Buffer.from(graphBytes);
  bad.set([0xff, 0xff, 0xff, 0x7f], 0);
  assertOneLineGraphError(searchWith(bad, 'rows'), 'rows 0x7fffffff');
});

test('false counts, degree, levels, keys and neighbour slots are each refused', () => {
  const headAt = 8 + n * dim * 4;
  const graphAt = headAt + 64;
  const cases: Array<[string, (b: Buffer) => void]> = [
    ['bytes per row', (b) => b.writeUInt32LE(dim * 4 + 4, 4)],
    ['magic', (b) => b.write('xsearch', headAt, 'latin1')],
    ['dimensions', (b) => b.writeBigUInt64LE(BigInt(dim * 1000), headAt + 33)],
    ['node count', (b) => b.writeBigUInt64LE(1n << 40n, graphAt)],
    ['connectivity', (b) => b.writeBigUInt64LE(1n << 32n, graphAt + 8)],
    ['max level', (b) => b.writeBigUInt64LE(60000n, graphAt + 24)],
    ['entry slot', (b) => b.writeBigUInt64LE(BigInt(n + 5), graphAt + 32)],
    ['first level', (b) => b.writeInt16LE(0x7fff, graphAt + 40)],
    // First node: its key, then its base-level neighbour count and first neighbour slot.
    ['key', (b) => b.writeBigUInt64LE(BigInt(n), graphAt + 40 + 2 * n)],
    ['neighbour count', (b) => b.writeUInt32LE(0xffffffff, graphAt + 40 + 2 * n + 10)],
    ['neighbour slot', (b) => b.writeUInt32LE(0x7fffffff, graphAt + 40 + 2 * n + 14)],
    ['truncated', () => undefined],
  ];
  for (const [what, corrupt] of cases) {
    let bad = Buffer.from(graphBytes);
    if (what === 'truncated') bad = bad.subarray(0, bad.length - 3);
    else corrupt(bad);
    assertOneLineGraphError(searchWith(bad, what.replace(/ /g, '-')), what);
  }
});

test('random byte flips in the graph never crash search: either a valid run or one error line', () => {
  const rand = seededRandom(5);
  const graphPartAt = 8 + n * dim * 4; // flipping vector bytes only changes distances, so aim at the structure
  for (let trial = 0; trial < 6; trial++) {
    const bad = Buffer.from(graphBytes);
    for (let f = 0; f < 8; f++) {
      const at = graphPartAt + Math.floor(rand() * (bad.length - graphPartAt));
      bad[at] = bad[at]! ^ (1 + Math.floor(rand() * 255));
    }
    const res = searchWith(bad, `flip-${trial}`);
    assert.equal(res.signal, null, `trial ${trial}: killed by ${res.signal}`);
    if (res.code !== 0) assert.match(res.stderr, /^densekit: error: [^\n]*\n$/, `trial ${trial}`);
  }
});

test('the unmodified graph still opens and searches', () => {
  const res = runCli(['search', '--index', good, '--query-embeddings', enc, '--k', '5', '--output', join(good, 'run.trec')]);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(readFileSync(join(good, 'run.trec'), 'utf8').split('\n').filter(Boolean).length, 5 * n);
});

test('a killed HNSW build never leaves an index.json (let alone a flat one); a rerun removes temp files a killed build left', async () => {
  // Large enough that building the graph takes a while after vectors.f32 is written.
  const big = join(tmp, 'enc-big');
  mkdirSync(big);
  const rows = 20_000;
  const d = 32;
  const rr = seededRandom(9);
  const bigIds = Array.from({ length: rows }, (_, i) => `b${i}`);
  const s = writeShard(big, 0, bigIds, Float32Array.from({ length: rows * d }, () => rr() - 0.5), d);
  writeManifest(big, {
    format: 'densekit-embeddings', version: 1, model: 'test', kind: 'passage', dim: d, dtype: 'float32', similarity: 'dot', input: 'test',
    total: rows, shardSize: rows, shards: [s], truncated: { count: 0, maxLength: 0 }, complete: true,
  });
  const out = join(tmp, 'killed');
  const args = ['index', '--type', 'hnsw', '--input', big, '--output', out, '--threads', '1', '--ef-construction', '200'];
  const child = spawnCli(args);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  // Kill it once the vectors are in place, while the graph is being built.
  while (!existsSync(join(out, 'vectors.f32')) && child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(child.exitCode, null, 'the build finished before it could be killed: make the input larger');
  child.kill('SIGKILL');
  await exited;
  if (existsSync(join(out, 'index.json'))) assert.notEqual(JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')).type, 'flat');
  const opened = runCli(['search', '--index', out, '--query-embeddings', enc, '--k', '5', '--output', join(tmp, 'never.trec')]);
  assert.equal(opened.code, 1);
  assert.match(opened.stderr, /^densekit: error: .*index\.json: missing: not a densekit index folder/);

  // What a build killed during a write leaves behind (a dead process's temp names), then a good rerun.
  const stale = ['.graph.usearch.tmp-999999999-0', '.vectors.f32.tmp-999999999-3', '.ids.txt.tmp-999999999-1'];
  for (const name of stale) writeFileSync(join(out, name), 'partial');
  const rerun = runCli(args);
  assert.equal(rerun.code, 0, rerun.stderr);
  assert.deepEqual(readdirSync(out).filter((f) => f.includes('.tmp-')), []);
  assert.equal(JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')).type, 'hnsw');
});
