/**
 * A Hugging Face fast tokenizer from tokenizer.json, reproducing the Rust `tokenizers` pipeline that
 * sentence-transformers runs whenever a model folder has this file: added-token split (raw, then
 * normalized), normalizer, pre-tokenizer, model (WordPiece or Unigram), post-processor. The file's own
 * truncation and padding blocks are ignored: callers choose those.
 *
 * Where this differs from the slow tokenizers (see the tokenizer oracle fixtures, fixtures/tokenizers/oracle/
 * tokenizer-json-vs-slow-diffs.json), the difference comes from the format and is kept: a T5
 * tokenizer.json has no remove_extra_whitespaces, so trailing/whitespace-only input yields a "▁" piece;
 * special tokens keep their surrounding whitespace; </s> is appended even after a literal "</s>". The two
 * BERT entries in that file are bugs of the JavaScript library used to produce it (it merges astral CJK
 * characters and keeps U+10FFFF); the Rust library, and this code, follow the slow tokenizer there.
 *
 * One Rust quirk is NOT followed by default: tokenizers applies the Precompiled charsmap per grapheme
 * cluster (whole cluster < 6 bytes by its shortest rule, else char by char), which differs from
 * SentencePiece's longest match on rare combining sequences ("é" + U+0301 U+0301). The charsmap is
 * SentencePiece's data and its reference semantics are SentencePiece's, so 'sentencepiece' is the default;
 * pass precompiledRule: 'tokenizers' to reproduce the Rust library bit for bit there.
 */
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { splitFast, TokenMatcher, type AddedToken } from './added-tokens.js';
import { ByteTrie } from './byte-trie.js';
import { Charsmap } from './charsmap.js';
import { readJsonFileSync as readJsonFile } from '../util/lines.js';
import type { TokenizerConfig } from './config.js';
import { PipelineTokenizer } from './pipeline-tokenizer.js';
import type { PostProcessor, SpecialToken, TemplateItem } from './post-process.js';
import type { Pieces } from './types.js';
import { bytePieceName, UnigramSegmenter } from './unigram.js';
import { lowerPerChar } from './unicode.js';
import { FastBasicTokenizer, WordPiece } from './wordpiece.js';

type Json = Record<string, unknown>;
type Normalize = (s: string) => string;
/** Splits one normalized segment; `atStart` tells whether it begins the original input. */
type PreTokenize = (s: string, atStart: boolean) => string[];

class FormatError extends Error {}

function obj(v: unknown, what: string): Json {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new FormatError(`${what} must be an object`);
  return v as Json;
}

/**
 * How the Precompiled normalizer applies the charsmap: 'sentencepiece' (longest match, as spiece.model and
 * the slow tokenizers: the reference oracles) or 'tokenizers' (the Rust library's per-grapheme rule).
 */
export type PrecompiledRule = 'sentencepiece' | 'tokenizers';

interface NormalizerContext {
  override?: (j: Json) => Json;
  precompiledRule: PrecompiledRule;
}

function buildNormalizer(spec: unknown, bert: NormalizerContext): Normalize {
  if (spec === null || spec === undefined) return (s) => s;
  const j = obj(spec, 'normalizer');
  switch (j['type']) {
    case 'Sequence': {
      const steps = (j['normalizers'] as unknown[] | undefined ?? []).map((n) => buildNormalizer(n, bert));
      return (s) => steps.reduce((acc, f) => f(acc), s);
    }
    case 'BertNormalizer': {
      const o = bert.override ? bert.override(j) : j;
      const basic = new FastBasicTokenizer({
        cleanText: o['clean_text'] !== false,
        chineseChars: o['handle_chinese_chars'] !== false,
        stripAccents: (o['strip_accents'] as boolean | null | undefined) ?? null,
        lowercase: o['lowercase'] !== false,
      });
      return (s) => basic.normalize(s);
    }
    case 'Precompiled': {
      const b64 = j['precompiled_charsmap'];
      if (typeof b64 !== 'string') throw new FormatError('Precompiled normalizer without precompiled_charsmap');
      const map = new Charsmap(Buffer.from(b64, 'base64'));
      return bert.precompiledRule === 'tokenizers' ? (s) => map.normalizeLikeTokenizers(s) : (s) => map.normalizeLongestMatch(s);
    }
    case 'Replace': {
      const pattern = obj(j['pattern'], 'Replace.pattern');
      const content = String(j['content'] ?? '');
      if (typeof pattern['String'] === 'string') {
        const from = pattern['String'];
        return (s) => (from ? s.split(from).join(content) : s);
      }
      if (typeof pattern['Regex'] === 'string') {
        const re = new RegExp(pattern['Regex'], 'gu');
        return (s) => s.replace(re, () => content);
      }
      throw new FormatError('Replace pattern must be String or Regex');
    }
    case 'NFC': case 'NFD': case 'NFKC': case 'NFKD': {
      const form = j['type'];
      return (s) => s.normalize(form);
    }
    case 'Lowercase':
      return lowerPerChar;
    case 'StripAccents':
      return (s) => s.replace(/\p{Mn}/gu, '');
    case 'Strip': {
      const left = j['strip_left'] !== false;
      const right = j['strip_right'] !== false;
      return (s) => s.replace(left ? /^\p{White_Space}+/u : /^$/, '').replace(right ? /\p{White_Space}+$/u : /^$/, '');
    }
    case 'Prepend': {
      const p = String(j['prepend'] ?? '');
      return (s) => (s.length ? p + s : s);
    }
    default:
      throw new FormatError(`unsupported normalizer type "${String(j['type'])}"`);
  }
}

