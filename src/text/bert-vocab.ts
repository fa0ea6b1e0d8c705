/**
 * BERT WordPiece from vocab.txt with transformers' slow BertTokenizer semantics (4.19): special tokens in
 * the text are recognised (case-sensitively) and split out, the rest is lowercased character by character
 * when do_lower_case, then BasicTokenizer + WordPiece, then [CLS] ... [SEP].
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { splitSlow, TokenMatcher, type AddedToken } from './added-tokens.js';
import { readJsonFileSync as readJsonFile, readTextFileSync } from '../util/lines.js';
import type { TokenizerConfig } from './config.js';
import { PipelineTokenizer } from './pipeline-tokenizer.js';
import { bertTemplate } from './post-process.js';
import type { Pieces } from './types.js';
import { lowerPerChar, pythonSplit } from './unicode.js';
import { SlowBasicTokenizer, WordPiece } from './wordpiece.js';

/** transformers' load_vocab: one token per line (universal newlines), the line number is the id; a repeated token keeps its last id. */
export function readVocabTxt(path: string): string[] {
  // Strictly UTF-8 (a bad byte names its line, not a U+FFFD token); a leading BOM is dropped, as everywhere.
  const text = readTextFileSync(path);
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length === 0) throw new InputError(path, undefined, 'empty vocabulary');
  return lines;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function loadBertVocabTokenizer(dir: string, cfg: TokenizerConfig): PipelineTokenizer {
  const vocabPath = join(dir, 'vocab.txt');
  const tokens = readVocabTxt(vocabPath);
  const vocab = new Map<string, number>();
  tokens.forEach((t, i) => vocab.set(t, i));
  const idToToken: string[] = [];
  for (const [t, i] of vocab) idToToken[i] = t;

  const special = {
    unk: cfg.specials.unk ?? '[UNK]', sep: cfg.specials.sep ?? '[SEP]', pad: cfg.specials.pad ?? '[PAD]',
    cls: cfg.specials.cls ?? '[CLS]', mask: cfg.specials.mask ?? '[MASK]',
  };
  const allSpecial = [special.unk, special.sep, special.pad, special.cls, special.mask, ...(cfg.additionalSpecialTokens ?? [])];
  // Tokens outside vocab.txt (special or from added_tokens.json) get ids after it, as transformers' add_tokens does.
  const added = new Map<string, number>();
  const addedPath = join(dir, 'added_tokens.json');
  if (existsSync(addedPath)) {
    const o = readJsonFile(addedPath) as Record<string, unknown>;
    for (const [t, id] of Object.entries(o ?? {})) {
      if (typeof id !== 'number') throw new InputError(addedPath, undefined, `id of "${t}" must be a number`);
      added.set(t, id);
    }
  }
  let nextId = tokens.length + added.size;
  for (const t of allSpecial) if (!vocab.has(t) && !added.has(t)) added.set(t, nextId++);
  const idOf = (t: string): number | undefined => added.get(t) ?? vocab.get(t);
  for (const [t, id] of added) idToToken[id] ??= t;

  const noSplit: AddedToken[] = [...new Set([...allSpecial, ...added.keys()])].map((content) => ({
    content, id: idOf(content)!, lstrip: false, rstrip: false, singleWord: false, normalized: false,
  }));
  const matcher = new TokenMatcher(noSplit);
  const lowercase = cfg.doLowerCase ?? true;
  // transformers lowercases with re.sub("(special|...)|(.+?)"): specials in sorted(unique_no_split_tokens) + all_special_tokens order.
  const protectedOrder = [...[...new Set([...allSpecial, ...added.keys()])].sort(), ...allSpecial];
  const protectRe = new RegExp(protectedOrder.map(escapeRegExp).join('|'), 'g');
  const lowerOutsideSpecials = (text: string): string => {
    let out = '';
    let last = 0;
    protectRe.lastIndex = 0;
    for (let m = protectRe.exec(text); m !== null; m = protectRe.exec(text)) {
      out += lowerPerChar(text.slice(last, m.index)) + m[0];
      last = m.index + m[0].length;
      if (m[0].length === 0) protectRe.lastIndex++;
    }
    return out + lowerPerChar(text.slice(last));
  };

  const neverSplit = new Set([...(cfg.neverSplit ?? []), ...allSpecial]);
  const basic = new SlowBasicTokenizer(
    { lowercase, stripAccents: cfg.stripAccents ?? null, chineseChars: cfg.tokenizeChineseChars ?? true, cleanText: true },
    neverSplit,
  );
  const doBasic = cfg.doBasicTokenize ?? true;
  if (!vocab.has(special.unk)) throw new InputError(vocabPath, undefined, `the unknown token ${JSON.stringify(special.unk)} is not in the vocabulary (WordPiece needs it)`);
  const wordpiece = new WordPiece({ vocab, unkToken: special.unk, prefix: '##', maxInputCharsPerWord: 100 });
  const configNeverSplit = new Set([...(cfg.neverSplit ?? []), ...allSpecial]);

  const body = (text: string): Pieces => {
    const out: Pieces = { tokens: [], ids: [] };
    const prepared = lowercase ? lowerOutsideSpecials(text) : text;
    for (const part of splitSlow(prepared, matcher)) {
      if (part.token) {
        out.tokens.push(part.token.content);
        out.ids.push(part.token.id);
        continue;
      }
      const words = doBasic ? basic.tokenize(part.text) : pythonSplit(part.text);
      for (const w of words) {
        if (doBasic && configNeverSplit.has(w)) {
          out.tokens.push(w);
          out.ids.push(idOf(w) ?? vocab.get(special.unk)!);
        } else wordpiece.tokenizeWord(w, out);
      }
    }
    return out;
  };

  const sid = (t: string): { token: string; id: number } => ({ token: t, id: idOf(t)! });
  return new PipelineTokenizer({
    kind: 'wordpiece',
    body,
    post: bertTemplate(sid(special.cls), sid(special.sep)),
    pairTruncation: 'slow',
    vocab: {
      size: Math.max(tokens.length, ...[...added.values()].map((i) => i + 1)),
      idToToken: (id) => idToToken[id],
      tokenToId: idOf,
    },
    padId: idOf(special.pad)!,
    withTypeIds: true,
    source: 'vocab.txt (transformers BertTokenizer)',
  });
}
