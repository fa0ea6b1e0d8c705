/**
 * kill -9 and disk full for every writer the CLI has that a later command reads (encode, index flat / hnsw /
 * bm25, search run output, eval report): SIGKILL at seeded random points during a run leaves what was there
 * before intact (or the complete new output), never a half-written file under the output's name; the next run
 * succeeds (encode resumes) and its output is byte-identical to an uninterrupted run's. A full disk (a 1 MiB tmpfs,
 * when this test may mount one) gives one `densekit: error:` line and leaves nothing half-written in place.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { seededRandom } from '../src/util/random.js';
import { runCli, spawnCli } from './cli.js';
import { fixturesDir } from './helpers.js';

const model = join(fixturesDir, 'models', 'tasb-distilbert-tiny');
const tmp = mkdtempSync(join(tmpdir(), 'densekit-faults-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const words = ['vitamin', 'bone', 'density', 'sleep', 'memory', 'cell', 'immune', 'diet', 'protein', 'gene', 'trial', 'dose'];
const corpus = join(tmp, 'corpus.jsonl');
writeFileSync(corpus, Array.from({ length: 600 }, (_, i) => JSON.stringify({
  _id: `d${i}`, title: `t${i}`, text: Array.from({ length: 20 + (i % 30) }, (_, j) => words[(i * 5 + j * 7) % words.length]).join(' '),
})).join('\n') + '\n');
const queries = join(tmp, 'queries.jsonl');
writeFileSync(queries, Array.from({ length: 40 }, (_, i) => JSON.stringify({ _id: `q${i}`, text: `${words[i % 12]} ${words[(i * 5) % 12]}` })).join('\n') + '\n');
const qrels = join(tmp, 'qrels.trec');
writeFileSync(qrels, Array.from({ length: 40 }, (_, i) => `q${i} 0 d${(i * 13) % 600} 1\n`).join(''));
const beir = join(tmp, 'beir-set');
mkdirSync(join(beir, 'qrels'), { recursive: true });
writeFileSync(join(beir, 'corpus.jsonl'), readFileSync(corpus));
writeFileSync(join(beir, 'queries.jsonl'), readFileSync(queries));
writeFileSync(join(beir, 'qrels', 'test.tsv'), 'query-id\tcorpus-id\tscore\n' + Array.from({ length: 40 }, (_, i) => `q${i}\td${(i * 13) % 600}\t1\n`).join(''));

/** Every file under dir by relative name -> bytes (hidden temp files included: they must not survive a rerun). */
function snapshot(path: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if (!existsSync(path)) return out;
  if (statSync(path).isFile()) return out.set('', readFileSync(path));
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(path, p), readFileSync(p));
    }
  };
  walk(path);
  return out;
}
const same = (a: Map<string, Buffer>, b: Map<string, Buffer>) => a.size === b.size && [...a].every(([k, v]) => b.get(k)?.equals(v));
const temps = (dir: string) => readdirSync(dir).filter((n) => /\.tmp-\d+-/.test(n));

function ok(args: string[]): number {
  const s = performance.now();
  const r = runCli(args);
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  return performance.now() - s;
}

/** Starts `args` and SIGKILLs it after `ms`; resolves once it is gone. */
function killAfter(args: string[], ms: number): Promise<NodeJS.Signals | number | null> {
  const child = spawnCli(args);
  child.stdout.resume();
  child.stderr.resume();
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  return new Promise((resolve) => child.on('exit', (code, signal) => {
    clearTimeout(timer);
    resolve(signal ?? code);
  }));
}

const enc = join(tmp, 'enc');
const qenc = join(tmp, 'qenc');
ok(['encode', '--model', model, '--input', queries, '--output', qenc, '--kind', 'query', '--dtype', 'fp32']);

interface Writer {
  name: string;
  /** The output path the command writes (a file or a folder). */
  output: string;
  args: string[];
  /** Rerun after a kill resumes into the partial output (encode) rather than replacing it. */
  resumes?: boolean;
  /** Output bytes differ run to run (usearch's threaded build): checked by verify instead. */
  nondeterministic?: boolean;
  /** After a kill: what was there before is intact, or the output is complete; false: a half-made folder nothing opens. */
  intact?: (before: Map<string, Buffer>, after: Map<string, Buffer>, reference: Map<string, Buffer>) => boolean;
}