function splitMergedWithNext(s: string, delimiter: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = s.indexOf(delimiter, 1); i !== -1; i = s.indexOf(delimiter, i + delimiter.length)) {
    if (i > start) out.push(s.slice(start, i));
    start = i;
  }
  if (start < s.length) out.push(s.slice(start));
  return out;
}

function buildPreTokenizer(spec: unknown): PreTokenize {
  if (spec === null || spec === undefined) return (s) => (s.length ? [s] : []);
  const j = obj(spec, 'pre_tokenizer');
  switch (j['type']) {
    case 'Sequence': {
      const steps = (j['pretokenizers'] as unknown[] | undefined ?? []).map(buildPreTokenizer);
      return (s, atStart) => steps.reduce<string[]>((parts, f) => parts.flatMap((p, i) => f(p, atStart && i === 0)), [s]);
    }
    case 'BertPreTokenizer': {
      const basic = new FastBasicTokenizer({ cleanText: false, chineseChars: false, stripAccents: false, lowercase: false });
      return (s) => basic.preTokenize(s);
    }
    case 'WhitespaceSplit':
      return (s) => s.split(/\p{White_Space}+/u).filter((p) => p.length > 0);
    case 'Whitespace':
      return (s) => s.match(/[\p{L}\p{N}\p{M}\p{Pc}]+|[^\p{L}\p{N}\p{M}\p{Pc}\p{White_Space}]+/gu) ?? [];
    case 'Metaspace': {
      const replacement = String(j['replacement'] ?? '\u2581');
      const scheme = typeof j['prepend_scheme'] === 'string' ? j['prepend_scheme'] : j['add_prefix_space'] === false ? 'never' : 'always';
      const split = j['split'] !== false;
      return (s, atStart) => {
        let t = s.split(' ').join(replacement);
        if ((scheme === 'always' || (scheme === 'first' && atStart)) && !t.startsWith(replacement)) t = replacement + t;
        if (!t.length) return [];
        return split ? splitMergedWithNext(t, replacement) : [t];
      };
    }
    default:
      throw new FormatError(`unsupported pre_tokenizer type "${String(j['type'])}"`);
  }
}

interface Model {
  kind: 'wordpiece' | 'unigram';
  vocab: Map<string, number>;
  tokenize(word: string, out: Pieces): void;
}

function buildWordPiece(j: Json): Model {
  const vocab = new Map<string, number>(Object.entries(obj(j['vocab'], 'WordPiece vocab')).map(([t, id]) => [t, Number(id)]));
  const unkToken = String(j['unk_token'] ?? '[UNK]');
  if (!vocab.has(unkToken)) throw new FormatError(`WordPiece unk_token ${JSON.stringify(unkToken)} is not in the vocabulary`);
  const wp = new WordPiece({
    vocab,
    unkToken,
    prefix: String(j['continuing_subword_prefix'] ?? '##'),
    maxInputCharsPerWord: Number(j['max_input_chars_per_word'] ?? 100),
  });
  return { kind: 'wordpiece', vocab, tokenize: (w, out) => wp.tokenizeWord(w, out) };
}

