/**
 * densekit eval against trec_eval 10.0-rc3 over its whole option and measure surface: every case in
 * ../shared/fixtures/metrics/surface/ (NAME.cmd: trec_eval's exact arguments, paths relative to ../shared;
 * NAME.txt: what trec_eval printed) is run through the CLI with the same arguments, and every output line
 * must be identical. New cases dropped into that folder are picked up without touching this file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixturesDir, sharedDir } from './helpers.js';
import { runCli } from './cli.js';
import { MEASURES, NICKNAMES } from '../src/eval/index.js';

const surfaceDir = join(fixturesDir, 'metrics', 'surface');
const cases = readdirSync(surfaceDir).filter((f) => f.endsWith('.cmd')).map((f) => f.slice(0, -4)).sort();

test('the surface fixtures are all there (23 cases: flags, -R formats, parameters, extra run columns)', () => {
  assert.ok(cases.length >= 23, `found ${cases.length} cases`);
  for (const name of ['scifact.extra-columns', 'cranfield.qrels_prefs', 'cranfield.qrels_jg', 'cranfield.params-a', 'cranfield.all_trec-c-M50']) {
    assert.ok(cases.includes(name), name);
  }
});

for (const name of cases) {
  test(`${name}: every line identical to trec_eval 10.0`, () => {
    const command = readFileSync(join(surfaceDir, `${name}.cmd`), 'utf8').trim().split(/\s+/);
    assert.equal(command[0], 'trec_eval');
    const r = runCli(['eval', ...command.slice(1)], { cwd: sharedDir });
    assert.equal(r.code, 0, r.stderr);
    const expected = readFileSync(join(surfaceDir, `${name}.txt`), 'utf8').split('\n');
    const actual = r.stdout.split('\n');
    const first = expected.findIndex((line, i) => actual[i] !== line);
    assert.equal(first, -1, `line ${first + 1}: expected ${JSON.stringify(expected[first])}, got ${JSON.stringify(actual[first])}`);
    assert.equal(actual.length, expected.length, 'number of lines');
  });
}

test('densekit eval --help lists every measure, nickname and trec_eval flag', () => {
  const r = runCli(['eval', '--help']);
  assert.equal(r.code, 0, r.stderr);
  for (const m of MEASURES) assert.match(r.stdout, new RegExp(`^  ${m.name} `, 'm'), m.name);
  for (const n of Object.keys(NICKNAMES)) assert.match(r.stdout, new RegExp(`^  ${n} `, 'm'), n);
  for (const flag of ['-q', '-m', '-c', '-l', '-n', '-D', '-N', '-M', '-J', '-R', '-T', '-Z']) assert.match(r.stdout, new RegExp(`^  ${flag}[ ,]`, 'm'), flag);
});

test('bad input through the CLI: one line naming the problem (and file:line for files), non-zero exit', () => {
  const qrels = join(sharedDir, 'datasets', 'cranfield', 'qrels.test.trec');
  const run = join(sharedDir, 'fixtures', 'metrics', 'cranfield', 'run.trec');
  const cases: [string[], RegExp][] = [
    [['-m', 'nosuch', qrels, run], /unknown measure "nosuch"/],
    [['-m', 'P.0', qrels, run], /-m P\.0: cutoffs must be positive/],
    [['-R', 'prefs', '-m', 'all_prefs', qrels, run], /qrels\.test\.trec:1: expected 5 columns/],
    [['-R', 'qrels_prefs', '-m', 'map', qrels, run], /need -R qrels judgments/],
    [['-R', 'nosuch', qrels, run], /-R nosuch: unknown judgments format/],
    [['-T', 'nosuch', qrels, run], /-T nosuch: unknown results format/],
    [['-Z', run, qrels, run], /run\.trec:1: expected 4 columns/],
  ];
  for (const [args, expected] of cases) {
    const r = runCli(['eval', ...args]);
    assert.notEqual(r.code, 0, args.join(' '));
    assert.equal(r.stdout, '', args.join(' '));
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^densekit: error: /);
    assert.match(lines[0]!, expected);
  }
});
