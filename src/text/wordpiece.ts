/**
 * BERT's tokenization: the basic tokenizer (clean text, CJK spacing, lowercasing, accent stripping,
 * punctuation splitting) and WordPiece (greedy longest match with `##` continuations, [UNK] for words over
 * max_input_chars_per_word characters or with an unmatchable part).
 *
 * Two flavours of the basic step are reproduced because they differ on rare inputs: transformers' slow
 * BasicTokenizer (vocab.txt) and tokenizers' BertNormalizer + BertPreTokenizer (tokenizer.json). The Rust
 * one strips accents before lowercasing, treats every Unicode White_Space character as a separator (the
 * slow one keeps U+2028/U+2029 inside words... then str.split() drops them: equal in the end), and uses a
 * slightly different CJK range table.
 */
import {
  isBertWhitespaceFast, isBertWhitespaceSlow, isChineseChar, isControl, isPunctuation, isUnicodeWhiteSpace,
  lowerPerChar, pythonSplit, stripAccents,
} from './unicode.js';
import type { Pieces } from './types.js';

export interface BasicOptions {
  lowercase: boolean;
  /** null: strip when lowercasing (both libraries' default). */
  stripAccents: boolean | null;
  chineseChars: boolean;
  cleanText: boolean;
}

const enum CharClass {
  Drop = 1,
  Space = 2,
  Punct = 4,
  Chinese = 8,
}

/** Per-character classification, cached (ASCII in an array, the rest in a Map). */
class Classifier {
  private readonly ascii = new Uint8Array(128);
  private readonly other = new Map<number, number>();
  constructor(private readonly rust: boolean, private readonly opts: BasicOptions) {
    for (let c = 0; c < 128; c++) this.ascii[c] = this.compute(String.fromCharCode(c), c);
  }
  private compute(ch: string, cp: number): number {
    let k = 0;
    if (this.opts.cleanText) {
      if (cp === 0 || cp === 0xfffd || isControl(ch)) return CharClass.Drop;
      if (this.rust ? isBertWhitespaceFast(ch) : isBertWhitespaceSlow(ch)) k |= CharClass.Space;
    }
    if (this.opts.chineseChars && isChineseChar(cp, this.rust)) k |= CharClass.Chinese;
    if (isPunctuation(ch)) k |= CharClass.Punct;
    return k;
  }
  classOf(ch: string, cp: number): number {
    if (cp < 128) return this.ascii[cp]!;
    let k = this.other.get(cp);
    if (k === undefined) {
      k = this.compute(ch, cp);
      this.other.set(cp, k);
    }
    return k;
  }
}

function splitOnPunctuation(token: string, out: string[]): void {
  let current = '';
  for (const ch of token) {
    if (isPunctuation(ch)) {
      if (current) out.push(current);
      out.push(ch);
      current = '';
    } else current += ch;
  }
  if (current) out.push(current);
}

/** transformers' BasicTokenizer.tokenize (the text is already lowercased per char by the caller when do_lower_case). */
export class SlowBasicTokenizer {
  private readonly classifier: Classifier;
  constructor(private readonly opts: BasicOptions, private readonly neverSplit: ReadonlySet<string>) {
    this.classifier = new Classifier(false, opts);
  }

  tokenize(text: string): string[] {
    let cleaned = '';
    for (const ch of text) {
      const k = this.classifier.classOf(ch, ch.codePointAt(0)!);
      if (k & CharClass.Drop) continue;
      if (k & CharClass.Space) cleaned += ' ';
      else if (k & CharClass.Chinese) cleaned += ` ${ch} `;
      else cleaned += ch;
    }
    const { lowercase, stripAccents: strip } = this.opts;
    const split: string[] = [];
    for (let token of pythonSplit(cleaned)) {
      if (this.neverSplit.has(token)) {
        split.push(token);
        continue;
      }
      if (lowercase) {
        token = token.toLowerCase();
        if (strip !== false) token = stripAccents(token);
      } else if (strip) token = stripAccents(token);
      splitOnPunctuation(token, split);
    }
    // Tokens emptied by accent stripping never reach `split` (splitOnPunctuation skips ""), which is what
    // the final " ".join(...).split() achieves upstream.
    return split;
  }
}

/** tokenizers' BertNormalizer followed by BertPreTokenizer. */
export class FastBasicTokenizer {
  private readonly classifier: Classifier;
  constructor(private readonly opts: BasicOptions) {
    this.classifier = new Classifier(true, opts);
  }

  normalize(text: string): string {
    let s = '';
    if (this.opts.cleanText || this.opts.chineseChars) {
      for (const ch of text) {
        const k = this.classifier.classOf(ch, ch.codePointAt(0)!);
        if (k & CharClass.Drop) continue;
        if (k & CharClass.Space) s += ' ';
        else if (k & CharClass.Chinese) s += ` ${ch} `;
        else s += ch;
      }
    } else s = text;
    if (this.opts.stripAccents ?? this.opts.lowercase) s = stripAccents(s);
    if (this.opts.lowercase) s = lowerPerChar(s);
    return s;
  }

  /** Splits normalized text on White_Space (dropped) and punctuation (kept as single tokens). */
  preTokenize(text: string): string[] {
    const out: string[] = [];
    let current = '';
    for (const ch of text) {
      const cp = ch.codePointAt(0)!;
      if (cp === 32 || (cp >= 9 && cp <= 13) || (cp > 127 && isUnicodeWhiteSpace(ch))) {
        if (current) out.push(current);
        current = '';
      } else if (isPunctuation(ch)) {
        if (current) out.push(current);
        out.push(ch);
        current = '';
      } else current += ch;
    }
    if (current) out.push(current);
    return out;
  }
}

export interface WordPieceOptions {
  vocab: ReadonlyMap<string, number>;
  unkToken: string;
  prefix: string;
  maxInputCharsPerWord: number;
}

export class WordPiece {
  private readonly unkId: number;
  private readonly cache = new Map<string, Pieces>();

  constructor(private readonly o: WordPieceOptions) {
    const unk = o.vocab.get(o.unkToken);
    if (unk === undefined) throw new Error(`unknown token "${o.unkToken}" is not in the vocabulary`);
    this.unkId = unk;
  }

  /** Appends the word's pieces to out. */
  tokenizeWord(word: string, out: Pieces): void {
    let cached = this.cache.get(word);
    if (cached === undefined) {
      cached = this.compute(word);
      if (this.cache.size > 200_000) this.cache.clear();
      this.cache.set(word, cached);
    }
    for (let i = 0; i < cached.ids.length; i++) {
      out.tokens.push(cached.tokens[i]!);
      out.ids.push(cached.ids[i]!);
    }
  }

  private compute(word: string): Pieces {
    const chars = Array.from(word);
    const unk: Pieces = { tokens: [this.o.unkToken], ids: [this.unkId] };
    if (chars.length > this.o.maxInputCharsPerWord) return unk;
    const res: Pieces = { tokens: [], ids: [] };
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let found: string | undefined;
      let foundId = -1;
      while (start < end) {
        let sub = chars.slice(start, end).join('');
        if (start > 0) sub = this.o.prefix + sub;
        const id = this.o.vocab.get(sub);
        if (id !== undefined) {
          found = sub;
          foundId = id;
          break;
        }
        end--;
      }
      if (found === undefined) return unk;
      res.tokens.push(found);
      res.ids.push(foundId);
      start = end;
    }
    return res;
  }
}
