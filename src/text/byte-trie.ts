/**
 * A byte-keyed trie for vocabulary lookups over UTF-8 text (SentencePiece matches pieces on UTF-8 bytes).
 * Transitions live in one Map keyed by node * 256 + byte: compact, and a single hash lookup per byte.
 */
export class ByteTrie {
  private readonly next = new Map<number, number>();
  private values: Int32Array = new Int32Array(64).fill(-1);
  private nodeCount = 1;

  /** Adds a key; a later insert of the same key keeps the first value (SentencePiece rejects duplicates earlier). */
  insert(key: Uint8Array, value: number): void {
    let node = 0;
    for (let i = 0; i < key.length; i++) {
      const edge = node * 256 + key[i]!;
      let child = this.next.get(edge);
      if (child === undefined) {
        child = this.nodeCount++;
        this.next.set(edge, child);
        if (child >= this.values.length) {
          const grown = new Int32Array(this.values.length * 2).fill(-1);
          grown.set(this.values);
          this.values = grown;
        }
      }
      node = child;
    }
    if (this.values[node] === -1) this.values[node] = value;
  }

  /** Calls onMatch(value, length) for each key that is a prefix of bytes[start, end), shortest first. */
  forEachPrefix(bytes: Uint8Array, start: number, end: number, onMatch: (value: number, length: number) => void): void {
    let node = 0;
    const values = this.values;
    const next = this.next;
    for (let i = start; i < end; i++) {
      const child = next.get(node * 256 + bytes[i]!);
      if (child === undefined) return;
      node = child;
      const v = values[node]!;
      if (v !== -1) onMatch(v, i + 1 - start);
    }
  }

  /** The longest key that is a prefix of bytes[start, end): its length, or 0 when none matches. */
  longestPrefixLength(bytes: Uint8Array, start: number, end: number): number {
    let node = 0;
    let best = 0;
    for (let i = start; i < end; i++) {
      const child = this.next.get(node * 256 + bytes[i]!);
      if (child === undefined) break;
      node = child;
      if (this.values[node] !== -1) best = i + 1 - start;
    }
    return best;
  }

  /** Value of the exact key, or -1. */
  get(key: Uint8Array): number {
    let node = 0;
    for (let i = 0; i < key.length; i++) {
      const child = this.next.get(node * 256 + key[i]!);
      if (child === undefined) return -1;
      node = child;
    }
    return this.values[node]!;
  }
}

/** Length in bytes of the UTF-8 character starting with `lead`, as SentencePiece's OneCharLen computes it. */
export function utf8CharLength(lead: number): number {
  return lead < 0xc0 ? 1 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
}

/** A growable byte buffer for building normalized strings. */
export class ByteBuilder {
  bytes: Uint8Array;
  length = 0;
  constructor(capacity = 256) {
    this.bytes = new Uint8Array(capacity);
  }
  private ensure(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    let cap = this.bytes.length * 2;
    while (cap < this.length + extra) cap *= 2;
    const grown = new Uint8Array(cap);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }
  push(b: number): void {
    this.ensure(1);
    this.bytes[this.length++] = b;
  }
  append(src: Uint8Array, start: number, end: number): void {
    this.ensure(end - start);
    this.bytes.set(src.subarray(start, end), this.length);
    this.length += end - start;
  }
  endsWith(suffix: Uint8Array): boolean {
    if (suffix.length > this.length) return false;
    for (let i = 0; i < suffix.length; i++) if (this.bytes[this.length - suffix.length + i] !== suffix[i]) return false;
    return true;
  }
  view(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}
