/**
 * SentencePiece unigram encoding, reproducing `SentencePieceProcessor::Encode` (python sentencepiece
 * 0.1.97): the normalizer (precompiled charsmap with longest match, user-defined symbols passed through,
 * leading/trailing/repeated whitespace removal, dummy prefix, whitespace escaping to U+2581) followed by the
 * unigram Viterbi in float32, consecutive unknown pieces merged into one (or split into <0xNN> byte pieces
 * when the model has byte fallback).
 */
import { ByteBuilder, ByteTrie, utf8CharLength } from './byte-trie.js';
import { Charsmap } from './charsmap.js';
import { PieceType, type SpmModel } from './spm-model.js';
import { bytePieceName, UnigramSegmenter, type Segment } from './unigram.js';

const SPACE_SYMBOL = Buffer.from('\u2581', 'utf8');
const SPACE = 0x20;

export interface SpmEncoded {
  pieces: string[];
  ids: number[];
}

export class SentencePieceProcessor {
  readonly pieceToId = new Map<string, number>();
  readonly unkId: number;
  private readonly charsmap: Charsmap | undefined;
  private readonly userDefined: ByteTrie | undefined;
  private readonly segmenter: UnigramSegmenter;
  private readonly out = new ByteBuilder(1024);
  /**
   * Lattice edges per whitespace-delimited word. Valid only when no piece contains the whitespace symbol
   * after its first byte: then no edge crosses a word start, and replaying cached edges through the same
   * float32 Viterbi gives SentencePiece's exact result (scores are still accumulated over the whole text).
   */
  private readonly edgeCache: Map<string, number[]> | undefined;
  private readonly wordStart: Buffer;
  /** ASCII bytes no normalization rule or user-defined symbol starts with: copied as they are. */
  private readonly plainAscii = new Uint8Array(128);

  constructor(readonly model: SpmModel) {
    if (model.modelType !== 1) throw new Error(`only unigram SentencePiece models are supported (model_type ${model.modelType})`);
    const n = model.pieces.length;
    const trie = new ByteTrie();
    const scores = new Float64Array(n);
    const unused = new Uint8Array(n);
    const userDefinedIds = new Uint8Array(n);
    let userDefined: ByteTrie | undefined;
    let unkId = -1;
    let minScore = Infinity;
    let maxScore = -Infinity;
    model.pieces.forEach((p, id) => {
      if (this.pieceToId.has(p.piece)) throw new Error(`piece "${p.piece}" is defined twice`);
      this.pieceToId.set(p.piece, id);
      scores[id] = p.score;
      const bytes = Buffer.from(p.piece, 'utf8');
      switch (p.type) {
        case PieceType.Normal:
          minScore = Math.min(minScore, p.score);
          maxScore = Math.max(maxScore, p.score);
          trie.insert(bytes, id);
          break;
        case PieceType.UserDefined:
          trie.insert(bytes, id);
          userDefinedIds[id] = 1;
          (userDefined ??= new ByteTrie()).insert(bytes, id);
          break;
        case PieceType.Unused:
          trie.insert(bytes, id);
          unused[id] = 1;
          break;
        case PieceType.Unknown:
          unkId = id;
          break;
        default:
          break; // control and byte pieces never match text
      }
    });
    if (unkId < 0) throw new Error('the model has no unknown piece');
    this.wordStart = model.normalizer.escapeWhitespaces ? SPACE_SYMBOL : Buffer.from(' ');
    const inner = this.wordStart.toString('utf8');
    const crossesWords = model.pieces.some((p) => p.type !== PieceType.Control && p.type !== PieceType.Unknown && p.type !== PieceType.Byte && p.piece.indexOf(inner, 1) !== -1);
    this.edgeCache = crossesWords ? undefined : new Map();
    if (minScore === Infinity) minScore = maxScore = 0;
    this.unkId = unkId;
    this.userDefined = userDefined;
    this.charsmap = model.normalizer.precompiledCharsmap.length > 0 ? new Charsmap(model.normalizer.precompiledCharsmap) : undefined;
    // C++ initialises max_score_ with FLT_MIN (the smallest positive float), not -FLT_MAX.
    maxScore = Math.max(maxScore, 1.1754943508222875e-38);
    this.segmenter = new UnigramSegmenter({
      trie, scores, unkId, unkScore: Math.fround(Math.fround(minScore) - 10), float32: true,
      unused, userDefined: userDefined ? userDefinedIds : undefined, maxScore: Math.fround(maxScore),
    });
    for (let b = 0; b < 128; b++) {
      const ruled = this.charsmap?.hasKeyStartingWith(b) ?? false;
      const userDefinedStart = userDefined ? userDefined.longestPrefixLength(Uint8Array.of(b), 0, 1) > 0 || model.pieces.some((p) => p.type === PieceType.UserDefined && p.piece.charCodeAt(0) === b) : false;
      this.plainAscii[b] = ruled || userDefinedStart ? 0 : 1;
    }
  }

