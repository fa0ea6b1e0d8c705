/**
 * Whitespace-separated fields as trec_eval's readers split them (C's isspace: space, \t, \v, \f, \r), for the
 * line-oriented judgment formats. Blank lines and lines starting with '#' carry no record.
 */
const C_SPACE = /[ \t\v\f\r]+/;

export function splitFields(text: string): string[] | undefined {
  const trimmed = text.replace(/^[ \t\v\f\r]+|[ \t\v\f\r]+$/g, '');
  if (trimmed === '' || trimmed.startsWith('#')) return undefined;
  return trimmed.split(C_SPACE);
}
