/**
 * BM25 index folder:
 *   index.json     type "bm25", k1, b, analyzer, collection statistics
 *   ids.txt        document ids, one per line, in document-number order
 *   terms.txt      the vocabulary, one term per line, in term-number order
 *   postings.bin   binary, little-endian:
 *                    [0..8)   magic "DKBM25\0\x01"
 *                    u32 numTerms, u32 numDocs, f64 postingBytes          (header: 24 bytes)
 *                    u8  norms[numDocs]          Lucene SmallFloat-encoded document lengths; padded to 8
 *                    f64 offsets[numTerms + 1]   byte offset of each term's postings in the postings block
 *                    u32 df[numTerms]            padded to 8
 *                    postings block: per term, per document: varint(doc - previous doc), varint(tf)
 * Every file is written to a temp name and renamed; index.json is written last.
 */
import { InputError } from '../../errors.js';

export const MAGIC = Buffer.from('DKBM25\0\x01', 'latin1');

export interface PostingsLayout {
  numTerms: number;
  numDocs: number;
  postingBytes: number;
  normsOffset: number;
  offsetsOffset: number;
  dfOffset: number;
  postingsOffset: number;
  totalBytes: number;
}

const pad8 = (n: number) => Math.ceil(n / 8) * 8;

export function layoutFor(numTerms: number, numDocs: number, postingBytes: number): PostingsLayout {
  const normsOffset = 24;
  const offsetsOffset = pad8(normsOffset + numDocs);
  const dfOffset = offsetsOffset + 8 * (numTerms + 1);
  const postingsOffset = pad8(dfOffset + 4 * numTerms);
  return { numTerms, numDocs, postingBytes, normsOffset, offsetsOffset, dfOffset, postingsOffset, totalBytes: postingsOffset + postingBytes };
}

export function readLayout(buf: Uint8Array, path: string): PostingsLayout {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.byteLength < 24 || !b.subarray(0, 8).equals(MAGIC)) throw new InputError(path, undefined, 'not a densekit BM25 postings file (bad magic)');
  const layout = layoutFor(b.readUInt32LE(8), b.readUInt32LE(12), b.readDoubleLE(16));
  if (b.byteLength !== layout.totalBytes) throw new InputError(path, undefined, `file is ${b.byteLength} bytes, its header implies ${layout.totalBytes} (truncated or corrupt)`);
  return layout;
}

/** Appends an unsigned LEB128 varint. */
export function pushVarint(out: number[], v: number): void {
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}
