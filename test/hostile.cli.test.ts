/**
 * Hostile outputs, flags and checkpoints through the real CLI: every case ends in one `densekit: error:` line
 * (or the right output), never a stack trace, and an output path that is not a regular file is never replaced.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeManifest, writeShard } from '../src/formats/index.js';
import { buildFlatIndex } from '../src/retrieval/index.js';
import { seededRandom } from '../src/util/random.js';
import { cliCommand, runCli } from './cli.js';
import { fixturesDir } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'densekit-hostile-cli-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const dim = 8;
const n = 40;
const enc = join(tmp, 'enc');
mkdirSync(enc);
const r = seededRandom(3);
const shard = writeShard(enc, 0, Array.from({ length: n }, (_, i) => `d${i}`), Float32Array.from({ length: n * dim }, () => r() - 0.5), dim);
writeManifest(enc, {
  format: 'densekit-embeddings', version: 1, model: 'test', kind: 'passage', dim, dtype: 'float32', similarity: 'dot', input: 'test',
  total: n, shardSize: n, shards: [shard], truncated: { count: 0, maxLength: 0 }, complete: true,
});
const idx = join(tmp, 'idx');
buildFlatIndex(enc, idx);
const search = (output: string) => ['search', '--index', idx, '--query-embeddings', enc, '--k', '2', '--output', output];
const expectedRun = (() => {
  const res = runCli(search(join(tmp, 'reference.trec')));
  assert.equal(res.code, 0, res.stderr);
  return readFileSync(join(tmp, 'reference.trec'), 'utf8');
})();

function shellCommand(args: string[]): string {
  const { cmd, argv } = cliCommand(args);
  return [cmd, ...argv].map((a) => `'${a}'`).join(' ');
}

function oneLine(res: ReturnType<typeof runCli>, pattern: RegExp, what: string): void {
  assert.equal(res.signal, null, what);
  assert.notEqual(res.code, 0, `${what}: exit 0`);
  assert.match(res.stderr, /^densekit: error: [^\n]*\n$/, `${what}: ${res.stderr}`);
  assert.match(res.stderr, pattern, what);
}

test('a symlinked output is written through to its target; the link stays a link', () => {
  mkdirSync(join(tmp, 'elsewhere'));
  const link = join(tmp, 'link.trec');
  symlinkSync(join(tmp, 'elsewhere', 'target.trec'), link); // dangling until written
  assert.equal(runCli(search(link)).code, 0);
  assert.ok(lstatSync(link).isSymbolicLink());
  assert.equal(readFileSync(join(tmp, 'elsewhere', 'target.trec'), 'utf8'), expectedRun);
  assert.equal(runCli(search(link)).code, 0); // and again over the existing target
  assert.ok(lstatSync(link).isSymbolicLink());
  assert.equal(readFileSync(link, 'utf8'), expectedRun);
});

test('- and a link to /dev/stdout stream the run to standard output; the summary goes to stderr', () => {
  const res = runCli(search('-'), { cwd: tmp });
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.stdout, expectedRun);
  assert.match(res.stderr, /run written to -/);
  assert.throws(() => lstatSync(join(tmp, '-')), /ENOENT/);
  // Through a shell pipe, as a user would (the test runner's own pipes are sockets, which are refused).
  const link = join(tmp, 'stdout-link');
  symlinkSync('/dev/stdout', link);
  const viaLink = spawnSync('sh', ['-c', `${shellCommand(search(link))} | cat`], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(viaLink.status, 0, viaLink.stderr);
  assert.ok(viaLink.stdout.startsWith(expectedRun));
  assert.match(viaLink.stdout.slice(expectedRun.length), /^searched \d+ queries .*run written to .*stdout-link\n$/);
  assert.equal(readlinkSync(link), '/dev/stdout');
});

test('a FIFO is streamed to, not replaced', () => {
  const fifo = join(tmp, 'run.fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const res = spawnSync('sh', ['-c', `cat '${fifo}' > '${fifo}.out' & ${shellCommand(search(fifo))}; s=$?; wait; exit $s`], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(res.status, 0, res.stderr);
  assert.ok(lstatSync(fifo).isFIFO());
  assert.equal(readFileSync(`${fifo}.out`, 'utf8'), expectedRun);
});

test('a full device, a folder, a missing parent and a read-only folder are one line each, and nothing is replaced', () => {
  const full = join(tmp, 'full-link');
  symlinkSync('/dev/full', full);
  oneLine(runCli(search(full)), /no space left on the device \(ENOSPC\)/, '/dev/full');
  assert.equal(readlinkSync(full), '/dev/full');
  oneLine(runCli(search(tmp)), /it is a folder/, 'output is a folder');
  oneLine(runCli(search(join(tmp, 'no', 'such', 'run.trec'))), /no such file or folder \(ENOENT\)/, 'missing parent');
  // root writes anywhere a mode allows; /sys refuses new files even to root.
  const readOnly = process.getuid?.() === 0 ? '/sys' : join(tmp, 'ro');
  if (readOnly !== '/sys') {
    mkdirSync(readOnly, { mode: 0o555 });
  }
  oneLine(runCli(search(join(readOnly, 'run.trec'))), /permission denied \(EACCES\)/, 'read-only folder');
  oneLine(runCli(['index', '--type', 'flat', '--input', enc, '--output', join(readOnly, 'idx')]), /cannot mkdir/, 'index into a read-only folder');
});

test('numeric flags and recipe keys past their bounds are refused in one line before any work', () => {
  const cases: Array<[string[], RegExp]> = [
    [[...search(join(tmp, 'x')), '--threads', '100000'], /--threads expects an integer from 0 to 256, got "100000"/],
    [['search', '--index', idx, '--query-embeddings', enc, '--k', '1e9', '--output', join(tmp, 'x')], /--k expects an integer from 1 to 100000/],
    [['eval', '--permutations', '1000000000000', 'q', 'r'], /--permutations expects an integer from 1 to 1000000/],
    [['eval', '--bootstrap', '1e12', 'q', 'r'], /--bootstrap expects an integer/],
    [['encode', '--model', 'm', '--input', 'i', '--output', 'o', '--batch-size', '99999999'], /--batch-size expects an integer from 1 to 4096/],
    [['encode', '--model', 'm', '--input', 'i', '--output', 'o', '--shard-size', '0x10'], /--shard-size expects an integer/],
    [['mine', '--model', 'm', '--skip', 'lots'], /--skip expects an integer from 0/],
    [['index', '--type', 'bm25', '--input', 'i', '--output', 'o', '--b', '2'], /--b expects a number from 0 to 1/],
    [['index', '--type', 'hnsw', '--input', 'i', '--output', 'o', '--M', '100000'], /--M expects an integer from 1 to 256/],
    [['serve', '--index', idx, '--max-k', '1e300'], /--max-k expects an integer/],
    [[...search(join(tmp, 'x')), '--bogus'], /unknown option '--bogus'/],
    [['bogus-verb'], /unknown command 'bogus-verb'/],
  ];
  for (const [args, pattern] of cases) {
    const res = runCli(args);
    oneLine(res, pattern, args.join(' '));
    assert.equal(res.code, 2, args.join(' '));
  }
  const recipe = join(tmp, 'huge.yaml');
  writeFileSync(recipe, 'stages:\n  - steps: 1e300\n');
  oneLine(runCli(['train', '--recipe', recipe, '--output', join(tmp, 'train')]), /huge\.yaml: stages\[0\]\.steps: expected <= 100000000/, 'recipe steps 1e300');
  writeFileSync(recipe, 'threads: 100000\nstages:\n  - steps: 1\n');
  oneLine(runCli(['train', '--recipe', recipe, '--output', join(tmp, 'train')]), /threads: expected <= 256/, 'recipe threads');
});

const model = join(fixturesDir, 'models', 'tasb-distilbert-tiny');
function brokenModel(name: string, edit: (dir: string) => void): string {
  const dir = join(tmp, name);
  cpSync(model, dir, { recursive: true });
  edit(dir);
  return dir;
}

test('a checkpoint cannot point outside itself, mismatch its pooling width, or carry bad vocab bytes', () => {
  const texts = join(tmp, 'texts.tsv');
  writeFileSync(texts, 'q1\thello there\nq2\tgeneral kenobi\n');
  const encode = (m: string) => runCli(['encode', '--model', m, '--input', texts, '--output', join(tmp, `enc-${m.split('/').pop()}`)]);

  const escape = brokenModel('escape', (d) => {
    const modules = JSON.parse(readFileSync(join(d, 'modules.json'), 'utf8')) as { path: string }[];
    modules[1]!.path = '../../../../../etc';
    writeFileSync(join(d, 'modules.json'), JSON.stringify(modules));
  });
  oneLine(encode(escape), /modules\.json: modules\.json\[1\]\.path "\.\.\/\.\.\/\.\.\/\.\.\/\.\.\/etc" points outside/, 'modules.json ../');
  const absolute = brokenModel('absolute', (d) => {
    const modules = JSON.parse(readFileSync(join(d, 'modules.json'), 'utf8')) as { path: string }[];
    modules[1]!.path = '/etc';
    writeFileSync(join(d, 'modules.json'), JSON.stringify(modules));
  });
  oneLine(encode(absolute), /points outside/, 'modules.json absolute path');

  const width = brokenModel('width', (d) => {
    const file = join(d, '1_Pooling', 'config.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/"word_embedding_dimension": \d+/, '"word_embedding_dimension": 7'));
  });
  oneLine(encode(width), /1_Pooling\/config\.json: word_embedding_dimension is 7 but the Transformer outputs \d+/, 'pooling width');

  const badBytes = brokenModel('vocab-bytes', (d) => writeFileSync(join(d, 'vocab.txt'), Buffer.concat([readFileSync(join(d, 'vocab.txt')), Buffer.from([0x61, 0xff, 0xfe, 0x0a])])));
  oneLine(runCli(['tokenize', '--model', badBytes, '--text', 'hi']), /vocab\.txt:\d+: not valid UTF-8/, 'vocab bytes');
  const noUnk = brokenModel('vocab-unk', (d) => writeFileSync(join(d, 'vocab.txt'), readFileSync(join(d, 'vocab.txt'), 'utf8').replace('[UNK]\n', '')));
  oneLine(runCli(['tokenize', '--model', noUnk, '--text', 'hi']), /vocab\.txt: the unknown token "\[UNK\]" is not in the vocabulary/, 'vocab without [UNK]');

  const control = brokenModel('tokenizer-json', (d) => writeFileSync(join(d, 'tokenizer.json'), Buffer.from('{"model": \u0000\u001b[31m}')));
  const res = runCli(['tokenize', '--model', control, '--text', 'hi']);
  oneLine(res, /tokenizer\.json: /, 'tokenizer.json with control bytes');
  assert.doesNotMatch(res.stderr, /[\u0000-\u0009\u000b-\u001f]/, 'raw control bytes printed');
});
