/**
 * T5 from spiece.model with transformers' slow T5Tokenizer semantics (4.19), which are SentencePiece's own
 * encoding plus: special-token strings in the text (</s>, <unk>, <pad>, <extra_id_N>) become their ids,
 * with the whitespace around them stripped and each remaining chunk encoded separately (each with its own
 * dummy prefix); </s> is appended unless the sequence already ends with it; <extra_id_N> = vocab_size-1-N.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { splitSlow, TokenMatcher } from './added-tokens.js';
import type { TokenizerConfig } from './config.js';
import { PipelineTokenizer } from './pipeline-tokenizer.js';
import { SentencePieceProcessor } from './sentencepiece.js';
import { parseSpmModel } from './spm-model.js';
import type { Pieces } from './types.js';

export function loadSentencePiece(path: string): SentencePieceProcessor {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new InputError(path, undefined, `cannot read: ${(e as Error).message}`);
  }
  try {
    return new SentencePieceProcessor(parseSpmModel(buf));
  } catch (e) {
    throw new InputError(path, undefined, `not a usable SentencePiece model: ${(e as Error).message}`);
  }
}

export function loadT5SpieceTokenizer(dir: string, cfg: TokenizerConfig): PipelineTokenizer {
  const path = join(dir, 'spiece.model');
  const sp = loadSentencePiece(path);
  const spSize = sp.model.pieces.length;
  const extraIds = cfg.extraIds ?? 100; // T5Tokenizer's default
  const vocabSize = spSize + extraIds;
  const eos = cfg.specials.eos ?? '</s>';
  const unk = cfg.specials.unk ?? '<unk>';
  const pad = cfg.specials.pad ?? '<pad>';
  const additional = cfg.additionalSpecialTokens ?? Array.from({ length: extraIds }, (_, i) => `<extra_id_${i}>`);

  const tokenToId = (token: string): number | undefined => {
    const m = /^<extra_id_(\d+)>/.exec(token);
    if (m) {
      const n = Number(m[1]);
      return n < extraIds ? vocabSize - n - 1 : undefined;
    }
    return sp.pieceToId.get(token);
  };
  const idToToken = (id: number): string | undefined => {
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) return undefined;
    return id < spSize ? sp.model.pieces[id]!.piece : `<extra_id_${vocabSize - 1 - id}>`;
  };
  const specials = [...new Set([eos, unk, pad, ...additional])];
  for (const s of specials) if (tokenToId(s) === undefined) throw new InputError(path, undefined, `special token "${s}" is not in the vocabulary`);
  const matcher = new TokenMatcher(specials.map((content) => ({
    content, id: tokenToId(content)!, lstrip: false, rstrip: false, singleWord: false, normalized: false,
  })));

  const body = (text: string): Pieces => {
    const out: Pieces = { tokens: [], ids: [] };
    for (const part of splitSlow(text, matcher)) {
      if (part.token) {
        out.tokens.push(part.token.content);
        out.ids.push(part.token.id);
        continue;
      }
      const enc = sp.encode(part.text);
      for (let i = 0; i < enc.ids.length; i++) {
        out.tokens.push(enc.pieces[i]!);
        out.ids.push(enc.ids[i]!);
      }
    }
    return out;
  };

  return new PipelineTokenizer({
    kind: 'unigram',
    body,
    post: { type: 't5-slow', eos: { token: eos, id: tokenToId(eos)! } },
    pairTruncation: 'slow',
    vocab: { size: vocabSize, idToToken, tokenToId },
    padId: tokenToId(pad)!,
    withTypeIds: false,
    source: 'spiece.model (SentencePiece + transformers T5Tokenizer)',
  });
}
