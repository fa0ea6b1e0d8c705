/**
 * C's atol and atof, for the places where trec_eval's semantics depend on them: they convert the longest
 * numeric prefix of a string ("20.6" -> 20 for atol, ".05" -> 0.05 for atof) and ignore the rest. Each
 * returns undefined when there is no numeric prefix at all, where C would silently return 0, so that callers
 * can refuse garbage while still accepting everything a well-formed trec_eval command line contains.
 */

const LONG_PREFIX = /^[ \t\n\v\f\r]*([+-]?\d+)/;
const DOUBLE_PREFIX = /^[ \t\n\v\f\r]*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/;
const SPECIAL_PREFIX = /^[ \t\n\v\f\r]*([+-]?)(inf(?:inity)?|nan)/i;

/** atol: decimal integer prefix (a 64-bit long; values beyond 2^53 lose precision, far beyond any cutoff). */
export function atol(text: string): number | undefined {
  const m = LONG_PREFIX.exec(text);
  if (!m) return undefined;
  const v = Number(m[1]);
  return v === 0 ? 0 : v; // "-0" -> 0
}

/** atof (strtod): decimal floating-point prefix, or inf/infinity/nan. */
export function atof(text: string): number | undefined {
  const m = DOUBLE_PREFIX.exec(text);
  if (m) return Number(m[1]);
  const s = SPECIAL_PREFIX.exec(text);
  if (!s) return undefined;
  if (s[2]!.toLowerCase() === 'nan') return NaN;
  return s[1] === '-' ? -Infinity : Infinity;
}

/** A whole field that strtod consumes entirely (for data files, where a trailing "x" is an error, not 0). */
export function parseCDouble(text: string): number | undefined {
  const m = DOUBLE_PREFIX.exec(text);
  if (m && m[0].length === text.length) return Number(m[1]);
  return undefined;
}

/** C's lround: nearest integer, halves away from zero (Math.round sends -2.5 to -2). */
export function lround(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}
