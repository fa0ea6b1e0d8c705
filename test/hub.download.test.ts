/**
 * Hub downloads against a fake Hub on 127.0.0.1 (test/fake-hub.ts) serving the fixture models: the cache is
 * huggingface_hub's layout, only the needed files come, every file is hash-checked, dropped connections resume,
 * tokens go to the Hub and never to the LFS host, errors are one line, offline mode uses the cache, and two
 * processes downloading at once leave one correct copy. Downloaded models must encode exactly like the fixture
 * folders they were served from.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { seededRandom } from '../src/util/random.js';
import { FakeHub, fakeFile, filesOf, type FakeFile } from './fake-hub.js';
import { fixturesDir } from './helpers.js';
import { spawnCli, type CliResult } from './cli.js';
import { downloadModel, ensureModel, HubError } from '../src/hub/index.js';
import { SentenceEncoder } from '../src/models/index.js';
import { loadStateDict, writeSafetensors } from '../src/io/index.js';

const root = mkdtempSync(join(tmpdir(), 'densekit-hub-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
const hub = new FakeHub();
let cacheCounter = 0;
/** A fresh, empty cache per test (HF_HOME without a token file unless a test writes one). */
function freshEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const home = join(root, `home-${cacheCounter++}`);
  mkdirSync(home, { recursive: true });
  return { HF_ENDPOINT: hub.endpoint, HF_HOME: home, HF_HUB_CACHE: join(home, 'hub'), HF_TOKEN: '', HF_HUB_OFFLINE: '', ...extra };
}
const quiet = { log: () => undefined };

const TEXTS = ['what causes tides?', "The Moon's gravity pulls the oceans.", 'a b c d e f g h i j k l m n o p', 'Zürich 😀 naïve café'];
const model = (name: string) => join(fixturesDir, 'models', name);
/** What the model needs of a fixture folder: all but oracle.json (the reference outputs, not part of a model). */
const needed = (files: Map<string, FakeFile>) => [...files.keys()].filter((p) => p !== 'oracle.json').sort();

let tasbCommitV1 = '';
let tasbCommitMain = '';
const extras = new Map<string, FakeFile>([
  ['README.md', fakeFile(Buffer.from('# tasb tiny\n'), 'README.md')],
  ['pytorch_model.bin', fakeFile(Buffer.alloc(4096, 7), 'pytorch_model.bin')],
  ['onnx/model.onnx', fakeFile(Buffer.alloc(2048, 3), 'onnx/model.onnx')],
  ['tf_model.h5', fakeFile(Buffer.alloc(1024, 5), 'tf_model.h5')],
]);

before(async () => {
  await hub.start();
  const tasb = filesOf(model('tasb-distilbert-tiny'));
  tasbCommitV1 = hub.addRepo('fixtures/tasb-tiny', new Map([...tasb, ...extras]), { refs: ['v1'] });
  // A later commit on main: only the README changes, so both snapshots share every model blob.
  tasbCommitMain = hub.addRepo('fixtures/tasb-tiny', new Map([...tasb, ...extras, ['README.md', fakeFile(Buffer.from('# tasb tiny, v2\n'), 'README.md')]]));
  hub.addRepo('fixtures/gtr-tiny', filesOf(model('gtr-t5-tiny-relu')));
  hub.addRepo('gated/bert-tiny', filesOf(model('bert-tiny-mean')), { token: 'hf_secret_token' });
  // bert-tiny-mean with its weights split into two safetensors shards and an index, as large checkpoints are.
  const bert = filesOf(model('bert-tiny-mean'));
  const tensors = loadStateDict(model('bert-tiny-mean'));
  const names = [...tensors.keys()].sort();
  const half = Math.ceil(names.length / 2);
  const shardDir = join(root, 'shards');
  mkdirSync(shardDir);
  const weightMap: Record<string, string> = {};
  for (const [i, part] of [names.slice(0, half), names.slice(half)].entries()) {
    const file = `model-0000${i + 1}-of-00002.safetensors`;
    writeSafetensors(join(shardDir, file), new Map(part.map((n) => [n, tensors.get(n)!])));
    for (const n of part) weightMap[n] = file;
    bert.set(file, fakeFile(readFileSync(join(shardDir, file)), file));
  }
  bert.delete('model.safetensors');
  const index = Buffer.from(JSON.stringify({ metadata: {}, weight_map: weightMap }));
  bert.set('model.safetensors.index.json', fakeFile(index, 'model.safetensors.index.json'));
  hub.addRepo('fixtures/bert-sharded', bert);
});
after(() => hub.stop());

