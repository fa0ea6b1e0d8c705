import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadRecipe, parseRecipe, describeRecipeSchema } from '../src/train/recipes/index.js';

import { repoRoot } from './helpers.js';

test('built-in tas-b and gtr recipes hold the papers\' settings', () => {
  const tasb = loadRecipe('tas-b').stages[0]!;
  assert.equal(tasb.loss, 'tas-b');
  assert.deepEqual(tasb.sampling, { batches: 'cluster', pairs: 'bins', clustersPerBatch: 1 });
  assert.equal(tasb.teacher.weight, 0.75);
  assert.equal(tasb.optimizer.name, 'adam');
  assert.equal(tasb.optimizer.lr, 7e-6);
  assert.deepEqual([tasb.queryMaxLength, tasb.passageMaxLength], [30, 200]);
  const gtr = loadRecipe('gtr').stages[0]!;
  assert.equal(gtr.loss, 'gtr');
  assert.equal(gtr.logitScale, 100);
  assert.deepEqual([gtr.optimizer.name, gtr.optimizer.lr, gtr.optimizer.decayRate], ['adafactor', 1e-3, -0.8]);
  assert.deepEqual(gtr.schedule, { kind: 'linear', warmupSteps: 1000 });
});

test('overrides from the command line fill the first stage and are validated', () => {
  const r = loadRecipe('tas-b', { data: { queries: 'q.tsv', teacherPairs: undefined }, steps: 5, batchSize: 8 });
  assert.equal(r.stages[0]!.data.queries, 'q.tsv');
  assert.equal(r.stages[0]!.steps, 5);
  assert.equal(r.stages[0]!.batchSize, 8);
  assert.throws(() => loadRecipe('tas-b', { steps: 0 }), /stages\[0\]\.steps: expected >= 1, got 0/);
});

test('unknown keys are rejected with their path, never ignored', () => {
  assert.throws(() => parseRecipe('stages:\n  - loss: gtr\n    optimiser: {name: adam}\n', 'r.yaml'),
    /^InputError: r\.yaml: stages\[0\]: unknown key "optimiser" \(expected one of: name, model, loss/);
  assert.throws(() => parseRecipe('{"stages":[{"optimizer":{"lrate":1}}]}', 'r.json'), /r\.json: stages\[0\]\.optimizer: unknown key "lrate"/);
  assert.throws(() => parseRecipe('stages: []\n', 'r.yaml'), /stages: expected at least 1 item/);
  assert.throws(() => parseRecipe('stages:\n  - loss: bm25\n', 'r.yaml'), /stages\[0\]\.loss: expected one of tas-b, gtr, got "bm25"/);
  assert.throws(() => parseRecipe('stages: [\n', 'r.yaml'), /r\.yaml: not valid YAML/);
  assert.throws(() => loadRecipe('no-such-recipe.yaml'), /not a built-in recipe \(tas-b, gtr\) and not a readable file/);
});

test('multi-stage recipe files chain stages; only the first names a model; paths are relative to the file', () => {
  const file = join(repoRoot, 'recipes/gtr-two-stage.yaml');
  const r = parseRecipe(readFileSync(file, 'utf8'), file);
  assert.equal(r.stages.length, 2);
  assert.ok(r.stages[1]!.data.qrels!.startsWith(join(repoRoot, 'recipes')));
  assert.throws(() => parseRecipe('stages:\n  - model: a\n  - model: b\n', 'r.yaml'), /stages\[1\]\.model: only the first stage names a model/);
});

test('every recipe key is documented in recipes/README.md', () => {
  const readme = readFileSync(join(repoRoot, 'recipes/README.md'), 'utf8');
  assert.ok(readme.includes(describeRecipeSchema()), 'recipes/README.md embeds the current describeRecipeSchema() table');
});
