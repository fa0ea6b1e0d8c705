/**
 * Splitting text around added / special tokens before the model sees it. Both libraries pick the leftmost
 * match and, among matches starting there, the longest. They differ in the whitespace next to a match:
 *  - transformers' slow tokenizers strip it on both sides (Python str.strip semantics) for special tokens
 *    loaded as plain strings, which is how tokenizer_config.json / special_tokens_map.json provide them;
 *  - tokenizers (tokenizer.json) keeps it unless the token has lstrip/rstrip, which then absorb it.
 */
import { isUnicodeWhiteSpace, pythonLstrip, pythonRstrip } from './unicode.js';

export interface AddedToken {
  content: string;
  id: number;
  lstrip: boolean;
  rstrip: boolean;
  singleWord: boolean;
  /** Matched on normalized text (true) or on the raw input (false). */
  normalized: boolean;
}

export interface TextPart {
  text: string;
  /** Set when the part is an added token. */
  token?: AddedToken;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Finds leftmost-longest occurrences of a fixed set of strings. */
export class TokenMatcher {
  private readonly re: RegExp | undefined;
  private readonly byContent = new Map<string, AddedToken>();

  constructor(tokens: readonly AddedToken[]) {
    for (const t of tokens) if (t.content.length > 0 && !this.byContent.has(t.content)) this.byContent.set(t.content, t);
    const sorted = [...this.byContent.keys()].sort((a, b) => b.length - a.length);
    // A regex alternation tries alternatives in order at the leftmost position: longest-first ordering
    // therefore yields leftmost-longest matches.
    this.re = sorted.length ? new RegExp(sorted.map(escapeRegExp).join('|'), 'g') : undefined;
  }

  get empty(): boolean {
    return this.re === undefined;
  }

  *matches(text: string): Generator<{ start: number; end: number; token: AddedToken }> {
    if (!this.re) return;
    this.re.lastIndex = 0;
    for (let m = this.re.exec(text); m !== null; m = this.re.exec(text)) {
      yield { start: m.index, end: m.index + m[0].length, token: this.byContent.get(m[0])! };
    }
  }
}

/** transformers' PreTrainedTokenizer.tokenize splitting (tokens_trie.split + whitespace stripping). */
export function splitSlow(text: string, matcher: TokenMatcher): TextPart[] {
  if (matcher.empty) return [{ text }];
  const parts: TextPart[] = [];
  let last = 0;
  for (const m of matcher.matches(text)) {
    parts.push({ text: text.slice(last, m.start) }, { text: m.token.content, token: m.token });
    last = m.end;
  }
  parts.push({ text: text.slice(last) });
  for (let i = 0; i < parts.length; i++) {
    const t = parts[i]!.token;
    if (!t) continue;
    const left = parts[i - 1];
    const right = parts[i + 1];
    // Special tokens loaded from the config files are plain strings, for which transformers strips both sides.
    if (right && !right.token) right.text = pythonLstrip(right.text);
    if (left && !left.token) left.text = pythonRstrip(left.text);
  }
  return parts.filter((p) => p.token || p.text.length > 0);
}

function isWordChar(ch: string | undefined): boolean {
  return ch !== undefined && /[\p{L}\p{N}_]/u.test(ch);
}

/** tokenizers' AddedVocabulary split for one set of tokens (raw or normalized). */
export function splitFast(text: string, matcher: TokenMatcher): TextPart[] {
  if (matcher.empty) return [{ text }];
  const parts: TextPart[] = [];
  let last = 0;
  for (const m of matcher.matches(text)) {
    let { start, end } = m;
    if (m.token.singleWord) {
      const before = start > 0 ? String.fromCodePoint(text.codePointAt(start - 1)!) : undefined;
      const after = end < text.length ? String.fromCodePoint(text.codePointAt(end)!) : undefined;
      if (isWordChar(before) || isWordChar(after)) continue;
    }
    if (m.token.lstrip) while (start > last && isUnicodeWhiteSpace(text[start - 1]!)) start--;
    if (m.token.rstrip) while (end < text.length && isUnicodeWhiteSpace(text[end]!)) end++;
    if (start > last) parts.push({ text: text.slice(last, start) });
    parts.push({ text: m.token.content, token: m.token });
    last = end;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  return parts;
}