function encodeAll(dir: string): Float32Array[] {
  const m = SentenceEncoder.load(dir);
  try {
    return [m.embed(TEXTS, 'query').vectors, m.embed(TEXTS, 'passage').vectors];
  } finally {
    m.dispose();
  }
}

function listTree(dir: string, prefix = ''): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return lstatSync(p).isDirectory() ? listTree(p, `${prefix}${name}/`) : [`${prefix}${name}`];
  }).sort();
}

/** The CLI in a child process, asynchronously: the fake Hub answers from this process's event loop. */
async function runCli(args: readonly string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  const p = spawnCli(args, opts);
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (d) => (stdout += d));
  p.stderr.on('data', (d) => (stderr += d));
  const [code, signal] = (await once(p, 'exit')) as [number | null, NodeJS.Signals | null];
  return { code: code ?? 1, signal, stdout, stderr };
}

const lfsGets = (sha: string) => hub.requests.filter((r) => r.server === 'lfs' && r.url.startsWith(`/lfs/${sha}`));

test('a download lands in huggingface_hub\'s layout: blobs by hash, relative symlinks, refs/main', async () => {
  const env = freshEnv();
  const r = await downloadModel('fixtures/tasb-tiny', { env, ...quiet });
  const repoDir = join(env.HF_HUB_CACHE!, 'models--fixtures--tasb-tiny');
  assert.equal(r.commit, tasbCommitMain);
  assert.equal(r.dir, join(repoDir, 'snapshots', tasbCommitMain));
  assert.equal(readFileSync(join(repoDir, 'refs', 'main'), 'utf8'), tasbCommitMain);
  const served = hub.repos.get('fixtures/tasb-tiny')!.commits.get(tasbCommitMain)!;
  for (const path of listTree(r.dir)) {
    const link = join(r.dir, path);
    assert.ok(lstatSync(link).isSymbolicLink(), `${path} is a symlink`);
    const f = served.get(path)!;
    const expectedBlob = f.lfs ? f.sha256 : f.gitOid;
    const depth = path.split('/').length - 1;
    assert.equal(readlinkSync(link), `${'../'.repeat(depth + 2)}blobs/${expectedBlob}`, `${path} points at its blob, relatively`);
    assert.deepEqual(readFileSync(link), f.content);
  }
  assert.deepEqual(readdirSync(join(repoDir, 'blobs')).filter((b) => b.endsWith('.incomplete')), []);
});

test('only the files the model needs: no README, no .bin beside safetensors, no ONNX/TF exports, no oracle', async () => {
  const env = freshEnv();
  const before = hub.requests.length;
  const r = await downloadModel('fixtures/tasb-tiny', { env, ...quiet });
  assert.deepEqual(listTree(r.dir), needed(filesOf(model('tasb-distilbert-tiny'))));
  const fetchedLfs = hub.requests.slice(before).filter((q) => q.server === 'lfs').map((q) => q.url);
  for (const [path, f] of extras) assert.ok(!fetchedLfs.some((u) => u.includes(f.sha256)), `${path} not fetched`);
  assert.ok(!hub.requests.slice(before).some((q) => q.url.includes('/resolve/') && /README|onnx|tf_model|pytorch_model/.test(q.url)));
});