const writers: Writer[] = [
  { name: 'encode', output: enc, resumes: true, args: ['encode', '--model', model, '--input', corpus, '--output', enc, '--shard-size', '60', '--batch-size', '16', '--dtype', 'fp32'] },
  { name: 'index flat', output: join(tmp, 'flat'), args: ['index', '--type', 'flat', '--input', enc, '--output', join(tmp, 'flat'), '--storage', 'int8'] },
  { name: 'index hnsw', output: join(tmp, 'hnsw'), nondeterministic: true, args: ['index', '--type', 'hnsw', '--input', enc, '--output', join(tmp, 'hnsw')] },
  { name: 'index bm25', output: join(tmp, 'bm25'), args: ['index', '--type', 'bm25', '--input', corpus, '--output', join(tmp, 'bm25')] },
  { name: 'search run', output: join(tmp, 'run.trec'), args: ['search', '--index', join(tmp, 'bm25'), '--queries', queries, '--k', '500', '--output', join(tmp, 'run.trec')] },
  { name: 'eval report', output: join(tmp, 'report.html'), args: ['eval', qrels, join(tmp, 'run.trec'), '--report', join(tmp, 'report.html')] },
  // The BEIR cache: corpus embeddings, flat and BM25 indexes, kept between runs and resumed after a kill.
  { name: 'beir cache', output: join(tmp, 'beir-cache'), resumes: true, args: ['beir', '--model', model, '--dataset', beir, '--retriever', 'dense,bm25', '--cache', join(tmp, 'beir-cache'), '--batch-size', '16', '--json'] },
];

/** Kills per writer (each is a CLI start, a reference-length run and a rerun: ~1-3 s on 2 shared cores). */
const ROUNDS = 2;

/** An index folder after a kill: complete (verify passes) or without index.json (refused in one line), never inconsistent. */
function indexState(dir: string): 'complete' | 'no index.json' | string {
  if (!existsSync(join(dir, 'index.json'))) return 'no index.json';
  const r = runCli(['verify', dir]);
  return r.code === 0 ? 'complete' : `inconsistent: ${r.stdout}${r.stderr}`;
}

test('SIGKILL at random points in every writer: the old output or the complete new one, and the rerun is byte-identical', { timeout: 600_000 }, async () => {
  const r = seededRandom(2026);
  let kills = 0;
  for (const w of writers) {
    const ms = ok(w.args); // the reference run (and the "before" state for the next)
    const reference = snapshot(w.output);
    assert.ok(reference.size > 0, w.name);
    for (let round = 0; round < ROUNDS; round++) {
      if (w.resumes) rmSync(w.output, { recursive: true, force: true }); // resume from nothing: kills land mid-job
      const before = snapshot(w.output);
      const at = 150 + r() * ms;
      await killAfter(w.args, at);
      kills++;
      const after = snapshot(w.output);
      const name = `${w.name}, killed at ${at.toFixed(0)} ms`;
      if (w.output.endsWith('.trec') || w.output.endsWith('.html')) {
        // A file output: byte for byte the old file or the complete new one.
        assert.ok(same(after, before) || same(after, reference), `${name}: half-written`);
      } else if (!w.resumes) {
        const state = indexState(w.output);
        assert.ok(state === 'complete' || state === 'no index.json', `${name}: ${state}`);
        if (existsSync(join(w.output, 'index.json'))) assert.equal(runCli(['verify', w.output]).code, 0, name);
      } else if (existsSync(w.output)) {
        // A resumable job's folder after a kill: everything its manifests and index.json files record is whole.
        const v = runCli(['verify', w.output]);
        assert.ok(v.code === 0 || /holds no densekit folder/.test(v.stderr), `${name}: ${v.stdout}${v.stderr}`);
      }
      ok(w.args); // the next run succeeds (encode resumes after its last finished shard)
      const rerun = snapshot(w.output);
      if (w.nondeterministic) assert.equal(indexState(w.output), 'complete', name);
      // Same names (no temp file left anywhere under it) and same bytes.
      else assert.ok(same(rerun, reference), `${name}: the rerun differs from an uninterrupted run (${[...rerun.keys()].join(', ')})`);
      const dir = statSync(w.output).isDirectory() ? w.output : tmp;
      assert.deepEqual(temps(dir), [], `${name}: temp files left after the rerun`);
    }
  }
  assert.equal(kills, ROUNDS * writers.length);
});

