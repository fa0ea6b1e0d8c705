/**
 * `densekit verify PATH`: checks a folder densekit wrote against what it recorded when it wrote it. Every
 * recorded file is hashed (size and sha256, src/util/checksums.ts), then the folder is opened the way the
 * commands that read it open it (headers, counts, ids), so a folder written before checksums were recorded is
 * still checked as far as it can be. A folder with no descriptor of its own (a BEIR cache, a training output)
 * is searched for the densekit folders inside it.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DensekitError, InputError } from '../errors.js';
import { checkShard, manifestPath, readManifest, readShardIds } from '../formats/index.js';
import { readSentenceTransformer } from '../io/sentence-transformers.js';
import { Bm25Index } from '../retrieval/bm25/searcher.js';
import { FlatIndex } from '../retrieval/flat.js';
import { checkGraphFile } from '../retrieval/hnsw-file.js';
import { metaPath, readIndexMeta } from '../retrieval/meta.js';
import { FOLDER_RECORDS, NO_CHECKSUMS, readFolderRecords, verifyRecordedFiles, type FileRecords } from '../util/checksums.js';

export type VerifyStatus = 'ok' | 'bad' | 'note';

/** One line of the report: a file (or a folder's structure) and what was found. */
export interface VerifyLine {
  status: VerifyStatus;
  path: string;
  detail: string;
}

const DESCRIPTORS = ['index.json', 'manifest.json', FOLDER_RECORDS, 'latest.json'];
/** How deep a folder without a descriptor is searched (a BEIR cache: cache/dataset/model/emb). */
const MAX_DEPTH = 4;

function message(e: unknown): string {
  if (e instanceof DensekitError) return e.message;
  const code = (e as NodeJS.ErrnoException).code;
  if (typeof code === 'string') return `cannot read (${code})`;
  throw e;
}

/** The hashed files, then the names the folder's readers need that carry no record. */
function fileLines(dir: string, files: FileRecords | undefined, descriptor: string, needed: readonly string[]): VerifyLine[] {
  if (!files) return [{ status: 'note', path: dir, detail: `${NO_CHECKSUMS}; checking sizes, headers and counts only` }];
  const lines: VerifyLine[] = verifyRecordedFiles(dir, files, descriptor).map((c) => (
    c.problem === null ? { status: 'ok', path: c.path, detail: `${files[c.path.slice(dir.length + 1)]!.bytes} bytes, sha256 matches` } : { status: 'bad', path: c.path, detail: c.problem }
  ));
  for (const name of needed) if (!files[name]) lines.push({ status: 'bad', path: join(dir, name), detail: `not recorded in ${descriptor} (the folder was changed after it was written)` });
  return lines;
}

/** Runs a reader's checks; its first complaint becomes one 'bad' line. */
async function structure(path: string, what: string, check: () => unknown): Promise<VerifyLine> {
  try {
    await check();
    return { status: 'ok', path, detail: what };
  } catch (e) {
    return { status: 'bad', path, detail: message(e) };
  }
}

async function verifyIndex(dir: string): Promise<VerifyLine[]> {
  let meta;
  try {
    meta = readIndexMeta(dir);
  } catch (e) {
    return [{ status: 'bad', path: metaPath(dir), detail: message(e) }];
  }
  const needed = meta.type === 'bm25' ? ['postings.bin', 'ids.txt', 'terms.txt']
    : meta.type === 'flat' || meta.type === 'hnsw'
      ? ['vectors.f32', 'ids.txt', ...(meta.storage === 'int8' ? ['vectors.i8', 'int8-scales.f32'] : meta.storage === 'bf16' ? ['vectors.bf16'] : []), ...(meta.type === 'hnsw' ? ['graph.usearch'] : [])]
      : [];
  const lines = fileLines(dir, meta.files, 'index.json', needed);
  const m = meta;
  if (m.type === 'bm25') lines.push(await structure(dir, `opens as a BM25 index of ${m.count} documents`, () => Bm25Index.open(dir)));
  else if (m.type === 'flat' || m.type === 'hnsw') {
    lines.push(await structure(dir, `opens as a ${m.type} index of ${m.count} x ${m.dim as number} vectors`, async () => {
      // The exact kernel: nothing to load or measure, only the files' checks.
      await FlatIndex.open(dir, { kernel: 'js' });
      if (m.type === 'hnsw') checkGraphFile(join(dir, 'graph.usearch'), { count: m.count, dim: m.dim as number, M: (m.hnsw as { M: number }).M });
    }));
  } else lines.push({ status: 'note', path: dir, detail: `index type "${m.type}" keeps its data elsewhere; only index.json checked` });
  return lines;
}

