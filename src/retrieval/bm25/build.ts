/** Builds a BM25 inverted index from a BEIR corpus.jsonl ("flat": title and text in one field, src/formats recordText). */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../errors.js';
import { INDEX_FORMAT, metaPath, writeIndexMeta, type IndexMeta } from '../meta.js';
import { removeStaleTemps, writeFileAtomicSync } from '../../util/fs.js';
import { Progress } from '../../util/progress.js';
import { readBeirCorpus, recordText } from '../../formats/index.js';
import { analyze, ANALYZER_NAME } from './analyzer.js';
import { layoutFor, MAGIC, pushVarint } from './format.js';
import { intToByte4 } from './small-float.js';

export interface Bm25Params {
  k1: number;
  b: number;
}

export const ANSERINI_BM25: Bm25Params = { k1: 0.9, b: 0.4 };

export interface Bm25Meta extends IndexMeta {
  type: 'bm25';
  k1: number;
  b: number;
  analyzer: typeof ANALYZER_NAME;
  fields: 'flat';
  /** Documents with at least one indexed term (Lucene's docCount, the N of idf). */
  docCount: number;
  /** Total number of indexed tokens (Lucene's sumTotalTermFreq). */
  sumTotalTermFreq: number;
  terms: number;
  source: string;
}

export function checkBm25Params(p: Bm25Params): void {
  if (!(Number.isFinite(p.k1) && p.k1 >= 0)) throw new UsageError(`BM25 k1 must be a non-negative number, got ${p.k1}`);
  if (!(Number.isFinite(p.b) && p.b >= 0 && p.b <= 1)) throw new UsageError(`BM25 b must be in [0, 1], got ${p.b}`);
}

export async function buildBm25Index(corpusPath: string, outDir: string, params: Partial<Bm25Params> = {}): Promise<Bm25Meta> {
  const p = { ...ANSERINI_BM25, ...params };
  checkBm25Params(p);
  mkdirSync(outDir, { recursive: true });
  rmSync(metaPath(outDir), { force: true });
  removeStaleTemps(outDir);

  const ids: string[] = [];
  const norms: number[] = [];
  const termIds = new Map<string, number>();
  const postDocs: number[][] = [];
  const postTfs: number[][] = [];
  let sumTotalTermFreq = 0;
  let docCount = 0;
  const progress = new Progress({ label: 'bm25 index', unit: 'docs' });
  // The reader refuses bad bytes, ids a run cannot hold, duplicate ids and an empty corpus (an index of nothing
  // would answer every query with no hits, quietly).
  for await (const doc of readBeirCorpus(corpusPath)) {
    const docNo = ids.length;
    ids.push(doc.id);
    const tokens = analyze(recordText(doc));
    const tf = new Map<string, number>();
    for (const t of tokens) tf.set(t, (tf.get(t) ?? 0) + 1);
    for (const [term, count] of tf) {
      let id = termIds.get(term);
      if (id === undefined) {
        id = termIds.size;
        termIds.set(term, id);
        postDocs.push([]);
        postTfs.push([]);
      }
      postDocs[id]!.push(docNo);
      postTfs[id]!.push(count);
    }
    norms.push(intToByte4(tokens.length));
    sumTotalTermFreq += tokens.length;
    if (tokens.length > 0) docCount++;
    progress.tick();
  }
  progress.finish();

  const bytes: number[] = [];
  const offsets = new Float64Array(termIds.size + 1);
  const df = new Uint32Array(termIds.size);
  const chunks: Uint8Array[] = [];
  let postingBytes = 0;
  for (let t = 0; t < termIds.size; t++) {
    offsets[t] = postingBytes;
    const docs = postDocs[t]!;
    const tfs = postTfs[t]!;
    df[t] = docs.length;
    let prev = 0;
    bytes.length = 0;
    for (let i = 0; i < docs.length; i++) {
      pushVarint(bytes, docs[i]! - prev);
      pushVarint(bytes, tfs[i]!);
      prev = docs[i]!;
    }
    chunks.push(Uint8Array.from(bytes));
    postingBytes += bytes.length;
  }
  offsets[termIds.size] = postingBytes;

  const layout = layoutFor(termIds.size, ids.length, postingBytes);
  const head = new Uint8Array(layout.postingsOffset);
  const dv = new DataView(head.buffer);
  head.set(MAGIC, 0);
  dv.setUint32(8, layout.numTerms, true);
  dv.setUint32(12, layout.numDocs, true);
  dv.setFloat64(16, postingBytes, true);
  head.set(norms, layout.normsOffset);
  for (let i = 0; i < offsets.length; i++) dv.setFloat64(layout.offsetsOffset + 8 * i, offsets[i]!, true);
  for (let i = 0; i < df.length; i++) dv.setUint32(layout.dfOffset + 4 * i, df[i]!, true);

  const files = {
    'postings.bin': writeFileAtomicSync(join(outDir, 'postings.bin'), [head, ...chunks]),
    'ids.txt': writeFileAtomicSync(join(outDir, 'ids.txt'), ids.join('\n') + (ids.length ? '\n' : '')),
    'terms.txt': writeFileAtomicSync(join(outDir, 'terms.txt'), [...termIds.keys()].join('\n') + (termIds.size ? '\n' : '')),
  };
  const meta: Bm25Meta = {
    format: INDEX_FORMAT, version: 1, type: 'bm25', count: ids.length, k1: p.k1, b: p.b, analyzer: ANALYZER_NAME,
    fields: 'flat', docCount, sumTotalTermFreq, terms: termIds.size, source: corpusPath, files,
  };
  writeIndexMeta(outDir, meta);
  return meta;
}