// Mounted only for the disk-full test, and unmounted by it (finally), so a failing test leaves no mount behind.
const full = join(tmp, 'full');
mkdirSync(full);
const mountable = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', full]).status === 0 && spawnSync('umount', [full]).status === 0;

/** Grows a filler file until about `bytes` are left free on the tmpfs. */
function leave(bytes: number): void {
  const filler = join(full, 'filler');
  const now = existsSync(filler) ? statSync(filler).size : 0;
  const st = statfsSync(full);
  writeFileSync(filler, Buffer.alloc(Math.max(0, now + st.bavail * st.bsize - bytes)));
}

test('a full disk: one error line, the previous output intact, nothing half-written left', { skip: !mountable && 'cannot mount a tmpfs here (not root?)' }, () => {
  assert.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', full]).status, 0);
  try {
    diskFull();
  } finally {
    spawnSync('umount', ['-l', full]);
  }
});

function diskFull(): void {
  const oneLine = (args: string[], what: string) => {
    const res = runCli(args);
    assert.equal(res.signal, null, what);
    assert.notEqual(res.code, 0, `${what}: exit 0`);
    assert.match(res.stderr, /^densekit: error: [^\n]*no space left on the device \(ENOSPC\)\n$/, `${what}: ${res.stderr}`);
  };
  // The inputs (made by the kill test when it ran).
  for (const w of [writers[0]!, writers[3]!, writers[4]!]) if (!existsSync(w.output) || (w.resumes && !existsSync(join(w.output, 'manifest.json')))) ok(w.args);
  // A small previous run, then a 40 x 500-hit run (about 700 KB) over it, with 8 KiB left.
  const run = join(full, 'run.trec');
  ok(['search', '--index', join(tmp, 'bm25'), '--queries', queries, '--k', '2', '--output', run]);
  const previous = readFileSync(run);
  leave(8192);
  oneLine(['search', '--index', join(tmp, 'bm25'), '--queries', queries, '--k', '500', '--output', run], 'search run');
  assert.ok(readFileSync(run).equals(previous), 'the previous run is intact');
  assert.deepEqual(temps(full), []);
  // An index, an encoding and a report that do not fit.
  oneLine(['index', '--type', 'flat', '--input', enc, '--output', join(full, 'flat'), '--storage', 'bf16'], 'index flat');
  assert.ok(!existsSync(join(full, 'flat', 'index.json')));
  assert.deepEqual(temps(join(full, 'flat')), []);
  rmSync(join(full, 'flat'), { recursive: true });
  oneLine(['index', '--type', 'bm25', '--input', corpus, '--output', join(full, 'bm25')], 'index bm25');
  assert.ok(!existsSync(join(full, 'bm25', 'index.json')));
  assert.deepEqual(temps(join(full, 'bm25')), []);
  rmSync(join(full, 'bm25'), { recursive: true });
  writeFileSync(join(full, 'report.html'), 'previous report');
  leave(8192);
  oneLine(['eval', qrels, join(tmp, 'run.trec'), '--report', join(full, 'report.html')], 'eval report');
  assert.equal(readFileSync(join(full, 'report.html'), 'utf8'), 'previous report');
  leave(8192);
  oneLine(['encode', '--model', model, '--input', corpus, '--output', join(full, 'enc'), '--shard-size', '60', '--dtype', 'fp32'], 'encode');
  assert.deepEqual(temps(join(full, 'enc')), []);
  // What it finished is a valid, resumable job: every shard the manifest records is whole.
  if (existsSync(join(full, 'enc', 'manifest.json'))) {
    const v = runCli(['verify', join(full, 'enc')]);
    assert.equal(v.code, 0, v.stdout + v.stderr);
  }
}