async function verifyEncode(dir: string): Promise<VerifyLine[]> {
  let m;
  try {
    m = readManifest(dir);
  } catch (e) {
    return [{ status: 'bad', path: manifestPath(dir), detail: message(e) }];
  }
  const lines = fileLines(dir, m.files, 'manifest.json', m.shards.flatMap((s) => [s.ids, s.vectors]));
  const rows = m.shards.reduce((a, s) => a + s.rows, 0);
  lines.push(await structure(dir, `${m.shards.length} shard(s), ${rows} of ${m.total} rows${m.complete ? '' : ' (job not complete: resume `densekit encode`)'}`, () => {
    for (const s of m.shards) {
      checkShard(dir, m, s);
      readShardIds(dir, s, m);
    }
  }));
  return lines;
}

/** A model or checkpoint folder: its densekit-files.json records, then its sentence-transformers layout. */
async function verifyModel(dir: string): Promise<VerifyLine[]> {
  let files;
  try {
    files = readFolderRecords(dir);
  } catch (e) {
    return [{ status: 'bad', path: join(dir, FOLDER_RECORDS), detail: message(e) }];
  }
  const lines = fileLines(dir, files, FOLDER_RECORDS, []);
  if (existsSync(join(dir, 'modules.json')) || existsSync(join(dir, 'config.json')))
    lines.push(await structure(dir, 'reads as a sentence-transformers model', () => readSentenceTransformer(dir)));
  return lines;
}

/** A training stage folder: the checkpoint latest.json points to. */
async function verifyStage(dir: string): Promise<VerifyLine[]> {
  const pointer = join(dir, 'latest.json');
  let checkpoint: unknown;
  try {
    checkpoint = (JSON.parse(readFileSync(pointer, 'utf8')) as { checkpoint?: unknown }).checkpoint;
  } catch (e) {
    return [{ status: 'bad', path: pointer, detail: e instanceof SyntaxError ? `not JSON (${e.message})` : message(e) }];
  }
  if (typeof checkpoint !== 'string' || !/^checkpoint-\d+$/.test(checkpoint) || !existsSync(join(dir, checkpoint)))
    return [{ status: 'bad', path: pointer, detail: `points to ${JSON.stringify(checkpoint)}, expected an existing checkpoint-N folder beside it` }];
  return verifyModel(join(dir, checkpoint));
}

async function verifyFolder(dir: string, depth: number): Promise<VerifyLine[] | undefined> {
  if (existsSync(join(dir, 'index.json'))) return verifyIndex(dir);
  if (existsSync(join(dir, 'manifest.json'))) return verifyEncode(dir);
  const lines: VerifyLine[] = [];
  if (existsSync(join(dir, FOLDER_RECORDS))) lines.push(...await verifyModel(dir));
  if (existsSync(join(dir, 'latest.json'))) lines.push(...await verifyStage(dir));
  if (lines.length) return lines;
  if (depth >= MAX_DEPTH) return undefined;
  let found = false;
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.') || name.startsWith('checkpoint-')) continue; // temp folders; checkpoints via latest.json
    const p = join(dir, name);
    if (!statSync(p).isDirectory()) continue;
    const sub = await verifyFolder(p, depth + 1);
    if (sub) {
      found = true;
      lines.push(...sub);
    }
  }
  return found ? lines : undefined;
}

/** Verifies PATH (a folder, or one of the descriptors in it); throws when PATH holds nothing densekit wrote. */
export async function verifyPath(path: string): Promise<VerifyLine[]> {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new InputError(path, undefined, message(e));
  }
  const dir = st.isDirectory() ? path : DESCRIPTORS.includes(basename(path)) ? dirname(path) : null;
  if (dir === null) throw new InputError(path, undefined, `not a densekit folder or descriptor (give an index, encode, model or checkpoint folder, or its ${DESCRIPTORS.join(' / ')})`);
  const lines = await verifyFolder(dir, 0);
  if (!lines) throw new InputError(path, undefined, `holds no densekit folder (no ${DESCRIPTORS.join(', ')} in it or up to ${MAX_DEPTH} levels below)`);
  return lines;
}