test('downloaded models encode exactly like the fixture folders (DistilBERT CLS, T5 + Dense, sharded BERT)', async () => {
  const env = freshEnv();
  for (const [id, fixture] of [['fixtures/tasb-tiny', 'tasb-distilbert-tiny'], ['fixtures/gtr-tiny', 'gtr-t5-tiny-relu'], ['fixtures/bert-sharded', 'bert-tiny-mean']] as const) {
    const dir = await ensureModel(id, { env, ...quiet });
    assert.deepEqual(encodeAll(dir), encodeAll(model(fixture)), id);
  }
  const sharded = join(env.HF_HUB_CACHE!, 'models--fixtures--bert-sharded', 'snapshots');
  const files = listTree(join(sharded, readdirSync(sharded)[0]!));
  assert.ok(files.includes('model-00001-of-00002.safetensors') && files.includes('model-00002-of-00002.safetensors') && files.includes('model.safetensors.index.json'));
  const gtr = listTree(join(env.HF_HUB_CACHE!, 'models--fixtures--gtr-tiny', 'snapshots', readdirSync(join(env.HF_HUB_CACHE!, 'models--fixtures--gtr-tiny', 'snapshots'))[0]!));
  assert.deepEqual(gtr, needed(filesOf(model('gtr-t5-tiny-relu'))));
});

test('revisions by tag, by commit (then no request at all once cached) and by branch', async () => {
  const env = freshEnv();
  const v1 = await downloadModel('fixtures/tasb-tiny', { env, revision: 'v1', ...quiet });
  assert.equal(v1.commit, tasbCommitV1);
  const repoDir = join(env.HF_HUB_CACHE!, 'models--fixtures--tasb-tiny');
  assert.equal(readFileSync(join(repoDir, 'refs', 'v1'), 'utf8'), tasbCommitV1);
  const byCommit = await downloadModel('fixtures/tasb-tiny', { env, revision: tasbCommitV1, ...quiet });
  assert.equal(byCommit.dir, v1.dir);
  const count = hub.requests.length;
  await downloadModel('fixtures/tasb-tiny', { env, revision: tasbCommitV1, ...quiet });
  assert.equal(hub.requests.length, count, 'a cached commit needs no request');
  const main = await downloadModel('fixtures/tasb-tiny', { env, ...quiet });
  assert.equal(main.commit, tasbCommitMain);
  assert.equal(main.downloadedBytes, 0, 'main shares every model blob with v1');
  assert.notEqual(main.dir, v1.dir);
});

test('corrupted bytes: the sha256 check fails, nothing enters the cache', async () => {
  const env = freshEnv();
  const weights = hub.repos.get('fixtures/gtr-tiny')!.commits.values().next().value!.get('model.safetensors')!;
  hub.faults.corrupt.add(weights.sha256);
  try {
    await assert.rejects(downloadModel('fixtures/gtr-tiny', { env, ...quiet }), (e: unknown) => {
      assert.ok(e instanceof HubError);
      assert.match(e.message, new RegExp(`model\\.safetensors: the downloaded bytes have sha256 [0-9a-f]{64}, the Hub's ETag says ${weights.sha256}; nothing was kept`));
      assert.doesNotMatch(e.message, /\n/);
      return true;
    });
  } finally {
    hub.faults.corrupt.delete(weights.sha256);
  }
  const repoDir = join(env.HF_HUB_CACHE!, 'models--fixtures--gtr-tiny');
  const blobs = readdirSync(join(repoDir, 'blobs'));
  assert.ok(!blobs.some((b) => b.startsWith(weights.sha256)), 'neither the blob nor its .incomplete is left');
  const snap = join(repoDir, 'snapshots', readdirSync(join(repoDir, 'snapshots'))[0]!);
  assert.ok(!existsSync(join(snap, 'model.safetensors')));
});