function buildUnigram(j: Json): Model {
  const entries = j['vocab'];
  if (!Array.isArray(entries)) throw new FormatError('Unigram vocab must be a list of [piece, score]');
  const vocab = new Map<string, number>();
  const pieces: string[] = [];
  const scores = new Float64Array(entries.length);
  const trie = new ByteTrie();
  let minScore = Infinity;
  entries.forEach((e, id) => {
    if (!Array.isArray(e) || typeof e[0] !== 'string' || typeof e[1] !== 'number') throw new FormatError(`Unigram vocab entry ${id} must be [piece, score]`);
    pieces.push(e[0]);
    scores[id] = e[1];
    if (!vocab.has(e[0])) vocab.set(e[0], id);
    trie.insert(Buffer.from(e[0], 'utf8'), id);
    minScore = Math.min(minScore, e[1]);
  });
  const unkId = typeof j['unk_id'] === 'number' ? j['unk_id'] : -1;
  if (unkId < 0 || unkId >= entries.length) throw new FormatError('Unigram model needs a valid unk_id');
  const byteFallback = j['byte_fallback'] === true;
  const segmenter = new UnigramSegmenter({ trie, scores, unkId, unkScore: minScore - 10, float32: false });
  const cache = new Map<string, Pieces>();
  const compute = (word: string): Pieces => {
    const bytes = Buffer.from(word, 'utf8');
    const res: Pieces = { tokens: [], ids: [] };
    let unkRun: number[] = [];
    const flushUnk = (): void => {
      if (!unkRun.length) return;
      const run = bytes.subarray(unkRun[0]!, unkRun[1]!);
      const byteIds = byteFallback ? Array.from(run, (b) => vocab.get(bytePieceName(b))) : [];
      if (byteFallback && byteIds.every((id) => id !== undefined)) {
        run.forEach((b, i) => {
          res.tokens.push(bytePieceName(b));
          res.ids.push(byteIds[i]!);
        });
      } else {
        res.tokens.push(run.toString('utf8'));
        res.ids.push(unkId);
      }
      unkRun = [];
    };
    for (const seg of segmenter.segment(bytes, bytes.length)) {
      if (seg.id === unkId) {
        // tokenizers fuses consecutive unknown pieces (fuse_unk).
        unkRun = unkRun.length ? [unkRun[0]!, seg.end] : [seg.start, seg.end];
        continue;
      }
      flushUnk();
      res.tokens.push(pieces[seg.id]!);
      res.ids.push(seg.id);
    }
    flushUnk();
    return res;
  };
  return {
    kind: 'unigram',
    vocab,
    tokenize: (word, out) => {
      let p = cache.get(word);
      if (!p) {
        p = compute(word);
        if (cache.size > 200_000) cache.clear();
        cache.set(word, p);
      }
      for (let i = 0; i < p.ids.length; i++) {
        out.tokens.push(p.tokens[i]!);
        out.ids.push(p.ids[i]!);
      }
    },
  };
}

function buildPostProcessor(spec: unknown, idOf: (t: string) => number | undefined): PostProcessor {
  const none: PostProcessor = { type: 'template', single: [{ sequence: 'A', typeId: 0 }], pair: [{ sequence: 'A', typeId: 0 }, { sequence: 'B', typeId: 1 }] };
  if (spec === null || spec === undefined) return none;
  const j = obj(spec, 'post_processor');
  const pairOf = (v: unknown, what: string): SpecialToken => {
    if (!Array.isArray(v) || typeof v[0] !== 'string' || typeof v[1] !== 'number') throw new FormatError(`${what} must be [token, id]`);
    return { token: v[0], id: v[1] };
  };
  switch (j['type']) {
    case 'BertProcessing': {
      const cls = pairOf(j['cls'], 'BertProcessing.cls');
      const sep = pairOf(j['sep'], 'BertProcessing.sep');
      return {
        type: 'template',
        single: [{ special: [cls], typeId: 0 }, { sequence: 'A', typeId: 0 }, { special: [sep], typeId: 0 }],
        pair: [{ special: [cls], typeId: 0 }, { sequence: 'A', typeId: 0 }, { special: [sep], typeId: 0 }, { sequence: 'B', typeId: 1 }, { special: [sep], typeId: 1 }],
      };
    }
    case 'TemplateProcessing': {
      const specials = obj(j['special_tokens'] ?? {}, 'TemplateProcessing.special_tokens');
      const items = (list: unknown): TemplateItem[] => {
        if (!Array.isArray(list)) throw new FormatError('TemplateProcessing templates must be lists');
        return list.map((raw) => {
          const it = obj(raw, 'template item');
          if (it['Sequence']) {
            const s = obj(it['Sequence'], 'Sequence');
            return { sequence: s['id'] === 'B' ? 'B' : 'A', typeId: Number(s['type_id'] ?? 0) };
          }
          const s = obj(it['SpecialToken'], 'SpecialToken');
          const name = String(s['id']);
          const def = specials[name] ? obj(specials[name], `special token ${name}`) : undefined;
          const ids = (def?.['ids'] as number[] | undefined) ?? [idOf(name)!];
          const tokens = (def?.['tokens'] as string[] | undefined) ?? [name];
          if (ids.some((id) => typeof id !== 'number')) throw new FormatError(`special token ${name} has no id`);
          return { special: ids.map((id, i) => ({ token: tokens[i] ?? name, id })), typeId: Number(s['type_id'] ?? 0) };
        });
      };
      return { type: 'template', single: items(j['single']), pair: items(j['pair']) };
    }
    case 'Sequence': {
      const procs = (j['processors'] as unknown[] | undefined ?? []).filter((p) => ['TemplateProcessing', 'BertProcessing'].includes(String(obj(p, 'processor')['type'])));
      return procs.length ? buildPostProcessor(procs.at(-1), idOf) : none;
    }
    default:
      throw new FormatError(`unsupported post_processor type "${String(j['type'])}"`);
  }
}

