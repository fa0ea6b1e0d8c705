/**
 * Errors users can act on. Every failure caused by input (a file, a flag, a request) is a DensekitError
 * whose message is ONE line naming the file (and line or field) and what was expected; the CLI prints it
 * as `densekit: error: <message>` and exits non-zero. Anything else is a bug and keeps its stack.
 */
export class DensekitError extends Error {
  override name = 'DensekitError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message.replace(/\s*\n\s*/g, ' '), options);
  }
}

/** Bad content in an input file: names the file and, when known, the 1-based line. */
export class InputError extends DensekitError {
  override name = 'InputError';
  constructor(readonly file: string, readonly line: number | undefined, problem: string) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${problem}`);
  }
}

/** A flag or option with an invalid value. */
export class UsageError extends DensekitError {
  override name = 'UsageError';
}

/** An output that cannot be written (permission, missing folder, disk full, not a file): names the path. */
export class OutputError extends DensekitError {
  override name = 'OutputError';
}
