/**
 * Snippets with the query's terms marked, for the result list. Matching is by Porter stem over
 * lower-cased letter/digit runs, so "cells" in a query marks "cell" and "Cells" in the text. Offsets are
 * returned instead of HTML so that the page inserts text nodes and a document can never inject markup.
 */
import { porterStem } from '../retrieval/bm25/porter-stemmer.js';

/** [start, end) in UTF-16 code units of the string they belong to. */
export type Span = [number, number];

const WORD = /[\p{L}\p{N}]+/gu;

// Too common to be worth marking; a short list on purpose (marking is a reading aid, not ranking).
const STOPWORDS = new Set(
  ('a an and are as at be but by for from has have in into is it its of on or that the their this to was were ' +
    'will with what which who how why when where does do did not no than then there these those can')
    .split(' '),
);

function stemOf(word: string): string {
  return porterStem(word.toLowerCase());
}

/** The stems to mark for a query. */
export function queryTerms(query: string): Set<string> {
  const terms = new Set<string>();
  for (const m of query.matchAll(WORD)) {
    const w = m[0].toLowerCase();
    if (!STOPWORDS.has(w)) terms.add(stemOf(w));
  }
  return terms;
}

/** Spans of the words in `text` whose stem is one of `terms`. */
export function matchSpans(text: string, terms: ReadonlySet<string>): Span[] {
  if (terms.size === 0) return [];
  const spans: Span[] = [];
  for (const m of text.matchAll(WORD)) {
    if (terms.has(stemOf(m[0]))) spans.push([m.index, m.index + m[0].length]);
  }
  return spans;
}

export interface Snippet {
  text: string;
  /** Spans within `text`. */
  highlights: Span[];
  /** True when text was cut at the start or end (the page shows an ellipsis). */
  cutStart: boolean;
  cutEnd: boolean;
}

/**
 * The window of about `length` characters holding the most matches (first such window), cut at word
 * boundaries. With no match, the beginning of the text.
 */
export function makeSnippet(text: string, terms: ReadonlySet<string>, length = 240): Snippet {
  const all = matchSpans(text, terms);
  if (text.length <= length) return { text, highlights: all, cutStart: false, cutEnd: false };
  let bestStart = 0;
  let bestCount = 0;
  // Two pointers over matches: the window starting at match i covers matches i..j-1.
  for (let i = 0, j = 0; i < all.length; i++) {
    while (j < all.length && all[j]![1] - all[i]![0] <= length) j++;
    if (j - i > bestCount) {
      bestCount = j - i;
      bestStart = all[i]![0];
    }
  }
  // Start a little before the first match for context, at a word boundary.
  let start = Math.max(0, bestStart - Math.floor(length / 6));
  if (start > 0) {
    const space = text.indexOf(' ', start);
    start = space >= 0 && space < bestStart ? space + 1 : bestStart;
  }
  let end = Math.min(text.length, start + length);
  if (end < text.length) {
    const space = text.lastIndexOf(' ', end);
    if (space > start) end = space;
  }
  const highlights: Span[] = all
    .filter(([s, e]) => s >= start && e <= end)
    .map(([s, e]) => [s - start, e - start]);
  return { text: text.slice(start, end), highlights, cutStart: start > 0, cutEnd: end < text.length };
}
