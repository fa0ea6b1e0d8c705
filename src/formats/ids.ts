/**
 * The one id rule of every reader: an id must be writable as one field of a TREC run line (qid or docno), so
 * it is refused when it is READ, naming file and line, instead of failing at the end of a long search.
 * Refused: the empty id, whitespace (a run line splits on it; JavaScript's \s, so U+00A0 and U+FEFF too),
 * control characters, and lone surrogates (not encodable as UTF-8).
 */
import { InputError } from '../errors.js';
import { readTextFileSync } from '../util/lines.js';

// With the u flag a surrogate PAIR is one code point, so the range matches only lone surrogates.
const NOT_IN_A_RUN = /[\s\p{Cc}\uD800-\uDFFF]/u;

/** Why `id` cannot be a run field, or undefined when it can. */
export function idProblem(id: string): string | undefined {
  if (id === '') return 'is empty';
  const bad = NOT_IN_A_RUN.exec(id);
  if (bad) return `contains ${describeChar(bad[0])} (a run file cannot hold it)`;
  return undefined;
}

function describeChar(c: string): string {
  if (c === ' ') return 'a space';
  if (c === '\t') return 'a tab';
  if (c >= '\uD800' && c <= '\uDFFF') return 'a lone surrogate';
  return `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Throws `FILE:LINE: <what> "<id>" <problem>` for an id a run cannot hold. */
export function checkId(id: string, file: string, line: number | undefined, what = 'id'): string {
  const problem = idProblem(id);
  if (problem !== undefined) throw new InputError(file, line, `${what} ${JSON.stringify(id)} ${problem}`);
  return id;
}

/** Ids seen so far with their first line: a repeated id is refused naming both lines. */
export class IdLines {
  private readonly first = new Map<string, number>();

  constructor(private readonly file: string, private readonly what = 'id') {}

  get size(): number {
    return this.first.size;
  }

  add(id: string, line: number): void {
    const first = this.first.get(id);
    if (first !== undefined) throw new InputError(this.file, line, `duplicate ${this.what} ${JSON.stringify(id)} (first at line ${first})`);
    this.first.set(id, line);
  }
}

/**
 * An ids file (one id per line, as the shards of `densekit encode` and the indexes write them): strict UTF-8,
 * every line an id under the rule above, so an empty or damaged line is named instead of becoming a bad run line.
 */
export function readIdsFile(path: string): string[] {
  const text = readTextFileSync(path);
  const ids = text.length ? text.replace(/\n$/, '').split('\n') : [];
  ids.forEach((id, i) => checkId(id, path, i + 1));
  return ids;
}
