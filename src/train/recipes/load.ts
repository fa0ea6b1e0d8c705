/**
 * Load a recipe: a built-in name (`tas-b`, `gtr`) or a JSON / YAML file. Paths inside a file are relative to
 * the file; overrides (from command-line flags) are applied before validation so that they are checked too.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { InputError, UsageError } from '../../errors.js';
import { BUILTIN_RECIPES } from './builtins.js';
import { RECIPE_SCHEMA } from './schema.js';
import type { Recipe } from './types.js';
import { validateAgainst } from './validate.js';

/** Parse (and validate) a recipe from text; `file` names it in errors and anchors relative paths. */
export function parseRecipe(text: string, file: string, overrides?: RecipeOverrides): Recipe {
  let raw: unknown;
  try {
    raw = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new InputError(file, undefined, `not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(e as Error).message.split('\n')[0]}`);
  }
  return finish(raw, file, dirname(resolve(file)), overrides);
}

/** A built-in recipe name or a recipe file path. */
export function loadRecipe(nameOrFile: string, overrides?: RecipeOverrides): Recipe {
  const builtin = BUILTIN_RECIPES[nameOrFile];
  if (builtin) return finish(structuredClone(builtin), `recipe ${nameOrFile}`, process.cwd(), overrides);
  let text: string;
  try {
    text = readFileSync(nameOrFile, 'utf8');
  } catch (e) {
    throw new UsageError(
      `--recipe ${nameOrFile}: not a built-in recipe (${Object.keys(BUILTIN_RECIPES).join(', ')}) and not a readable file (${(e as NodeJS.ErrnoException).code ?? e})`,
    );
  }
  return parseRecipe(text, nameOrFile, overrides);
}

/**
 * Values from the command line, merged into the FIRST stage (the data and model a built-in recipe lacks) or,
 * for `steps`, `batchSize`, lengths, pooling, learning rate, warm-up and the eval set, into every stage.
 */
export interface RecipeOverrides {
  model?: string;
  data?: Record<string, string | number | undefined>;
  teacher?: Record<string, string | number | undefined>;
  eval?: Record<string, string | number | undefined>;
  steps?: number;
  batchSize?: number;
  precision?: string;
  seed?: number;
  threads?: number;
  lr?: number;
  warmupSteps?: number;
  queryMaxLength?: number;
  passageMaxLength?: number;
  pooling?: string;
  evalEvery?: number;
}

const PATH_KEYS = ['queries', 'collection', 'teacherPairs', 'triples', 'qrels', 'negatives', 'clusters', 'corpus'];

function finish(raw: unknown, file: string, baseDir: string, overrides?: RecipeOverrides): Recipe {
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    const stages = (raw as Record<string, unknown>).stages;
    if (Array.isArray(stages)) {
      for (const s of stages) {
        if (typeof s !== 'object' || s === null) continue;
        const stage = s as Record<string, Record<string, unknown>>;
        for (const section of ['data', 'eval'] as const) {
          const obj = stage[section];
          if (typeof obj !== 'object' || obj === null) continue;
          for (const k of PATH_KEYS) {
            const v = obj[k];
            if (typeof v === 'string' && v !== '' && !isAbsolute(v)) obj[k] = resolve(baseDir, v);
          }
        }
        const t = stage.teacher;
        if (t && typeof t.path === 'string' && (t.path.startsWith('.') || t.path.startsWith('/'))) t.path = resolve(baseDir, t.path);
        const m = (s as Record<string, unknown>).model;
        if (typeof m === 'string' && m.startsWith('.')) (s as Record<string, unknown>).model = resolve(baseDir, m);
      }
      if (overrides) applyOverrides(raw as Record<string, unknown>, stages as Record<string, unknown>[], overrides);
    }
  }
  const recipe = validateAgainst(raw, RECIPE_SCHEMA, '', file) as Recipe;
  recipe.stages.forEach((s, i) => {
    if (i > 0 && s.model !== undefined) {
      throw new InputError(file, undefined, `stages[${i}].model: only the first stage names a model; later stages continue from the previous stage's checkpoint`);
    }
    if (i > 0 && s.initialize === 'random') {
      throw new InputError(file, undefined, `stages[${i}].initialize: only the first stage can start from random weights; later stages continue from the previous stage's checkpoint`);
    }
  });
  return recipe;
}

function applyOverrides(raw: Record<string, unknown>, stages: Record<string, unknown>[], o: RecipeOverrides): void {
  const defined = (r: Record<string, unknown> | undefined) =>
    Object.fromEntries(Object.entries(r ?? {}).filter(([, v]) => v !== undefined));
  if (o.seed !== undefined) raw.seed = o.seed;
  if (o.threads !== undefined) raw.threads = o.threads;
  const first = stages[0];
  if (first) {
    if (o.model !== undefined) first.model = o.model;
    first.data = { ...(first.data as object), ...defined(o.data) };
    first.teacher = { ...(first.teacher as object), ...defined(o.teacher) };
  }
  for (const s of stages) {
    if (o.steps !== undefined) s.steps = o.steps;
    if (o.batchSize !== undefined) s.batchSize = o.batchSize;
    if (o.precision !== undefined) s.precision = o.precision;
    if (o.queryMaxLength !== undefined) s.queryMaxLength = o.queryMaxLength;
    if (o.passageMaxLength !== undefined) s.passageMaxLength = o.passageMaxLength;
    if (o.pooling !== undefined) s.pooling = o.pooling;
    if (o.lr !== undefined) s.optimizer = { ...(s.optimizer as object), lr: o.lr };
    if (o.warmupSteps !== undefined) s.schedule = { ...(s.schedule as object), warmupSteps: o.warmupSteps };
    s.eval = { ...(s.eval as object), ...defined(o.eval), ...(o.evalEvery !== undefined ? { every: o.evalEvery } : {}) };
  }
}
