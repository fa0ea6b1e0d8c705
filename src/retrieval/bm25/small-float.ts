/**
 * Lucene's SmallFloat int4 encoding of document lengths into one byte (the "norm"), as BM25Similarity
 * stores them: lengths up to 23 are exact, larger ones keep 4 significant bits. Scoring uses the decoded
 * (lossy) length, which is why Anserini's BM25 scores differ slightly from textbook BM25.
 */
function longToInt4(i: number): number {
  const numBits = i === 0 ? 0 : 32 - Math.clz32(i);
  if (numBits < 4) return i;
  const shift = numBits - 4;
  let encoded = Math.floor(i / 2 ** shift);
  encoded &= 0x07;
  encoded |= (shift + 1) << 3;
  return encoded;
}

function int4ToLong(i: number): number {
  const bits = i & 0x07;
  const shift = (i >>> 3) - 1;
  return shift === -1 ? bits : (bits | 0x08) * 2 ** shift;
}

const MAX_INT4 = longToInt4(0x7fffffff);
const NUM_FREE_VALUES = 255 - MAX_INT4;

export function intToByte4(i: number): number {
  if (!Number.isInteger(i) || i < 0 || i > 0x7fffffff) throw new RangeError(`intToByte4: ${i}`);
  return i < NUM_FREE_VALUES ? i : NUM_FREE_VALUES + longToInt4(i - NUM_FREE_VALUES);
}

export function byte4ToInt(b: number): number {
  const i = b & 0xff;
  return i < NUM_FREE_VALUES ? i : Math.min(NUM_FREE_VALUES + int4ToLong(i - NUM_FREE_VALUES), 0x7fffffff);
}

/** BM25Similarity.LENGTH_TABLE: the decoded length of every norm byte. */
export const LENGTH_TABLE: Float32Array = Float32Array.from({ length: 256 }, (_, i) => byte4ToInt(i));
