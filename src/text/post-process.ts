/**
 * Adding special tokens and truncating, as the reference tokenizers do for `tokenizer(text,
 * truncation=True, max_length=N)`: the body is cut (never the special tokens), pairs longest-first.
 */
import { UsageError } from '../errors.js';
import type { Encoding, Pieces } from './types.js';

export interface SpecialToken {
  token: string;
  id: number;
}

export type TemplateItem = { sequence: 'A' | 'B'; typeId: number } | { special: SpecialToken[]; typeId: number };

export type PostProcessor =
  /** tokenizers' TemplateProcessing (BERT: [CLS] $A [SEP] $B:1 [SEP]:1; T5: $A </s> $B </s>). */
  | { type: 'template'; single: TemplateItem[]; pair: TemplateItem[] }
  /** transformers' T5Tokenizer: appends </s> unless the sequence already ends with it. */
  | { type: 't5-slow'; eos: SpecialToken };

/**
 * 'slow' = transformers 4.19 truncate_sequences (one token at a time from the longer sequence, the second on
 * ties); 'fast' = tokenizers' truncate_encodings (the shorter keeps up to half, the longer gets the odd token).
 */
export type PairTruncation = 'slow' | 'fast';

export function bertTemplate(cls: SpecialToken, sep: SpecialToken): PostProcessor {
  return {
    type: 'template',
    single: [{ special: [cls], typeId: 0 }, { sequence: 'A', typeId: 0 }, { special: [sep], typeId: 0 }],
    pair: [
      { special: [cls], typeId: 0 }, { sequence: 'A', typeId: 0 }, { special: [sep], typeId: 0 },
      { sequence: 'B', typeId: 1 }, { special: [sep], typeId: 1 },
    ],
  };
}

function addedCount(post: PostProcessor, pair: boolean): number {
  if (post.type === 't5-slow') return pair ? 2 : 1;
  let n = 0;
  for (const item of pair ? post.pair : post.single) if ('special' in item) n += item.special.length;
  return n;
}

function assemble(post: PostProcessor, a: Pieces, b: Pieces | undefined, addSpecial: boolean, withTypeIds: boolean): Omit<Encoding, 'truncated' | 'fullLength'> {
  const tokens: string[] = [];
  const ids: number[] = [];
  const typeIds: number[] = [];
  const push = (p: Pieces, typeId: number): void => {
    for (let i = 0; i < p.ids.length; i++) {
      tokens.push(p.tokens[i]!);
      ids.push(p.ids[i]!);
      typeIds.push(typeId);
    }
  };
  if (!addSpecial) {
    push(a, 0);
    if (b) push(b, 1);
  } else if (post.type === 't5-slow') {
    for (const [seq, typeId] of [[a, 0], [b, 1]] as const) {
      if (!seq) continue;
      push(seq, typeId);
      if (seq.ids.at(-1) !== post.eos.id) push({ tokens: [post.eos.token], ids: [post.eos.id] }, typeId);
    }
  } else {
    for (const item of b ? post.pair : post.single) {
      if ('special' in item) push({ tokens: item.special.map((s) => s.token), ids: item.special.map((s) => s.id) }, item.typeId);
      else push(item.sequence === 'A' ? a : b!, item.typeId);
    }
  }
  return withTypeIds ? { ids, tokens, typeIds } : { ids, tokens };
}

function cut(p: Pieces, n: number): Pieces {
  return n >= p.ids.length ? p : { tokens: p.tokens.slice(0, n), ids: p.ids.slice(0, n) };
}

export interface BuildOptions {
  post: PostProcessor;
  pairTruncation: PairTruncation;
  withTypeIds: boolean;
  addSpecialTokens: boolean;
  maxLength: number | undefined;
}

export function buildEncoding(a: Pieces, b: Pieces | undefined, o: BuildOptions): Encoding {
  const full = assemble(o.post, a, b, o.addSpecialTokens, o.withTypeIds);
  const fullLength = full.ids.length;
  const added = o.addSpecialTokens ? addedCount(o.post, b !== undefined) : 0;
  const bodyLength = a.ids.length + (b?.ids.length ?? 0);
  if (o.maxLength === undefined || bodyLength + added <= o.maxLength) return { ...full, truncated: false, fullLength };
  const budget = o.maxLength - added;
  if (budget < 0) throw new UsageError(`max length ${o.maxLength} leaves no room for the ${added} special tokens`);
  let na = a.ids.length;
  let nb = b?.ids.length ?? 0;
  if (!b) na = budget;
  else if (o.pairTruncation === 'slow') {
    for (let remove = na + nb - budget; remove > 0; remove--) {
      if (na > nb) na--;
      else nb--;
    }
  } else {
    let n1 = Math.min(na, nb);
    let n2 = Math.max(na, nb);
    const swap = na > nb;
    n2 = n1 > budget ? n1 : Math.max(n1, budget - n1);
    if (n1 + n2 > budget) {
      n1 = Math.floor(budget / 2);
      n2 = n1 + (budget % 2);
    }
    [na, nb] = swap ? [n2, n1] : [n1, n2];
  }
  const truncated = assemble(o.post, cut(a, na), b ? cut(b, nb) : undefined, o.addSpecialTokens, o.withTypeIds);
  return { ...truncated, truncated: true, fullLength };
}
