/**
 * densekit eval against trec_eval 10.0's own output on runs with score ties (SciFact, Cranfield):
 * the 4-decimal text must be byte-identical and every value must match the full-precision JSON to 1e-9.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluate, evaluationToJson, readQrels, readRun, renderTrecEval } from '../src/eval/index.js';
import { datasetsDir, fixturesDir, readJson } from './helpers.js';
import { runCli } from './cli.js';

interface Reference {
  command: string;
  all: Record<string, number>;
  per_query: Record<string, Record<string, number>>;
}

function measuresOf(command: string): string[] {
  const args = command.split(/\s+/);
  return args.flatMap((a, i) => (a === '-m' ? [args[i + 1]!] : []));
}

for (const collection of ['scifact', 'cranfield']) {
  const dir = join(fixturesDir, 'metrics', collection);
  const qrelsPath = join(datasetsDir, collection, 'qrels.test.trec');
  const runPath = join(dir, 'run.trec');
  const reference = readJson<Reference>(join(dir, 'trec_eval.json'));
  const measures = measuresOf(reference.command);

  test(`${collection}: -q text output is byte-identical to trec_eval`, async () => {
    const evaluation = evaluate(await readQrels(qrelsPath), await readRun(runPath), { measures });
    assert.equal(renderTrecEval(evaluation, { perQuery: true }), readFileSync(join(dir, 'trec_eval.txt'), 'utf8'));
  });

  test(`${collection}: every per-query and aggregate value within 1e-9 of trec_eval's full precision`, async () => {
    const json = evaluationToJson(evaluate(await readQrels(qrelsPath), await readRun(runPath), { measures }));
    assert.deepEqual(Object.keys(json.per_query).sort(), Object.keys(reference.per_query).sort());
    let checked = 0;
    const close = (actual: unknown, expected: number, where: string) => {
      assert.equal(typeof actual, 'number', where);
      assert.ok(Math.abs((actual as number) - expected) <= 1e-9, `${where}: ${actual} vs ${expected}`);
      checked++;
    };
    for (const [name, expected] of Object.entries(reference.all)) close(json.all[name], expected, `all ${name}`);
    for (const [qid, values] of Object.entries(reference.per_query)) {
      assert.deepEqual(Object.keys(json.per_query[qid]!), Object.keys(values), `measures of query ${qid}`);
      for (const [name, expected] of Object.entries(values)) close(json.per_query[qid]![name], expected, `${qid} ${name}`);
    }
    assert.ok(checked > 3000);
  });
}

test('CLI: densekit eval takes trec_eval flags and prints exactly what trec_eval prints', () => {
  const dir = join(fixturesDir, 'metrics', 'cranfield');
  const reference = readJson<Reference>(join(dir, 'trec_eval.json'));
  const mArgs = measuresOf(reference.command).flatMap((m) => ['-m', m]);
  const r = runCli(['eval', '-q', ...mArgs, join(datasetsDir, 'cranfield', 'qrels.test.trec'), join(dir, 'run.trec')]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, readFileSync(join(dir, 'trec_eval.txt'), 'utf8'));
  assert.equal(r.stderr, '');
});
