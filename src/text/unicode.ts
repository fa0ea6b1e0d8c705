/**
 * Character classes exactly as the reference tokenizers define them. Python (transformers' slow
 * tokenizers, sentence-transformers' `str.strip()`) and Rust (`tokenizers`) disagree on a few, so both
 * variants are named here.
 */

/** Python's str.isspace() set (what str.strip() and str.split() with no argument use). */
export function isPythonSpace(cp: number): boolean {
  return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20) || cp === 0x85 || cp === 0xa0 || cp === 0x1680 ||
    (cp >= 0x2000 && cp <= 0x200a) || cp === 0x2028 || cp === 0x2029 || cp === 0x202f || cp === 0x205f || cp === 0x3000;
}

const PYTHON_SPACE_CLASS = '\\t\\n\\x0b\\x0c\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PYTHON_STRIP = new RegExp(`^[${PYTHON_SPACE_CLASS}]+|[${PYTHON_SPACE_CLASS}]+$`, 'g');
const PYTHON_SPLIT = new RegExp(`[${PYTHON_SPACE_CLASS}]+`);
const PYTHON_LSTRIP = new RegExp(`^[${PYTHON_SPACE_CLASS}]+`);
const PYTHON_RSTRIP = new RegExp(`[${PYTHON_SPACE_CLASS}]+$`);

/** Python's `str.strip()`. */
export function pythonStrip(s: string): string {
  return s.replace(PYTHON_STRIP, '');
}
export function pythonLstrip(s: string): string {
  return s.replace(PYTHON_LSTRIP, '');
}
export function pythonRstrip(s: string): string {
  return s.replace(PYTHON_RSTRIP, '');
}

/** Python's `str.split()` with no argument: runs of whitespace separate, no empty strings. */
export function pythonSplit(s: string): string[] {
  const parts = s.split(PYTHON_SPLIT);
  return parts.filter((p) => p.length > 0);
}

/** Python's `str.lower()` applied one character at a time (no final-sigma context), as both the slow
 * tokenizers' pre-lowercasing regex and Rust's per-char `to_lowercase` do. */
export function lowerPerChar(s: string): string {
  if (!s.includes('\u03a3')) return s.toLowerCase();
  let out = '';
  for (const ch of s) out += ch.toLowerCase();
  return out;
}

const CATEGORY_C = /\p{C}/u;
const CATEGORY_ZS = /\p{Zs}/u;
const CATEGORY_P = /\p{P}/u;
const WHITE_SPACE = /\p{White_Space}/u;

/** transformers' `_is_control`: category C* except \t \n \r (same set as Rust's `is_other`). */
export function isControl(ch: string): boolean {
  return ch !== '\t' && ch !== '\n' && ch !== '\r' && CATEGORY_C.test(ch);
}

/** transformers' `_is_whitespace`: space, \t, \n, \r or category Zs. */
export function isBertWhitespaceSlow(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || CATEGORY_ZS.test(ch);
}

/** tokenizers' BertNormalizer `is_whitespace`: \t \n \r or the Unicode White_Space property. */
export function isBertWhitespaceFast(ch: string): boolean {
  return ch === '\t' || ch === '\n' || ch === '\r' || WHITE_SPACE.test(ch);
}

export function isUnicodeWhiteSpace(ch: string): boolean {
  return WHITE_SPACE.test(ch);
}

/** transformers' `_is_punctuation` (= tokenizers' `is_bert_punc`): ASCII symbols or category P*. */
export function isPunctuation(ch: string): boolean {
  const cp = ch.codePointAt(0)!;
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return true;
  return cp > 127 && CATEGORY_P.test(ch);
}

/**
 * The CJK ideograph blocks BERT pads with spaces. transformers checks 0x2B820-0x2CEAF; `tokenizers`
 * checks 0x2B920-0x2CEAF (a typo upstream that we reproduce for tokenizer.json).
 */
export function isChineseChar(cp: number, rustRanges: boolean): boolean {
  return (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) || (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= (rustRanges ? 0x2b920 : 0x2b820) && cp <= 0x2ceaf) || (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x2f800 && cp <= 0x2fa1f);
}

const NONSPACING_MARKS = /\p{Mn}/gu;

/** NFD, then drop nonspacing marks (category Mn). */
export function stripAccents(s: string): string {
  const d = s.normalize('NFD');
  return d === s && /^[\x00-\x7f]*$/.test(s) ? s : d.replace(NONSPACING_MARKS, '');
}

/** Replaces lone UTF-16 surrogates by U+FFFD, as any UTF-8 encoder (and so every reference) would see them. */
export function toWellFormed(s: string): string {
  return /[\ud800-\udfff]/.test(s) ? s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd') : s;
}
