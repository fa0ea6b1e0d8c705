/**
 * Sharded encoding across machines: `densekit encode --shard I/N` encodes the I-th of N contiguous slices of
 * the input by record number (slice I = records [floor(I * R / N), floor((I + 1) * R / N)) of R), so N jobs split
 * one corpus without talking to each other; the indexers then take the N output folders together and check
 * that they are one model's encoding of one whole input, in order.
 */
import { join } from 'node:path';
import { InputError, UsageError } from '../errors.js';
import { readNpy } from '../io/npy.js';
import { checkShard, readManifest, readShardIds, type EmbeddingManifest, type EncodeSlice, type ShardEntry } from '../formats/index.js';

export interface ShardSpec {
  index: number;
  of: number;
}

/** `I/N` with 0 <= I < N (N at most 100,000). */
export function parseShardSpec(text: string): ShardSpec {
  const m = /^(\d{1,6})\/(\d{1,6})$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const of = m ? Number(m[2]) : NaN;
  if (!m || of < 1 || of > 100_000 || index >= of) throw new UsageError(`--shard expects I/N with 0 <= I < N <= 100000, got "${text}"`);
  return { index, of };
}

export function sliceOf(spec: ShardSpec, records: number): EncodeSlice {
  const bound = (i: number) => Math.floor((i * records) / spec.of);
  return { index: spec.index, of: spec.of, start: bound(spec.index), end: bound(spec.index + 1), records };
}

/** One encode folder of a set, with where its rows sit in the whole input. */
export interface EmbeddingPart {
  dir: string;
  manifest: EmbeddingManifest;
  start: number;
  end: number;
}

/** The folders `densekit index --input DIR...` was given, checked to be one complete, gap-free encoding. */
export interface EmbeddingSet {
  parts: EmbeddingPart[];
  model: string;
  dim: number;
  similarity: EmbeddingManifest['similarity'];
  kind: EmbeddingManifest['kind'];
  /** Rows across all parts. */
  count: number;
}

function describe(p: EmbeddingPart): string {
  return `${p.dir} (records ${p.start}..${p.end - 1})`;
}

export function openEmbeddingSet(dirs: readonly string[]): EmbeddingSet {
  if (dirs.length === 0) throw new UsageError('--input needs at least one `densekit encode` folder');
  const parts: EmbeddingPart[] = dirs.map((dir) => {
    const manifest = readManifest(dir);
    if (!manifest.complete) throw new InputError(join(dir, 'manifest.json'), undefined, 'the encode run is not complete (resume `densekit encode` first)');
    const s = manifest.slice ?? { index: 0, of: 1, start: 0, end: manifest.total, records: manifest.total };
    const rows = manifest.shards.reduce((a, sh) => a + sh.rows, 0);
    if (rows !== s.end - s.start) throw new InputError(join(dir, 'manifest.json'), undefined, `${rows} rows in its shards but its slice covers ${s.end - s.start} records`);
    return { dir, manifest, start: s.start, end: s.end };
  });
  const first = parts[0]!;
  const records = first.manifest.slice?.records ?? first.manifest.total;
  for (const p of parts.slice(1)) {
    const m = p.manifest, f = first.manifest;
    const mixed = m.model !== f.model ? `model ${JSON.stringify(m.model)} vs ${JSON.stringify(f.model)}`
      : m.dim !== f.dim ? `dimension ${m.dim} vs ${f.dim}`
      : m.similarity !== f.similarity ? `similarity ${m.similarity} vs ${f.similarity}`
      : m.kind !== f.kind ? `kind ${m.kind} vs ${f.kind}`
      : m.truncated.maxLength !== f.truncated.maxLength ? `max length ${m.truncated.maxLength} vs ${f.truncated.maxLength}`
      : (m.slice?.records ?? m.total) !== records ? `an input of ${m.slice?.records ?? m.total} records vs ${records}`
      : undefined;
    if (mixed) throw new UsageError(`${p.dir} and ${first.dir} are not slices of one encoding: ${mixed}`);
  }
  parts.sort((a, b) => a.start - b.start || a.end - b.end);
  let next = 0;
  for (const p of parts) {
    if (p.start > next) throw new UsageError(`the encode folders leave a gap: records ${next}..${p.start - 1} of ${records} are in none of them (missing a --shard slice?)`);
    if (p.start < next) throw new UsageError(`the encode folders overlap: ${describe(p)} repeats records already in another folder`);
    next = p.end;
  }
  if (next !== records) throw new UsageError(`the encode folders leave a gap: records ${next}..${records - 1} of ${records} are in none of them (missing a --shard slice?)`);
  return { parts, model: first.manifest.model, dim: first.manifest.dim, similarity: first.manifest.similarity, kind: first.manifest.kind, count: records };
}

export interface SetShard {
  dir: string;
  entry: ShardEntry;
  manifest: EmbeddingManifest;
}

/** Every shard of the set, in input order. */
export function setShards(set: EmbeddingSet): SetShard[] {
  return set.parts.flatMap((p) => p.manifest.shards.map((entry) => ({ dir: p.dir, entry, manifest: p.manifest })));
}

/** One shard's vectors, checked against its manifest. */
export function readSetShardVectors(s: SetShard): Float32Array {
  checkShard(s.dir, s.manifest, s.entry);
  return readNpy(join(s.dir, s.entry.vectors)).data as Float32Array;
}

export function readSetShardIds(s: SetShard): string[] {
  return readShardIds(s.dir, s.entry, s.manifest);
}