test('a connection cut mid-file is resumed with a Range request in the same command', async () => {
  const env = freshEnv();
  const weights = filesOf(model('bert-tiny-mean')).get('model.safetensors')!;
  hub.faults.cut.set(weights.sha256, { afterBytes: 100_000, times: 2 });
  const before = lfsGets(weights.sha256).length;
  try {
    const dir = await ensureModel('gated/bert-tiny', { env: { ...env, HF_TOKEN: 'hf_secret_token' }, ...quiet });
    assert.deepEqual(readFileSync(join(dir, 'model.safetensors')), weights.content);
  } finally {
    hub.faults.cut.delete(weights.sha256);
  }
  const gets = lfsGets(weights.sha256).slice(before);
  assert.equal(gets.length, 3);
  assert.equal(gets[0]!.range, undefined);
  for (const g of gets.slice(1)) assert.match(g.range ?? '', /^bytes=[1-9]\d*-$/, 'later attempts ask for the rest only');
});

test('an interrupted command leaves its .incomplete, and the next run resumes from it', async () => {
  const env = freshEnv();
  const weights = filesOf(model('tasb-distilbert-tiny')).get('model.safetensors')!;
  hub.faults.cut.set(weights.sha256, { afterBytes: 150_000, times: 100 });
  try {
    await assert.rejects(downloadModel('fixtures/tasb-tiny', { env, ...quiet }), /connection dropped 6 times .*rerun the command to resume/);
  } finally {
    hub.faults.cut.delete(weights.sha256);
  }
  const incomplete = join(env.HF_HUB_CACHE!, 'models--fixtures--tasb-tiny', 'blobs', `${weights.sha256}.incomplete`);
  const kept = statSync(incomplete).size;
  assert.ok(kept > 0 && kept < weights.content.length);
  const before = lfsGets(weights.sha256).length;
  const r = await downloadModel('fixtures/tasb-tiny', { env, ...quiet });
  const gets = lfsGets(weights.sha256).slice(before);
  assert.equal(gets.length, 1);
  assert.equal(gets[0]!.range, `bytes=${kept}-`);
  assert.deepEqual(readFileSync(join(r.dir, 'model.safetensors')), weights.content);
  assert.ok(!existsSync(incomplete));
});

test('a gated model: a missing token is a one-line 401 naming HF_TOKEN; HF_TOKEN or the token file works; the LFS host never sees it', async () => {
  const env = freshEnv();
  const denied = await runCli(['download', 'gated/bert-tiny'], { env });
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /^densekit: error: gated\/bert-tiny .*gated.*set HF_TOKEN/);
  assert.equal(denied.stderr.trim().split('\n').length, 1);
  const wrong = await runCli(['download', 'gated/bert-tiny'], { env: { ...env, HF_TOKEN: 'hf_wrong' } });
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /^densekit: error: .*has no access/);

  const before = hub.requests.length;
  const ok = await runCli(['download', 'gated/bert-tiny'], { env: { ...env, HF_TOKEN: 'hf_secret_token' } });
  assert.equal(ok.code, 0, ok.stderr);
  assert.ok(existsSync(join(ok.stdout.trim(), 'model.safetensors')));
  const seen = hub.requests.slice(before);
  assert.ok(seen.filter((r) => r.server === 'hub').every((r) => r.authorization === 'Bearer hf_secret_token'));
  assert.ok(seen.some((r) => r.server === 'lfs'));
  assert.ok(seen.filter((r) => r.server === 'lfs').every((r) => r.authorization === undefined), 'the token stays with the Hub');

  const env2 = freshEnv();
  writeFileSync(join(env2.HF_HOME!, 'token'), 'hf_secret_token\n'); // what `huggingface-cli login` writes
  const fromFile = await runCli(['download', 'gated/bert-tiny'], { env: env2 });
  assert.equal(fromFile.code, 0, fromFile.stderr);
});

