/**
 * BM25 search that reproduces Lucene 8+/9 BM25Similarity as Anserini configures it:
 *   score(q, d) = sum over distinct query terms t of  w_t - w_t / (1 + tf * cache[norm(d)])
 *   w_t = qtf(t) * ln(1 + (N - df + 0.5) / (df + 0.5))       (Anserini boosts a repeated query term by its count)
 *   cache[n] = 1 / (k1 * ((1 - b) + b * LENGTH_TABLE[n] / avgdl)),  avgdl = sumTotalTermFreq / N
 * which equals w_t * tf / (tf + k1 * (1 - b + b * dl / avgdl)) with Lucene's lossy one-byte dl. Every step is
 * rounded to float32 as Java's float arithmetic does; clause scores are summed in double and the total
 * rounded to float32, as Lucene's disjunction scorers do.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, positiveInteger } from '../../errors.js';
import { compareHits } from '../hits.js';
import type { Hit } from '../types.js';
import { checkIndexFiles, readIdsFile, readIndexMeta } from '../meta.js';
import { analyze, ANALYZER_NAME } from './analyzer.js';
import type { Bm25Meta, Bm25Params } from './build.js';
import { checkBm25Params } from './build.js';
import { readLayout } from './format.js';
import { LENGTH_TABLE } from './small-float.js';

const f = Math.fround;

export class Bm25Index {
  private readonly terms: Map<string, number>;
  private readonly norms: Uint8Array;
  private readonly offsets: Float64Array;
  private readonly df: Uint32Array;
  private readonly postings: Uint8Array;
  private params: Bm25Params;
  private cache!: Float32Array;

  private constructor(readonly dir: string, readonly meta: Bm25Meta, readonly ids: string[], buf: Uint8Array, terms: string[]) {
    const path = join(dir, 'postings.bin');
    const layout = readLayout(buf, path);
    if (layout.numDocs !== meta.count) throw new InputError(path, undefined, `${layout.numDocs} documents, index.json says ${meta.count}`);
    if (layout.numTerms !== terms.length) throw new InputError(path, undefined, `${layout.numTerms} terms, terms.txt has ${terms.length}`);
    this.terms = new Map(terms.map((t, i) => [t, i]));
    const ab = buf.buffer;
    const base = buf.byteOffset;
    this.norms = new Uint8Array(ab, base + layout.normsOffset, layout.numDocs);
    this.offsets = new Float64Array(ab.slice(base + layout.offsetsOffset, base + layout.offsetsOffset + 8 * (layout.numTerms + 1)));
    this.df = new Uint32Array(ab.slice(base + layout.dfOffset, base + layout.dfOffset + 4 * layout.numTerms));
    this.postings = new Uint8Array(ab, base + layout.postingsOffset, layout.postingBytes);
    // The tables searches index with: offsets rise from 0 to the postings' end, no term is in more documents than exist.
    const o = this.offsets;
    for (let t = 0; t <= layout.numTerms; t++) {
      const prev = t === 0 ? 0 : o[t - 1]!;
      if (!Number.isSafeInteger(o[t]) || o[t]! < prev || (t === 0 && o[0] !== 0) || o[t]! > layout.postingBytes)
        throw new InputError(path, undefined, `offset table entry ${t} (${o[t]}) is out of order or beyond the ${layout.postingBytes} posting bytes (corrupt)`);
    }
    if (o[layout.numTerms] !== layout.postingBytes) throw new InputError(path, undefined, 'offset table does not end at the postings\' end (corrupt)');
    for (let t = 0; t < layout.numTerms; t++) if (this.df[t]! > layout.numDocs) throw new InputError(path, undefined, `term ${t} is in ${this.df[t]} of ${layout.numDocs} documents (corrupt)`);
    this.params = { k1: meta.k1, b: meta.b };
    this.setParams(this.params);
  }

  static open(dir: string): Bm25Index {
    const meta = readIndexMeta(dir) as Bm25Meta;
    if (meta.type !== 'bm25') throw new InputError(join(dir, 'index.json'), undefined, `type is "${meta.type}", expected "bm25"`);
    // Queries must be analyzed exactly as the documents were: an index from another analyzer is rebuilt, not read.
    if (meta.analyzer !== ANALYZER_NAME) throw new InputError(join(dir, 'index.json'), undefined, `built with analyzer "${meta.analyzer}", this version analyzes text as "${ANALYZER_NAME}" (rebuild the index)`);
    checkIndexFiles(dir, meta);
    const ids = readIdsFile(join(dir, 'ids.txt'), meta.count);
    const termsPath = join(dir, 'terms.txt');
    const terms = readIdsFile(termsPath, meta.terms);
    let buf: Buffer;
    try {
      buf = readFileSync(join(dir, 'postings.bin'));
    } catch {
      throw new InputError(join(dir, 'postings.bin'), undefined, 'missing (index folder incomplete)');
    }
    return new Bm25Index(dir, meta, ids, buf, terms);
  }

  get size(): number {
    return this.meta.count;
  }

  /** k1 and b are query-time parameters in Lucene; this changes them for later searches. */
  setParams(p: Partial<Bm25Params>): void {
    const next = { ...this.params, ...p };
    checkBm25Params(next);
    this.params = next;
    const k1 = f(next.k1), b = f(next.b);
    const avgdl = f(this.meta.sumTotalTermFreq / Math.max(1, this.meta.docCount));
    this.cache = new Float32Array(256);
    for (let i = 0; i < 256; i++) this.cache[i] = f(1 / f(k1 * f(f(1 - b) + f(f(b * LENGTH_TABLE[i]!) / avgdl))));
  }

  /** The analyzed query terms with their counts, in first-occurrence order. */
  queryTerms(query: string): Map<string, number> {
    const counts = new Map<string, number>();
    for (const t of analyze(query)) counts.set(t, (counts.get(t) ?? 0) + 1);
    return counts;
  }

  search(queries: string[], k: number): Hit[][] {
    positiveInteger('k', k);
    const acc = new Float64Array(this.size);
    const touched = new Uint8Array(this.size);
    return queries.map((q) => this.searchOne(q, k, acc, touched));
  }

  private searchOne(query: string, k: number, acc: Float64Array, touched: Uint8Array): Hit[] {
    const N = this.meta.docCount;
    const docs: number[] = [];
    for (const [term, qtf] of this.queryTerms(query)) {
      const t = this.terms.get(term);
      if (t === undefined) continue;
      const df = this.df[t]!;
      const idf = f(Math.log(1 + (N - df + 0.5) / (df + 0.5)));
      const weight = f(f(qtf) * idf);
      let pos = this.offsets[t]!;
      const end = this.offsets[t + 1]!;
      let doc = 0;
      let first = true;
      const p = this.postings;
      while (pos < end) {
        let delta = 0, shift = 1, byte: number;
        do { byte = p[pos++]!; delta += (byte & 0x7f) * shift; shift *= 128; } while (byte & 0x80);
        let tf = 0;
        shift = 1;
        do { byte = p[pos++]!; tf += (byte & 0x7f) * shift; shift *= 128; } while (byte & 0x80);
        doc += delta;
        // Documents ascend within a list and exist; a flipped byte must not yield hits without ids.
        if (pos > end || doc >= this.size || tf === 0 || (delta === 0 && !first)) this.corrupt(term);
        first = false;
        const score = f(weight - f(weight / f(1 + f(tf * this.cache[this.norms[doc]!]!))));
        if (!touched[doc]) {
          touched[doc] = 1;
          docs.push(doc);
          acc[doc] = 0;
        }
        acc[doc] += score;
      }
    }
    const hits: Hit[] = new Array(docs.length);
    for (let i = 0; i < docs.length; i++) {
      const d = docs[i]!;
      hits[i] = { id: this.ids[d]!, score: f(acc[d]!) };
      touched[d] = 0;
    }
    hits.sort(compareHits);
    if (hits.length > k) hits.length = k;
    return hits;
  }

  private corrupt(term: string): never {
    throw new InputError(join(this.dir, 'postings.bin'), undefined, `the postings of term ${JSON.stringify(term)} are corrupt (rebuild the index with \`densekit index --type bm25\`)`);
  }
}
