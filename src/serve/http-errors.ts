/**
 * Every error the service answers is `{ statusCode, error, message }` with a ONE-line message naming the
 * field at fault (as the CLI does for files), e.g. `body.k must be <= 1000`.
 */
import type { FastifySchemaValidationError } from 'fastify';
import { DensekitError } from '../errors.js';

/** A request the service refuses, with the status it answers. */
export class HttpError extends DensekitError {
  override name = 'HttpError';
  constructor(statusCode: number, message: string) {
    super(message, { code: 'DENSEKIT_REQUEST', statusCode });
  }
}

/** `/queries/3` under `body` -> `body.queries[3]`. */
export function fieldPath(dataVar: string, instancePath: string): string {
  let out = dataVar;
  for (const part of instancePath.split('/').slice(1)) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(key) ? `[${key}]` : `.${key}`;
  }
  return out;
}

/** Turns Ajv's first error into one readable line. */
export function formatSchemaError(errors: FastifySchemaValidationError[], dataVar: string): Error {
  const e = errors[0];
  if (!e) return new Error(`${dataVar} is invalid`);
  const path = fieldPath(dataVar, e.instancePath);
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return new Error(`${path} has an unknown field ${JSON.stringify(params.additionalProperty)}`);
    case 'enum':
      return new Error(`${path} must be one of: ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`);
    case 'type':
      return new Error(`${path} must be ${/^[aeiou]/.test(String(params.type)) ? 'an' : 'a'} ${String(params.type)}`);
    case 'required':
      return new Error(`${path}.${String(params.missingProperty)} is required`);
    default:
      return new Error(`${path} ${e.message ?? 'is invalid'}`);
  }
}
