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