test('404s are one line: no such repo, no such revision, no such file', async () => {
  const env = freshEnv();
  const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
    [['download', 'nobody/nothing'], { HF_TOKEN: 'hf_x' }, /^densekit: error: nobody\/nothing: no such model on http:\/\/127\.0\.0\.1:\d+\n$/],
    [['download', 'nobody/nothing'], {}, /^densekit: error: nobody\/nothing .*no such model, or a private one \(HTTP 401\); set HF_TOKEN/],
    [['download', 'fixtures/tasb-tiny', '--revision', 'v9'], {}, /^densekit: error: fixtures\/tasb-tiny: no revision "v9" \(branch, tag or commit\)/],
    [['encode', '--model', 'nobody/nothing', '--input', 'x.jsonl', '--output', join(root, 'enc-x')], {}, /^densekit: error: nobody\/nothing .*HTTP 401/],
  ];
  for (const [args, extra, want] of cases) {
    const r = await runCli(args, { env: { ...env, ...extra } });
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, want);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
  hub.faults.missing.add('fixtures/gtr-tiny:2_Dense/model.safetensors');
  try {
    const r = await runCli(['download', 'fixtures/gtr-tiny'], { env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^densekit: error: fixtures\/gtr-tiny\/2_Dense\/model\.safetensors \(revision [0-9a-f]{40}, .*\): no such file in the repository\n$/);
  } finally {
    hub.faults.missing.clear();
  }
});

test('HF_HUB_OFFLINE=1: the cache serves without a request; a model not cached is a one-line error', async () => {
  const env = freshEnv();
  const online = await ensureModel('fixtures/gtr-tiny', { env, ...quiet });
  const count = hub.requests.length;
  const offline = { ...env, HF_HUB_OFFLINE: '1' };
  assert.equal(await ensureModel('fixtures/gtr-tiny', { env: offline, ...quiet }), online);
  assert.equal((await downloadModel('fixtures/gtr-tiny', { env: offline, ...quiet })).dir, online);
  assert.equal(hub.requests.length, count);
  await assert.rejects(ensureModel('fixtures/tasb-tiny', { env: offline, ...quiet }), /^HubError: fixtures\/tasb-tiny: HF_HUB_OFFLINE is set and the model is not in the cache .*; unset HF_HUB_OFFLINE to download it$/);
  const r = await runCli(['download', 'fixtures/tasb-tiny'], { env: offline });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^densekit: error: fixtures\/tasb-tiny \(revision main\): HF_HUB_OFFLINE is set/);
  // Unreachable but cached: the cache is used, with a note, as huggingface_hub does.
  const lines: string[] = [];
  const down = await ensureModel('fixtures/gtr-tiny', { env: { ...env, HF_ENDPOINT: 'http://127.0.0.1:9' }, log: (l) => lines.push(l) });
  assert.equal(down, online);
  assert.match(lines.join('\n'), /cannot reach the Hugging Face Hub.*using the cached fixtures\/gtr-tiny/);
});

test('densekit encode --model ORG/NAME downloads on first use and encodes like the fixture folder', async () => {
  const env = freshEnv();
  const input = join(root, 'q.tsv');
  writeFileSync(input, TEXTS.map((t, i) => `q${i}\t${t}`).join('\n') + '\n');
  const a = await runCli(['encode', '--model', 'fixtures/tasb-tiny', '--input', input, '--kind', 'query', '--output', join(root, 'enc-hub')], { env });
  assert.equal(a.code, 0, a.stderr);
  const b = await runCli(['encode', '--model', model('tasb-distilbert-tiny'), '--input', input, '--kind', 'query', '--output', join(root, 'enc-dir')], { env });
  assert.equal(b.code, 0, b.stderr);
  const shards = (d: string) => readdirSync(d).filter((f) => f.endsWith('.npy')).sort();
  assert.deepEqual(shards(join(root, 'enc-hub')), shards(join(root, 'enc-dir')));
  for (const f of shards(join(root, 'enc-hub'))) assert.deepEqual(readFileSync(join(root, 'enc-hub', f)), readFileSync(join(root, 'enc-dir', f)));
  assert.ok(existsSync(join(env.HF_HUB_CACHE!, 'models--fixtures--tasb-tiny', 'refs', 'main')));
});

