/**
 * Unigram-LM segmentation: the Viterbi best path over all vocabulary pieces matching the (normalized)
 * UTF-8 text, with SentencePiece's unknown handling (a one-character UNK node scored min_score - 10 where no
 * single-character piece exists). This is SentencePiece's `EncodeOptimized`, which Hugging Face
 * `tokenizers` also ports; the two differ only in arithmetic (float32 vs float64 path scores) and in which
 * pieces are candidates, both of which the options select.
 */
import { ByteTrie, utf8CharLength } from './byte-trie.js';

export interface UnigramOptions {
  /** Piece bytes -> id for every candidate piece. */
  trie: ByteTrie;
  /** Score per id. */
  scores: Float64Array;
  unkId: number;
  /** Score given to an unknown character. */
  unkScore: number;
  /** Accumulate path scores in float32 as SentencePiece does (false: float64, as `tokenizers`). */
  float32: boolean;
  /** Ids that never match (SentencePiece's UNUSED pieces). */
  unused?: Uint8Array;
  /** Ids of user-defined symbols, scored length * maxScore - 0.1 so they always win. */
  userDefined?: Uint8Array;
  maxScore?: number;
}

export interface Segment {
  /** Byte offsets into the segmented text. */
  start: number;
  end: number;
  id: number;
}

export class UnigramSegmenter {
  private bestScore = new Float64Array(0);
  private bestStart = new Int32Array(0);
  private bestId = new Int32Array(0);

  constructor(private readonly o: UnigramOptions) {}

  /**
   * The lattice edges starting in bytes[from, to) as flat (start, length, id) triples, in the order the
   * Viterbi visits them (by start, then by length; the UNK edge last). Matches are searched up to `limit`.
   */
  collectEdges(bytes: Uint8Array, from: number, to: number, limit: number, out: number[]): void {
    const { trie, unkId, unused } = this.o;
    let startsAt = from;
    while (startsAt < to) {
      const mblen = Math.min(utf8CharLength(bytes[startsAt]!), limit - startsAt);
      let hasSingleNode = false;
      const s = startsAt;
      trie.forEachPrefix(bytes, s, limit, (id, length) => {
        if (unused !== undefined && unused[id]) return;
        out.push(s - from, length, id);
        if (length === mblen) hasSingleNode = true;
      });
      if (!hasSingleNode) out.push(s - from, mblen, -1 - unkId);
      startsAt += mblen;
    }
  }

  /**
   * Viterbi over precomputed edges, fed word by word: beginEdges(size), applyEdges(...) in text order,
   * finishEdges(size). Exactly the arithmetic and tie order of segment().
   */
  beginEdges(size: number): void {
    this.ensure(size);
    this.bestStart.fill(-1, 0, size + 1);
    this.bestScore[0] = 0;
  }

  applyEdges(edges: readonly number[], offset: number): void {
    const { scores, unkScore, float32, userDefined } = this.o;
    const maxScore = this.o.maxScore ?? 0;
    const bestScore = this.bestScore;
    const bestStart = this.bestStart;
    const bestId = this.bestId;
    for (let k = 0; k < edges.length; k += 3) {
      const start = edges[k]! + offset;
      const length = edges[k + 1]!;
      let id = edges[k + 2]!;
      const tillHere = bestScore[start]!;
      const keyPos = start + length;
      let candidate: number;
      let stored: number;
      if (id < 0) {
        id = -1 - id;
        candidate = stored = float32 ? Math.fround(unkScore + tillHere) : unkScore + tillHere;
      } else if (userDefined !== undefined && userDefined[id]) {
        candidate = length * maxScore - 0.1 + tillHere;
        stored = float32 ? Math.fround(candidate) : candidate;
      } else {
        candidate = stored = float32 ? Math.fround(scores[id]! + tillHere) : scores[id]! + tillHere;
      }
      if (bestStart[keyPos] === -1 || candidate > bestScore[keyPos]!) {
        bestScore[keyPos] = stored;
        bestStart[keyPos] = start;
        bestId[keyPos] = id;
      }
    }
  }

  finishEdges(size: number): Segment[] {
    const out: Segment[] = [];
    for (let end = size; end > 0; ) {
      const start = this.bestStart[end]!;
      out.push({ start, end, id: this.bestId[end]! });
      end = start;
    }
    return out.reverse();
  }

  private ensure(size: number): void {
    if (this.bestScore.length < size + 1) {
      const cap = Math.max(size + 1, this.bestScore.length * 2);
      this.bestScore = new Float64Array(cap);
      this.bestStart = new Int32Array(cap);
      this.bestId = new Int32Array(cap);
    }
  }

  /** Best segmentation of bytes[0, size) as consecutive segments (unknown characters are separate segments). */
  segment(bytes: Uint8Array, size: number): Segment[] {
    if (size === 0) return [];
    this.ensure(size);
    const { trie, scores, unkId, unkScore, float32, unused, userDefined } = this.o;
    const maxScore = this.o.maxScore ?? 0;
    const bestScore = this.bestScore;
    const bestStart = this.bestStart;
    const bestId = this.bestId;
    bestStart.fill(-1, 0, size + 1);
    bestScore[0] = 0;
    let startsAt = 0;
    while (startsAt < size) {
      const tillHere = bestScore[startsAt]!;
      const mblen = Math.min(utf8CharLength(bytes[startsAt]!), size - startsAt);
      let hasSingleNode = false;
      trie.forEachPrefix(bytes, startsAt, size, (id, length) => {
        if (unused !== undefined && unused[id]) return;
        const keyPos = startsAt + length;
        let candidate: number;
        let stored: number;
        if (userDefined !== undefined && userDefined[id]) {
          // SentencePiece computes this bonus in double and stores the path score as float.
          candidate = length * maxScore - 0.1 + tillHere;
          stored = float32 ? Math.fround(candidate) : candidate;
        } else {
          candidate = float32 ? Math.fround(scores[id]! + tillHere) : scores[id]! + tillHere;
          stored = candidate;
        }
        if (bestStart[keyPos] === -1 || candidate > bestScore[keyPos]!) {
          bestScore[keyPos] = stored;
          bestStart[keyPos] = startsAt;
          bestId[keyPos] = id;
        }
        if (length === mblen) hasSingleNode = true;
      });
      if (!hasSingleNode) {
        const keyPos = startsAt + mblen;
        const candidate = float32 ? Math.fround(unkScore + tillHere) : unkScore + tillHere;
        if (bestStart[keyPos] === -1 || candidate > bestScore[keyPos]!) {
          bestScore[keyPos] = candidate;
          bestStart[keyPos] = startsAt;
          bestId[keyPos] = unkId;
        }
      }
      startsAt += mblen;
    }
    const out: Segment[] = [];
    for (let end = size; end > 0; ) {
      const start = bestStart[end]!;
      out.push({ start, end, id: bestId[end]! });
      end = start;
    }
    return out.reverse();
  }
}

/** SentencePiece's byte-fallback piece name for one byte: `<0x0A>`. */
export function bytePieceName(b: number): string {
  return `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
}
