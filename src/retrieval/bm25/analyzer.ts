/**
 * Anserini's DefaultEnglishAnalyzer in JS:
 *   StandardTokenizer -> EnglishPossessiveFilter -> LowerCaseFilter -> StopFilter(Lucene's 33 English
 *   stop words) -> PorterStemFilter.
 * The filters are Lucene-exact: the possessive and stop-word rules are Lucene's, lower-casing maps each code
 * point as Java's Character.toLowerCase does (so a final capital sigma becomes σ, not ς, and İ becomes i),
 * and porter-stemmer.ts is a port of Lucene's PorterStemmer.
 *
 * Lucene's StandardTokenizer implements the Unicode word-break rules (UAX #29); Intl.Segmenter (ICU)
 * implements the same rules, and its word-like segments (letters, numbers, kana, ideographs) are the tokens
 * Lucene emits for the text of our collections. Where the two differ (none of it occurs in SciFact, whose only
 * pictographs are ©, ®, ™ and ↔, which both drop):
 * - Emoji: Lucene emits an emoji (or emoji sequence: ZWJ, modifiers, flags) as an <EMOJI> token; ICU calls
 *   it not word-like, so it is dropped here.
 * - Ideographs (Han): Lucene emits one token per ideograph; ICU groups runs of ideographs into dictionary
 *   words. Hiragana likewise: one token per character in Lucene, dictionary words in ICU.
 * - Thai, Lao, Khmer, Myanmar: Lucene emits a whole run of such letters as one token; ICU splits it into
 *   dictionary words.
 * - Lucene cuts tokens longer than 255 characters; we keep them whole.
 */
import { porterStem } from './porter-stemmer.js';

/** Lucene's EnglishAnalyzer.ENGLISH_STOP_WORDS_SET. */
export const ENGLISH_STOP_WORDS: ReadonlySet<string> = new Set([
  'a', 'an', 'and', 'are', 'as', 'at', 'be', 'but', 'by', 'for', 'if', 'in', 'into', 'is', 'it', 'no', 'not', 'of',
  'on', 'or', 'such', 'that', 'the', 'their', 'then', 'there', 'these', 'they', 'this', 'to', 'was', 'will', 'with',
]);

const segmenter = new Intl.Segmenter('en', { granularity: 'word' });
// EnglishPossessiveFilter: a trailing 's after an apostrophe, right single quote or fullwidth apostrophe.
const POSSESSIVE = /['\u2019\uFF07][sS]$/;
// UAX #29 always breaks at ASCII whitespace (nothing joins across it), so text can be cut there first.
const ASCII_SPACE = /[ \t\n\r\f\v]+/;
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;
/**
 * The UAX #29 word rules restricted to printable ASCII, as a regex: letters, digits and '_' (ExtendNumLet)
 * join (WB5, WB8-10, WB13a/b); ':' '.' and apostrophe between two letters join (WB6/7: MidLetter,
 * MidNumLetQ); ',' ';' '.' and apostrophe between two digits join (WB11/12: MidNum, MidNumLetQ); anything
 * else is a boundary. Intl.Segmenter is exact but ~20x slower, so it only sees chunks with non-ASCII text.
 */
const ASCII_WORD = /[A-Za-z0-9_]+(?:(?:(?<=[A-Za-z])[:.'](?=[A-Za-z])|(?<=[0-9])[,;.'](?=[0-9]))[A-Za-z0-9_]+)*/g;

/** Word tokens of `text` as Lucene's StandardTokenizer emits them (before any filter). */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  for (const chunk of text.split(ASCII_SPACE)) {
    if (chunk === '') continue;
    if (PRINTABLE_ASCII.test(chunk)) {
      for (const m of chunk.matchAll(ASCII_WORD)) out.push(m[0]);
    } else {
      for (const seg of segmenter.segment(chunk)) if (seg.isWordLike) out.push(seg.segment);
    }
  }
  return out;
}

/** Reference tokenization through Intl.Segmenter alone (slow; the fast path is tested against it). */
export function tokenizeWithSegmenter(text: string): string[] {
  const out: string[] = [];
  for (const seg of segmenter.segment(text)) if (seg.isWordLike) out.push(seg.segment);
  return out;
}

// Stemming dominates once tokenizing is fast; a bounded memo keeps memory flat on huge vocabularies.
const stemCache = new Map<string, string>();
function stem(token: string): string {
  let s = stemCache.get(token);
  if (s === undefined) {
    if (stemCache.size >= 500_000) stemCache.clear();
    s = porterStem(token);
    stemCache.set(token, s);
  }
  return s;
}

const ASCII_ONLY = /^[\x00-\x7f]*$/;

/** Lucene's LowerCaseFilter: Character.toLowerCase per code point (JS's toLowerCase is context-sensitive). */
export function lowerCaseLikeJava(token: string): string {
  if (ASCII_ONLY.test(token)) return token.toLowerCase();
  let out = '';
  for (const ch of token) out += ch === '\u0130' ? 'i' : ch.toLowerCase();
  return out;
}

export function analyze(text: string): string[] {
  const out: string[] = [];
  for (let token of tokenize(text)) {
    if (POSSESSIVE.test(token)) token = token.slice(0, -2);
    token = lowerCaseLikeJava(token);
    if (token.length === 0 || ENGLISH_STOP_WORDS.has(token)) continue;
    out.push(stem(token));
  }
  return out;
}

/** Recorded in index.json; changes whenever analysis changes (v2: Lucene's PorterStemmer and lower-casing). */
export const ANALYZER_NAME = 'anserini-default-english-v2';