test('two processes downloading the same model at once: one transfer, one correct copy, both succeed', async () => {
  const env: NodeJS.ProcessEnv = { ...process.env, ...freshEnv(), DENSEKIT_PROGRESS: 'json' };
  const weights = filesOf(model('tasb-distilbert-tiny')).get('model.safetensors')!;
  hub.faults.lfsBytesPerSecond = 400_000; // ~1 s for the weights: the second process arrives while the first holds the lock
  const before = lfsGets(weights.sha256).length;
  try {
    const procs = [spawnCli(['download', 'fixtures/tasb-tiny'], { env }), spawnCli(['download', 'fixtures/tasb-tiny'], { env })];
    const outs = procs.map((p) => {
      let out = '';
      let err = '';
      p.stdout.on('data', (d) => (out += d));
      p.stderr.on('data', (d) => (err += d));
      return () => ({ out, err });
    });
    const codes = await Promise.all(procs.map(async (p) => (await once(p, 'exit'))[0] as number));
    const results = outs.map((o) => o());
    assert.deepEqual(codes, [0, 0], results.map((r) => r.err).join('\n'));
    assert.equal(results[0]!.out, results[1]!.out);
    assert.match(results.map((r) => r.err).join('\n'), /waiting for another process downloading fixtures\/tasb-tiny\/model\.safetensors/);
    assert.match(results.map((r) => r.err).join('\n'), /\{"progress":"download fixtures\/tasb-tiny","done":\d+,"total":\d+,"rate":[\d.]+/);
    const dir = results[0]!.out.trim();
    assert.deepEqual(readFileSync(join(dir, 'model.safetensors')), weights.content);
  } finally {
    hub.faults.lfsBytesPerSecond = 0;
  }
  assert.equal(lfsGets(weights.sha256).length - before, 1, 'the weights crossed the network once');
  const repoDir = join(env.HF_HUB_CACHE!, 'models--fixtures--tasb-tiny');
  assert.deepEqual(readdirSync(join(repoDir, 'blobs')).filter((b) => b.includes('.incomplete')), []);
  assert.deepEqual(readdirSync(join(env.HF_HUB_CACHE!, '.locks', 'models--fixtures--tasb-tiny')).filter((l) => l.endsWith('.densekit.lock')), [], 'locks are released');
});

test('SIGKILL at random points of a download: the rerun completes it, every file byte-identical to the Hub\'s, no partial blob under a final name', async () => {
  const env: NodeJS.ProcessEnv = { ...process.env, ...freshEnv() };
  const files = filesOf(model('tasb-distilbert-tiny'));
  const r = seededRandom(14);
  hub.faults.lfsBytesPerSecond = 400_000; // ~1 s for the weights: the kills land mid-transfer
  try {
    for (let round = 0; round < 3; round++) {
      const child = spawnCli(['download', 'fixtures/tasb-tiny'], { env });
      child.stdout.resume();
      child.stderr.resume();
      setTimeout(() => child.kill('SIGKILL'), 100 + r() * 900);
      await once(child, 'exit');
      // Whatever sits under a blob's final name (its sha256) is that blob, whole.
      const blobs = join(env.HF_HUB_CACHE!, 'models--fixtures--tasb-tiny', 'blobs');
      if (existsSync(blobs)) {
        for (const b of readdirSync(blobs).filter((n) => /^[0-9a-f]{64}$/.test(n))) {
          assert.equal(createHash('sha256').update(readFileSync(join(blobs, b))).digest('hex'), b, `round ${round}: blob ${b} is not whole`);
        }
      }
    }
  } finally {
    hub.faults.lfsBytesPerSecond = 0;
  }
  const done = await runCli(['download', 'fixtures/tasb-tiny'], { env });
  assert.equal(done.code, 0, done.stderr);
  const dir = done.stdout.trim();
  for (const name of needed(files)) assert.deepEqual(readFileSync(join(dir, name)), files.get(name)!.content, name);
  const blobs = join(env.HF_HUB_CACHE!, 'models--fixtures--tasb-tiny', 'blobs');
  assert.deepEqual(readdirSync(blobs).filter((b) => b.includes('.incomplete')), [], 'no partial transfer left');
});
