/**
 * Errors users can act on. Every failure caused by input (a file, a flag, a request) is a DensekitError
 * whose message is ONE line naming the file (and line or field) and what was expected; the CLI prints it
 * as `densekit: error: <message>` and exits non-zero. Anything else is a bug and keeps its stack.
 *
 * Each error carries a stable `code` (what callers branch on, never the message or the class) and the HTTP
 * status a service answers with (`statusCode`). An error about one of the library's parameters names it in
 * `param` (the library's name, e.g. `shardSize`); the CLI shows its own flag instead (src/cli/flags.ts).
 */
export const ERROR_CODES = [
  /** Input caused it, no more specific code applies. */
  'DENSEKIT_ERROR',
  /** Bad content in an input file. */
  'DENSEKIT_INPUT',
  /** A parameter, flag or option with an invalid value. */
  'DENSEKIT_USAGE',
  /** An index built from one model, queried with another. */
  'DENSEKIT_MODEL_MISMATCH',
  /** Vectors of one dimension given to an index of another. */
  'DENSEKIT_DIMENSION_MISMATCH',
  /** An encoder's similarity that the index cannot rank by. */
  'DENSEKIT_SIMILARITY_MISMATCH',
  /** An index type (or location scheme) no registry entry handles. */
  'DENSEKIT_UNKNOWN_INDEX_TYPE',
  /** A request the service refuses (bad field, unavailable mode, too large, not found). */
  'DENSEKIT_REQUEST',
  /** The service has more queued work than it accepts. */
  'DENSEKIT_OVERLOADED',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface DensekitErrorOptions {
  cause?: unknown;
  code?: ErrorCode;
  /** HTTP status for a service answering with this error (default 400: the request's input caused it). */
  statusCode?: number;
  /** The library parameter the message is about; the message then starts with its name. */
  param?: string;
}

export class DensekitError extends Error {
  override name = 'DensekitError';
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly param: string | undefined;
  constructor(message: string, options: DensekitErrorOptions = {}) {
    super(message.replace(/\s*\n\s*/g, ' '), options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? 'DENSEKIT_ERROR';
    this.statusCode = options.statusCode ?? 400;
    this.param = options.param;
  }
}

/** Bad content in an input file: names the file and, when known, the 1-based line. */
export class InputError extends DensekitError {
  override name = 'InputError';
  constructor(readonly file: string, readonly line: number | undefined, problem: string) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${problem}`, { code: 'DENSEKIT_INPUT' });
  }
}

/** A parameter or option with an invalid value. With `param`, the message reads `<param> <problem>`. */
export class UsageError extends DensekitError {
  override name = 'UsageError';
  constructor(message: string, options: Omit<DensekitErrorOptions, 'code'> & { code?: ErrorCode } = {}) {
    super(options.param !== undefined ? `${options.param} ${message}` : message, { code: 'DENSEKIT_USAGE', ...options });
  }
}

/** `value` unless it is not a positive integer: then a UsageError naming `param`. */
export function positiveInteger(param: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) throw new UsageError(`must be a positive integer, got ${value}`, { param });
  return value;
}

/** An output that cannot be written (permission, missing folder, disk full, not a file): names the path. */
export class OutputError extends DensekitError {
  override name = 'OutputError';
}