export function loadTokenizerJson(dir: string, cfg: TokenizerConfig, opts: { precompiledRule?: PrecompiledRule } = {}): PipelineTokenizer {
  const path = join(dir, 'tokenizer.json');
  const root = readJsonFile(path);
  try {
    const j = obj(root, 'tokenizer.json');
    const modelSpec = obj(j['model'], 'model');
    const model = modelSpec['type'] === 'WordPiece' ? buildWordPiece(modelSpec)
      : modelSpec['type'] === 'Unigram' || (modelSpec['type'] === undefined && Array.isArray(modelSpec['vocab'])) ? buildUnigram(modelSpec)
      : (() => { throw new FormatError(`unsupported model type "${String(modelSpec['type'])}" (WordPiece and Unigram are supported)`); })();

    const added: AddedToken[] = ((j['added_tokens'] as unknown[] | undefined) ?? []).map((raw) => {
      const t = obj(raw, 'added token');
      if (typeof t['content'] !== 'string' || typeof t['id'] !== 'number') throw new FormatError('added token needs content and id');
      return { content: t['content'], id: t['id'], lstrip: t['lstrip'] === true, rstrip: t['rstrip'] === true, singleWord: t['single_word'] === true, normalized: t['normalized'] === true };
    });
    const addedById = new Map(added.map((t) => [t.id, t.content]));
    const addedByContent = new Map(added.map((t) => [t.content, t.id]));
    const idToToken: string[] = [];
    for (const [t, id] of model.vocab) idToToken[id] ??= t;
    for (const [id, t] of addedById) idToToken[id] = t;
    const idOf = (t: string): number | undefined => addedByContent.get(t) ?? model.vocab.get(t);

    // BertTokenizerFast rebuilds the normalizer when tokenizer_config.json's casing/accents/CJK options differ.
    const bertOverride = cfg.present && model.kind === 'wordpiece'
      ? (n: Json): Json => ({ ...n, lowercase: cfg.doLowerCase ?? true, strip_accents: cfg.stripAccents ?? null, handle_chinese_chars: cfg.tokenizeChineseChars ?? true })
      : undefined;
    const normalize = buildNormalizer(j['normalizer'], { override: bertOverride, precompiledRule: opts.precompiledRule ?? 'sentencepiece' });
    const preTokenize = buildPreTokenizer(j['pre_tokenizer']);
    const rawMatcher = new TokenMatcher(added.filter((t) => !t.normalized));
    const normMatcher = new TokenMatcher(added.filter((t) => t.normalized));
    const post = buildPostProcessor(j['post_processor'], idOf);

    const body = (text: string): Pieces => {
      const out: Pieces = { tokens: [], ids: [] };
      let offset = 0;
      for (const part of splitFast(text, rawMatcher)) {
        const atStart = offset === 0;
        offset += part.text.length;
        if (part.token) {
          out.tokens.push(part.token.content);
          out.ids.push(part.token.id);
          continue;
        }
        let first = atStart;
        for (const sub of splitFast(normalize(part.text), normMatcher)) {
          if (sub.token) {
            out.tokens.push(sub.token.content);
            out.ids.push(sub.token.id);
          } else for (const word of preTokenize(sub.text, first)) model.tokenize(word, out);
          first = false;
        }
      }
      return out;
    };

    const padToken = cfg.specials.pad ?? (model.kind === 'wordpiece' ? '[PAD]' : '<pad>');
    const padId = idOf(padToken);
    if (padId === undefined) throw new FormatError(`pad token "${padToken}" is not in the vocabulary`);
    return new PipelineTokenizer({
      kind: model.kind,
      body,
      post,
      pairTruncation: 'fast',
      vocab: { size: idToToken.length, idToToken: (id) => idToToken[id], tokenToId: idOf },
      padId,
      withTypeIds: model.kind === 'wordpiece',
      source: 'tokenizer.json (Hugging Face tokenizers)',
    });
  } catch (e) {
    if (e instanceof FormatError) throw new InputError(path, undefined, e.message);
    throw e;
  }
}
