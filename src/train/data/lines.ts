/**
 * Streamed, numbered lines of a training input (the shared strict-UTF-8 reader: the MS MARCO collection,
 * teacher pair scores and triples are gigabytes, so nothing here holds a whole file), plus column parsing.
 */
import { InputError } from '../../errors.js';
export { readLines, type Line as NumberedLine } from '../../util/lines.js';

/** Parse a number column; anything but a finite decimal is an InputError naming file:line and column. */
export function parseScore(raw: string, file: string, lineNo: number, column: string): number {
  const value = raw.trim() === '' ? NaN : Number(raw);
  if (!Number.isFinite(value)) throw new InputError(file, lineNo, `${column}: expected a finite number, got ${JSON.stringify(raw)}`);
  return value;
}