  /** One normalization step: [replacement bytes, consumed input bytes]. */
  private normalizePrefix(input: Uint8Array, pos: number): [Uint8Array, number, number, number] {
    if (this.userDefined) {
      const len = this.userDefined.longestPrefixLength(input, pos, input.length);
      if (len > 0) return [input, pos, pos + len, len];
    }
    if (this.charsmap) {
      const m = this.charsmap.longestMatch(input, pos, input.length);
      if (m) {
        const r = this.charsmap.replacementBytes(m[1]);
        return [r, 0, r.length, m[0]];
      }
    }
    const len = Math.min(utf8CharLength(input[pos]!), input.length - pos);
    return [input, pos, pos + len, len];
  }

  /** SentencePiece's Normalizer::Normalize on UTF-8 bytes; the result is valid until the next call. */
  normalize(input: Uint8Array): Uint8Array {
    const spec = this.model.normalizer;
    const out = this.out;
    out.length = 0;
    let pos = 0;
    if (spec.removeExtraWhitespaces) {
      while (pos < input.length) {
        const [src, s, e, consumed] = this.normalizePrefix(input, pos);
        if (!(e - s === 1 && src[s] === SPACE)) break;
        pos += consumed;
      }
    }
    if (pos >= input.length) return out.view();
    const suffix = this.model.treatWhitespaceAsSuffix;
    const addWs = (): void => {
      if (spec.escapeWhitespaces) out.append(SPACE_SYMBOL, 0, SPACE_SYMBOL.length);
      else out.push(SPACE);
    };
    if (!suffix && spec.addDummyPrefix) addWs();
    let isPrevSpace = spec.removeExtraWhitespaces;
    const plain = this.plainAscii;
    while (pos < input.length) {
      const b = input[pos]!;
      if (b < 0x80 && plain[b]) {
        // Fast path, same semantics as below for a one-byte, unnormalized character.
        if (!(isPrevSpace && b === SPACE)) {
          if (b === SPACE && spec.escapeWhitespaces) out.append(SPACE_SYMBOL, 0, SPACE_SYMBOL.length);
          else out.push(b);
          isPrevSpace = b === SPACE;
        }
        pos++;
        if (!spec.removeExtraWhitespaces) isPrevSpace = false;
        continue;
      }
      const [src, s0, e, consumed] = this.normalizePrefix(input, pos);
      let s = s0;
      while (isPrevSpace && s < e && src[s] === SPACE) s++;
      if (s < e) {
        for (let i = s; i < e; i++) {
          if (spec.escapeWhitespaces && src[i] === SPACE) out.append(SPACE_SYMBOL, 0, SPACE_SYMBOL.length);
          else out.push(src[i]!);
        }
        isPrevSpace = src[e - 1] === SPACE;
      }
      pos += consumed;
      if (!spec.removeExtraWhitespaces) isPrevSpace = false;
    }
    if (spec.removeExtraWhitespaces) {
      const space = spec.escapeWhitespaces ? SPACE_SYMBOL : Buffer.from(' ');
      while (out.endsWith(space)) out.length -= space.length;
    }
    if (suffix && spec.addDummyPrefix) addWs();
    return out.view();
  }

  private segmentCached(bytes: Uint8Array): Segment[] {
    const cache = this.edgeCache!;
    const ws = this.wordStart;
    const w0 = ws[0]!;
    const n = bytes.length;
    if (n === 0) return [];
    this.segmenter.beginEdges(n);
    const latin1 = Buffer.from(bytes.buffer, bytes.byteOffset, n);
    let from = 0;
    while (from < n) {
      let to = from + 1;
      for (; to < n; to++) {
        if (bytes[to] !== w0) continue;
        let k = 1;
        while (k < ws.length && bytes[to + k] === ws[k]) k++;
        if (k === ws.length) break;
      }
      const key = latin1.toString('latin1', from, to);
      let wordEdges = cache.get(key);
      if (wordEdges === undefined) {
        wordEdges = [];
        this.segmenter.collectEdges(bytes.subarray(from, to), 0, to - from, to - from, wordEdges);
        if (cache.size > 100_000) cache.clear();
        cache.set(key, wordEdges);
      }
      this.segmenter.applyEdges(wordEdges, from);
      from = to;
    }
    return this.segmenter.finishEdges(n);
  }

  /** Encodes raw text as `sp.encode(text)` does: pieces (unknown runs keep their surface) and ids. */
  encode(text: string): SpmEncoded {
    const normalized = this.normalize(Buffer.from(text, 'utf8'));
    const segments = this.edgeCache ? this.segmentCached(normalized) : this.segmenter.segment(normalized, normalized.length);
    const pieces: string[] = [];
    const ids: number[] = [];
    const byteFallback = this.model.byteFallback;
    let prevUnk = false;
    for (const seg of segments) {
      const isUnk = seg.id === this.unkId;
      if (isUnk && byteFallback) {
        for (let i = seg.start; i < seg.end; i++) {
          const name = bytePieceName(normalized[i]!);
          pieces.push(name);
          ids.push(this.pieceToId.get(name) ?? this.unkId);
        }
      } else if (isUnk && prevUnk) {
        pieces[pieces.length - 1] += Buffer.from(normalized.subarray(seg.start, seg.end)).toString('utf8');
      } else {
        pieces.push(isUnk ? Buffer.from(normalized.subarray(seg.start, seg.end)).toString('utf8') : this.model.pieces[seg.id]!.piece);
        ids.push(seg.id);
      }
      prevUnk = isUnk;
    }
    return { pieces, ids };
  }
}
