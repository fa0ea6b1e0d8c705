/**
 * SentencePiece's `precompiled_charsmap`: a Darts double-array trie over UTF-8 byte strings whose values
 * point into a pool of NUL-terminated replacement strings (nmt_nfkc, nfkc, ...). Two consumers read it
 * differently, and both are reproduced here:
 *  - SentencePiece itself (spiece.model) replaces the LONGEST matching prefix of the remaining input;
 *  - Hugging Face `tokenizers` (tokenizer.json's "Precompiled" normalizer) walks extended grapheme clusters
 *    and replaces a whole cluster shorter than 6 bytes by the SHORTEST rule matching its start, else each
 *    character by its own rule.
 */
import { utf8CharLength } from './byte-trie.js';
import { DoubleArray } from './darts.js';

export class Charsmap {
  private readonly trie: DoubleArray;
  private readonly pool: Uint8Array;
  private readonly decoded = new Map<number, string>();

  constructor(blob: Uint8Array) {
    if (blob.length < 4) throw new Error('precompiled_charsmap is shorter than its 4-byte header');
    const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const trieBytes = view.getUint32(0, true);
    if (trieBytes % 4 !== 0 || 4 + trieBytes > blob.length) throw new Error('precompiled_charsmap trie size exceeds the blob');
    const units = new Uint32Array(trieBytes / 4);
    for (let i = 0; i < units.length; i++) units[i] = view.getUint32(4 + i * 4, true);
    this.trie = new DoubleArray(units);
    this.pool = blob.slice(4 + trieBytes);
  }

  /** Replacement bytes (up to the pool's NUL) at a pool offset. */
  replacementBytes(offset: number): Uint8Array {
    let end = offset;
    while (end < this.pool.length && this.pool[end] !== 0) end++;
    return this.pool.subarray(offset, end);
  }

  private replacementString(offset: number): string {
    let s = this.decoded.get(offset);
    if (s === undefined) {
      s = Buffer.from(this.replacementBytes(offset)).toString('utf8');
      this.decoded.set(offset, s);
    }
    return s;
  }

  /** Whether some key starts with this byte (else the byte is always copied unchanged). */
  hasKeyStartingWith(byte: number): boolean {
    return this.trie.shortestPrefix(Uint8Array.of(byte), 0, 1) !== undefined || this.trie.hasChild(byte);
  }

  /** SentencePiece's rule: the longest key that prefixes bytes[start, end) as [length, pool offset]. */
  longestMatch(bytes: Uint8Array, start: number, end: number): [number, number] | undefined {
    return this.trie.longestPrefix(bytes, start, end);
  }

  /** Hugging Face's rule (spm_precompiled `transform`): the shortest key prefixing `chunk`, or undefined. */
  private transform(chunk: string): string | undefined {
    const bytes = Buffer.from(chunk, 'utf8');
    const m = this.trie.shortestPrefix(bytes, 0, bytes.length);
    return m === undefined ? undefined : this.replacementString(m[1]);
  }

  /**
   * SentencePiece's rule applied to a whole string (no whitespace handling): at each position the longest
   * matching key is replaced, otherwise one character is copied.
   */
  normalizeLongestMatch(text: string): string {
    const bytes = Buffer.from(text, 'utf8');
    let out: Buffer[] | undefined;
    let copiedFrom = 0;
    let pos = 0;
    while (pos < bytes.length) {
      const m = this.trie.longestPrefix(bytes, pos, bytes.length);
      if (m === undefined) {
        pos += Math.min(utf8CharLength(bytes[pos]!), bytes.length - pos);
        continue;
      }
      (out ??= []).push(bytes.subarray(copiedFrom, pos), Buffer.from(this.replacementBytes(m[1])));
      pos += m[0];
      copiedFrom = pos;
    }
    if (!out) return text;
    out.push(bytes.subarray(copiedFrom));
    return Buffer.concat(out).toString('utf8');
  }

  private asciiTable: (string | undefined)[] | undefined;

  /** Hugging Face `tokenizers`' Precompiled normalizer, grapheme by grapheme. */
  normalizeLikeTokenizers(text: string): string {
    if (!this.asciiTable) this.asciiTable = Array.from({ length: 128 }, (_, c) => this.transform(String.fromCharCode(c)));
    const table = this.asciiTable;
    if (/^[\x00-\x7f]*$/.test(text)) {
      // ASCII graphemes are single characters except "\r\n"; only that pair needs the cluster rule.
      let out = '';
      let changed = false;
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c === 13 && text.charCodeAt(i + 1) === 10) {
          const whole = this.transform('\r\n');
          if (whole !== undefined) {
            out += whole;
            i++;
            changed = true;
            continue;
          }
        }
        const r = table[c];
        if (r !== undefined) {
          out += r;
          changed = true;
        } else out += text[i];
      }
      return changed ? out : text;
    }
    let out = '';
    for (const { segment } of graphemeSegmenter().segment(text)) {
      if (Buffer.byteLength(segment, 'utf8') < 6) {
        const whole = this.transform(segment);
        if (whole !== undefined) {
          out += whole;
          continue;
        }
      }
      for (const ch of segment) {
        const code = ch.codePointAt(0)!;
        const r = code < 128 ? table[code] : this.transform(ch);
        out += r ?? ch;
      }
    }
    return out;
  }
}

let segmenter: Intl.Segmenter | undefined;
function graphemeSegmenter(): Intl.Segmenter {
  segmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  return segmenter;
}
