/**
 * Checks a parsed recipe against the schema and fills in defaults. Unknown keys are errors (a misspelt key
 * silently falling back to its default would train the wrong model for hours).
 */
import { InputError } from '../../errors.js';
import { MAX, type BoundedKey } from '../../util/bounds.js';
import type { FieldSpec } from './schema.js';

/** `stages[0].teacher.maxLength` -> `maxLength`: integer keys share the bounds of src/util/bounds.ts. */
function boundKeyOfRecipePath(path: string): BoundedKey {
  const key = path.split('.').pop()!.replace(/\[\d+\]$/, '');
  if (!(key in MAX)) throw new Error(`no bound for recipe key ${key} in src/util/bounds.ts`); // a key added without one: a bug
  return key as BoundedKey;
}

export function validateAgainst(value: unknown, spec: FieldSpec, path: string, file: string): unknown {
  const fail = (problem: string): never => {
    throw new InputError(file, undefined, `${path === '' ? '(top level)' : path}: ${problem}`);
  };
  switch (spec.type) {
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('expected an object (mapping)');
      const obj = value as Record<string, unknown>;
      for (const key of Object.keys(obj)) {
        if (!(key in spec.fields)) {
          fail(`unknown key "${key}" (expected one of: ${Object.keys(spec.fields).join(', ')})`);
        }
      }
      const out: Record<string, unknown> = {};
      for (const [key, field] of Object.entries(spec.fields)) {
        const sub = path === '' ? key : `${path}.${key}`;
        if (obj[key] === undefined || obj[key] === null) {
          if (field.type === 'object') out[key] = validateAgainst({}, field, sub, file);
          else if (field.type === 'string' && field.required) throw new InputError(file, undefined, `${sub}: required`);
          else if ('default' in field && field.default !== undefined) out[key] = structuredClone(field.default);
          else if (field.type === 'array') throw new InputError(file, undefined, `${sub}: required`);
        } else out[key] = validateAgainst(obj[key], field, sub, file);
      }
      return out;
    }
    case 'array': {
      if (!Array.isArray(value)) fail('expected a list');
      const list = value as unknown[];
      if (spec.minItems !== undefined && list.length < spec.minItems) fail(`expected at least ${spec.minItems} item(s)`);
      return list.map((item, i) => validateAgainst(item, spec.items, `${path}[${i}]`, file));
    }
    case 'string':
      if (typeof value !== 'string' || value === '') fail('expected a non-empty string');
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') fail('expected true or false');
      return value;
    case 'enum':
      if (typeof value !== 'string' || !spec.values.includes(value)) fail(`expected one of ${spec.values.join(', ')}, got ${JSON.stringify(value)}`);
      return value;
    case 'integer': {
      if (typeof value !== 'number' || !Number.isInteger(value)) fail(`expected an integer, got ${JSON.stringify(value)}`);
      if (spec.min !== undefined && (value as number) < spec.min) fail(`expected >= ${spec.min}, got ${value}`);
      const max = MAX[boundKeyOfRecipePath(path)];
      if ((value as number) > max) fail(`expected <= ${max}, got ${value}`);
      return value;
    }
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) fail(`expected a number, got ${JSON.stringify(value)}`);
      const v = value as number;
      if (spec.min !== undefined && (spec.exclusiveMin ? v <= spec.min : v < spec.min)) fail(`expected ${spec.exclusiveMin ? '>' : '>='} ${spec.min}, got ${v}`);
      if (spec.max !== undefined && v > spec.max) fail(`expected <= ${spec.max}, got ${v}`);
      return v;
    }
    case 'numberPair':
      if (!Array.isArray(value) || value.length !== 2 || !value.every((x) => typeof x === 'number' && Number.isFinite(x))) {
        fail(`expected a list of two numbers, got ${JSON.stringify(value)}`);
      }
      return value;
  }
}
