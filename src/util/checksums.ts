/**
 * What lets a densekit output be verified later: every file a later command reads is recorded, by its name
 * relative to the folder, with its byte size and sha256, in the folder's descriptor (index.json and
 * manifest.json: field "files") or, for model and checkpoint folders (whose layout is sentence-transformers'
 * and has no densekit descriptor), in `densekit-files.json`.
 *
 * Opening checks sizes only (a stat per file: truncation, a half-copied folder), because hashing a 600 MB
 * matrix on every open would cost more than the open itself; `densekit verify` hashes everything.
 * sha256 rather than a faster non-cryptographic hash: writers hash as they write (AtomicWriter), and Node's
 * OpenSSL sha256 (SHA-NI) keeps up with the disk, so a second hash library buys nothing (figures in the
 * verify tests' notes and the lead's report).
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { InputError } from '../errors.js';
import { writeFileAtomicSync, type FileRecord } from './fs.js';
import { readJsonFileSync } from './lines.js';

export type { FileRecord } from './fs.js';

/** Recorded files by name (relative to the folder, '/'-separated). */
export type FileRecords = Record<string, FileRecord>;

/** The descriptor of a folder with no densekit descriptor of its own (a model or checkpoint folder). */
export const FOLDER_RECORDS = 'densekit-files.json';
export const FOLDER_RECORDS_FORMAT = 'densekit-files';

/** What verify says of a folder written before checksums were recorded. */
export const NO_CHECKSUMS = 'no checksums recorded (built before densekit recorded them: densekit 0.1.0 builds of 2026-12-02 and earlier)';

const CHUNK = 8 << 20;

/** Size and sha256 of a file's bytes, read in 8 MiB chunks (a multi-GB file never sits in memory). */
export function hashFileSync(path: string): FileRecord {
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(CHUNK);
  const fd = openSync(path, 'r');
  let bytes = 0;
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
      bytes += n;
    }
  } finally {
    closeSync(fd);
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** A recorded name stays inside its folder: relative, no `..`, no empty or hidden segment. */
function safeName(name: string): boolean {
  if (name === '' || name.startsWith('/') || name.includes('\\') || name.includes('\0')) return false;
  return name.split('/').every((seg) => seg !== '' && seg !== '..' && seg !== '.');
}

/**
 * Checks the shape of a descriptor's "files" field; undefined when absent (written before checksums were
 * recorded). A hostile descriptor cannot point verify or open outside the folder.
 */
export function readFileRecords(value: unknown, descriptor: string, field = 'files'): FileRecords | undefined {
  if (value === undefined) return undefined;
  const bad = (what: string): never => {
    throw new InputError(descriptor, undefined, `field "${field}" ${what}, expected {"NAME": {"bytes": N, "sha256": "64 hex digits"}, ...}`);
  };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) bad(`is ${JSON.stringify(value)}`);
  const out: FileRecords = {};
  for (const [name, r] of Object.entries(value as Record<string, unknown>)) {
    if (!safeName(name)) bad(`names ${JSON.stringify(name)}, a path leaving the folder`);
    const rec = r as Record<string, unknown> | null;
    if (rec === null || typeof rec !== 'object' || !Number.isSafeInteger(rec.bytes) || (rec.bytes as number) < 0 ||
      typeof rec.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(rec.sha256))
      bad(`has ${JSON.stringify(name)}: ${JSON.stringify(r)}`);
    out[name] = { bytes: rec!.bytes as number, sha256: rec!.sha256 as string };
  }
  return out;
}

/**
 * The cheap check on open: every recorded file (or the `names` given) exists with its recorded size. Throws an
 * InputError naming the first file that differs.
 */
export function checkRecordedSizes(dir: string, files: FileRecords | undefined, descriptor: string, names?: readonly string[]): void {
  if (!files) return;
  for (const name of names ?? Object.keys(files)) {
    const rec = files[name];
    if (!rec) continue;
    const path = join(dir, name);
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      throw new InputError(path, undefined, `missing, ${descriptor} records it (folder incomplete)`);
    }
    if (size !== rec.bytes) throw new InputError(path, undefined, `${size} bytes, ${descriptor} records ${rec.bytes} (truncated or corrupt; \`densekit verify\` checks the whole folder)`);
  }
}

/** One verified file: null problem when size and sha256 match the record. */
export interface FileCheck {
  path: string;
  problem: string | null;
}

/** The full check: every recorded file hashed and compared with its record. */
export function verifyRecordedFiles(dir: string, files: FileRecords, descriptor: string): FileCheck[] {
  return Object.entries(files).map(([name, rec]) => {
    const path = join(dir, name);
    let now: FileRecord;
    try {
      now = hashFileSync(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return { path, problem: code === 'ENOENT' ? `missing, ${descriptor} records it` : `cannot read (${code ?? (e as Error).message})` };
    }
    if (now.bytes !== rec.bytes) return { path, problem: `${now.bytes} bytes, ${descriptor} records ${rec.bytes} (truncated or corrupt)` };
    if (now.sha256 !== rec.sha256) return { path, problem: `sha256 ${now.sha256.slice(0, 12)}... differs from the ${rec.sha256.slice(0, 12)}... ${descriptor} records (corrupt or changed)` };
    return { path, problem: null };
  });
}

/** Every regular file under `dir` by '/'-separated relative name, sorted; hidden names (temp files) skipped. */
function folderFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      if (name.startsWith('.') || (d === dir && name === FOLDER_RECORDS)) continue;
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) out.push(relative(dir, p).split(sep).join('/'));
    }
  };
  walk(dir);
  return out;
}

/**
 * Records every file of a folder in its densekit-files.json. `known` records (from the writers, who hashed as
 * they wrote) are taken as they are; the other files are hashed here.
 */
export function writeFolderRecords(dir: string, known: FileRecords = {}): FileRecords {
  const files: FileRecords = {};
  for (const name of folderFiles(dir)) {
    const k = known[name];
    files[name] = k && statSync(join(dir, name)).size === k.bytes ? k : hashFileSync(join(dir, name));
  }
  writeFileAtomicSync(join(dir, FOLDER_RECORDS), JSON.stringify({ format: FOLDER_RECORDS_FORMAT, version: 1, files }, null, 1) + '\n');
  return files;
}

/** A folder's densekit-files.json records; undefined when it has none (a model densekit did not write). */
export function readFolderRecords(dir: string): FileRecords | undefined {
  const path = join(dir, FOLDER_RECORDS);
  if (!existsSync(path)) return undefined;
  const v = readJsonFileSync(path) as Record<string, unknown> | null;
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v.format !== FOLDER_RECORDS_FORMAT)
    throw new InputError(path, undefined, `expected a JSON object with "format": "${FOLDER_RECORDS_FORMAT}"`);
  if (v.version !== 1) throw new InputError(path, undefined, `field "version" is ${JSON.stringify(v.version)}, expected 1`);
  return readFileRecords(v.files, path) ?? {};
}
