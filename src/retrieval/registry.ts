/**
 * The index registry: one entry per index type, `{ type -> build, open }`, and opening by location. A folder's
 * index.json names its type; a URL (`postgres://...`) names it by scheme. Callers (CLI, `beir`, the service,
 * the library) go through here and never test which class they got: a vector index comes back as a
 * VectorIndex, a lexical one as a Retriever. New backends call `registerIndexType`.
 */
import { DensekitError } from '../errors.js';
import { Bm25Retriever } from './bm25/retriever.js';
import { buildBm25Index, type Bm25Params } from './bm25/build.js';
import { Bm25Index } from './bm25/searcher.js';
import { DenseRetriever, type DenseRetrieverOptions } from './dense.js';
import { buildFlatIndex, FlatIndex, type FlatBuildOptions, type FlatSearchOptions } from './flat.js';
import { buildHnswIndex, HnswIndex, type HnswParams } from './hnsw.js';
import { readIndexMeta, type IndexMeta } from './meta.js';
import type { Retriever, TextEncoder, VectorIndex } from './types.js';

/** What each type reads at build time (each ignores the fields it does not know). */
export interface BuildOptions extends FlatBuildOptions, Partial<HnswParams>, Partial<Bm25Params> {
  threads?: number;
}

/** What each type reads when opening (each ignores the fields it does not know). */
export interface OpenOptions extends FlatSearchOptions {
  /** HNSW: candidates explored per query (default: the value the index was built with). */
  efSearch?: number;
}

export interface BuildResult {
  meta: IndexMeta;
  /** One line for people, e.g. "flat index: 1000 x 768 dot (float32)". */
  summary: string;
}

interface EntryBase {
  /** URL schemes this type is opened by (`postgres` for postgres://...); folders are opened by index.json. */
  schemes?: readonly string[];
  /** input: an embeddings folder (vector types) or a corpus file (lexical types). */
  build(input: string, location: string, opts: BuildOptions): Promise<BuildResult>;
}
export interface VectorEntry extends EntryBase {
  kind: 'vector';
  open(location: string, opts: OpenOptions): Promise<VectorIndex>;
}
export interface LexicalEntry extends EntryBase {
  kind: 'lexical';
  open(location: string, opts: OpenOptions): Promise<Retriever>;
}
export type RegistryEntry = VectorEntry | LexicalEntry;

const entries = new Map<string, RegistryEntry>();

export function registerIndexType(type: string, entry: RegistryEntry): void {
  if (entries.has(type)) throw new Error(`index type ${JSON.stringify(type)} is registered twice`);
  entries.set(type, entry);
}

export function indexTypes(): string[] {
  return [...entries.keys()];
}

export function indexEntry(type: string): RegistryEntry {
  const entry = entries.get(type);
  if (!entry) throw unknownType(`index type ${JSON.stringify(type)}`);
  return entry;
}

function unknownType(what: string): DensekitError {
  return new DensekitError(`${what} is not one densekit knows (known: ${indexTypes().join(', ')})`, { code: 'DENSEKIT_UNKNOWN_INDEX_TYPE' });
}

/** The type of the index at a location: its URL scheme's, or the `type` its folder's index.json records. */
export function indexTypeAt(location: string): string {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(location)?.[1]?.toLowerCase();
  if (scheme === undefined) return indexEntryType(readIndexMeta(location).type, location);
  for (const [type, e] of entries) if (e.schemes?.includes(scheme)) return type;
  throw unknownType(`${location}: the scheme "${scheme}://"`);
}

function indexEntryType(type: string, location: string): string {
  if (!entries.has(type)) throw unknownType(`${location}: index.json's type ${JSON.stringify(type)}`);
  return type;
}

export function buildIndex(type: string, input: string, location: string, opts: BuildOptions = {}): Promise<BuildResult> {
  return indexEntry(type).build(input, location, opts);
}

export type OpenedIndex = { type: string; kind: 'vector'; index: VectorIndex } | { type: string; kind: 'lexical'; retriever: Retriever };

export async function openIndex(location: string, opts: OpenOptions = {}): Promise<OpenedIndex> {
  const type = indexTypeAt(location);
  const entry = indexEntry(type);
  return entry.kind === 'vector'
    ? { type, kind: 'vector', index: await entry.open(location, opts) }
    : { type, kind: 'lexical', retriever: await entry.open(location, opts) };
}

/**
 * A Retriever over the index at `location`: a lexical index as it is, a vector index behind a DenseRetriever
 * with `encoder` (which may be undefined when every query will carry its vector).
 */
export async function openRetriever(location: string, encoder: TextEncoder | undefined, opts: OpenOptions & DenseRetrieverOptions = {}): Promise<Retriever> {
  const opened = await openIndex(location, opts);
  if (opened.kind === 'lexical') return opened.retriever;
  try {
    return new DenseRetriever(encoder, opened.index, opts);
  } catch (e) {
    await opened.index.close();
    throw e;
  }
}

registerIndexType('flat', {
  kind: 'vector',
  async build(input, location, opts) {
    const m = buildFlatIndex(input, location, opts);
    return { meta: m, summary: `flat index: ${m.count} x ${m.dim} ${m.similarity} (${m.storage})` };
  },
  open: (location, opts) => FlatIndex.open(location, opts),
});

registerIndexType('hnsw', {
  kind: 'vector',
  async build(input, location, opts) {
    const params: Partial<HnswParams> = { ...(opts.M ? { M: opts.M } : {}), ...(opts.efConstruction ? { efConstruction: opts.efConstruction } : {}), ...(opts.efSearch ? { efSearch: opts.efSearch } : {}) };
    const m = await buildHnswIndex(input, location, params, opts.threads ?? 0);
    return { meta: m, summary: `hnsw index: ${m.count} x ${m.dim} ${m.similarity} (M=${m.hnsw.M}, efConstruction=${m.hnsw.efConstruction}, efSearch=${m.hnsw.efSearch})` };
  },
  open: (location, opts) => HnswIndex.open(location, { ...(opts.efSearch ? { efSearch: opts.efSearch } : {}), ...(opts.threads !== undefined ? { threads: opts.threads } : {}) }),
});

registerIndexType('bm25', {
  kind: 'lexical',
  async build(input, location, opts) {
    const m = await buildBm25Index(input, location, { ...(opts.k1 !== undefined ? { k1: opts.k1 } : {}), ...(opts.b !== undefined ? { b: opts.b } : {}) });
    return { meta: m, summary: `bm25 index: ${m.count} documents, ${m.terms} terms, ${m.sumTotalTermFreq} tokens (k1=${m.k1}, b=${m.b})` };
  },
  open: async (location) => new Bm25Retriever(Bm25Index.open(location)),
});
