/**
 * Reader for a Darts-clone double-array trie, the structure SentencePiece serialises inside
 * `precompiled_charsmap`. Keys are UTF-8 byte strings; each key's value is an offset into the
 * normalized-string pool.
 */
export class DoubleArray {
  constructor(private readonly units: Uint32Array) {}

  /**
   * Values and lengths of every key that is a prefix of bytes[start, end), shortest first, as Darts'
   * commonPrefixSearch returns them. `onMatch` returning true stops the search.
   */
  commonPrefixSearch(bytes: Uint8Array, start: number, end: number, onMatch: (value: number, length: number) => boolean | void): void {
    const units = this.units;
    let unit = units[0]!;
    let nodePos = offsetOf(unit);
    for (let i = start; i < end; i++) {
      const c = bytes[i]!;
      nodePos ^= c;
      unit = units[nodePos]!;
      if (unit === undefined || labelOf(unit) !== c) return;
      nodePos ^= offsetOf(unit);
      if ((unit >>> 8) & 1) {
        if (onMatch((units[nodePos]! & 0x7fffffff) >>> 0, i + 1 - start)) return;
      }
    }
  }

  /** The longest key that is a prefix of bytes[start, end): [length, value], or undefined. */
  longestPrefix(bytes: Uint8Array, start: number, end: number): [number, number] | undefined {
    const units = this.units;
    let unit = units[0]!;
    let nodePos = offsetOf(unit);
    let best: [number, number] | undefined;
    for (let i = start; i < end; i++) {
      const c = bytes[i]!;
      nodePos ^= c;
      unit = units[nodePos]!;
      if (unit === undefined || labelOf(unit) !== c) break;
      nodePos ^= offsetOf(unit);
      if ((unit >>> 8) & 1) best = [i + 1 - start, (units[nodePos]! & 0x7fffffff) >>> 0];
    }
    return best;
  }

  /** Whether the root has an edge labelled `byte`. */
  hasChild(byte: number): boolean {
    const units = this.units;
    const nodePos = offsetOf(units[0]!) ^ byte;
    const unit = units[nodePos];
    return unit !== undefined && labelOf(unit) === byte;
  }

  /** The shortest key that is a prefix of bytes[start, end): [length, value], or undefined. */
  shortestPrefix(bytes: Uint8Array, start: number, end: number): [number, number] | undefined {
    let found: [number, number] | undefined;
    this.commonPrefixSearch(bytes, start, end, (value, length) => {
      found = [length, value];
      return true;
    });
    return found;
  }
}

function offsetOf(unit: number): number {
  return ((unit >>> 10) << ((unit & (1 << 9)) >>> 6)) >>> 0;
}

function labelOf(unit: number): number {
  // A label unit has the leaf bit (bit 31) clear; comparing against a byte therefore also rejects leaves.
  return (unit & ((1 << 31) | 0xff)) >>> 0;
}
