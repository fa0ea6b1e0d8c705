/**
 * Writing outputs. A regular file is written atomically (a temp file beside it, fsync, rename), so readers
 * see the old content or the complete new one, never a part. What is not a regular file is never replaced:
 * a symlink is written through (the temp file goes beside its final target, which is renamed over), a FIFO
 * or character device (`/dev/stdout`, `/dev/null`) and `-` (stdout) are streamed to, and anything else
 * (a directory, a socket, a block device) is refused. OS failures become one-line OutputErrors.
 */
import { chmodSync, closeSync, fsyncSync, lstatSync, openSync, readdirSync, readlinkSync, renameSync, rmSync, statSync, writeSync, type Stats } from 'node:fs';
import { dirname, basename, join, resolve } from 'node:path';
import { createHash, type Hash } from 'node:crypto';
import { OutputError } from '../errors.js';

/** What a written file's reader can check it against later: its byte size and sha256 (src/util/checksums.ts). */
export interface FileRecord {
  bytes: number;
  sha256: string;
}

/** An iterable's chunks are made as they are written (a multi-GB file never sits in memory whole). */
type Data = string | Uint8Array | Iterable<string | Uint8Array>;

let counter = 0;
/** A temp path in the same directory (so rename is atomic on the same filesystem). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${counter++}`);
}

const TEMP_NAME = /^\..+\.tmp-(\d+)-\d+$/;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes temp files that a killed writer left in `dir` (names from tempPathFor whose process is gone), so a
 * successful rerun leaves only its outputs. Temp files of live processes (a concurrent writer) are kept.
 */
export function removeStaleTemps(dir: string, forName?: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return; // no folder yet: nothing left over
  }
  for (const name of names) {
    if (forName !== undefined && !name.startsWith(`.${forName}.tmp-`)) continue;
    const m = TEMP_NAME.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    // This process's own temp files are in use when a single name is cleaned (another writer of ours may be open).
    if (forName !== undefined ? pid !== process.pid && !alive(pid) : pid === process.pid || !alive(pid)) rmSync(join(dir, name), { force: true, recursive: true });
  }
}

/** The name densekit gives standard output in an output flag. */
export const STDOUT_PATH = '-';

const PROBLEMS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EISDIR: 'is a directory',
  ENOTDIR: 'a parent of it is not a folder',
  ENOENT: 'no such file or folder',
  ENAMETOOLONG: 'name too long',
  ELOOP: 'too many levels of symbolic links',
  EFBIG: 'file too large',
  EIO: 'input/output error',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  EBUSY: 'resource busy',
  ETXTBSY: 'text file busy',
  EXDEV: 'on another file system',
  EPIPE: 'the reader went away',
};

/** One line for an OS error: what failed on which path, as the user can act on it. */
export function describeSystemError(e: NodeJS.ErrnoException): string {
  const problem = (e.code && PROBLEMS[e.code]) ?? e.message.split('\n')[0]!.replace(/^[A-Z]+: /, '');
  const code = e.code ? ` (${e.code})` : '';
  const verb = e.syscall ? `cannot ${e.syscall}` : 'failed';
  return `${e.path ? `${e.path}: ` : ''}${verb}: ${problem}${code}`;
}

/** True for errors thrown by the OS through node:fs / node:net (they carry errno, code and syscall). */
export function isSystemError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && typeof (e as NodeJS.ErrnoException).syscall === 'string';
}

function outputError(path: string, e: unknown, doing: string): OutputError {
  if (e instanceof OutputError) return e;
  if (!isSystemError(e)) throw e;
  const problem = (e.code && PROBLEMS[e.code]) ?? e.message;
  return new OutputError(`${path}: cannot ${doing}: ${problem} (${e.code})`, { cause: e });
}

function statOrNull(path: string, follow: boolean): Stats | null {
  try {
    return follow ? statSync(path) : lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw outputError(path, e, 'inspect it');
  }
}

/** Follows a chain of symlinks, even one that ends nowhere (the final name is then created). */
function finalTarget(path: string): string {
  let p = resolve(path);
  for (let hops = 0; hops < 40; hops++) {
    const st = statOrNull(p, false);
    if (!st?.isSymbolicLink()) return p;
    p = resolve(dirname(p), readlinkSync(p));
  }
  throw new OutputError(`${path}: cannot write: too many levels of symbolic links (ELOOP)`);
}

type Target = { kind: 'file'; path: string; mode: number | null } | { kind: 'stream'; path: string } | { kind: 'stdout' };

/** Decides how `path` is written: atomically as a regular file, streamed, or refused. */
export function outputTarget(path: string): Target {
  if (path === STDOUT_PATH) return { kind: 'stdout' };
  const st = statOrNull(path, true);
  if (st === null || st.isFile()) {
    // A regular file or a new name, possibly behind symlinks: write beside the final target.
    return { kind: 'file', path: finalTarget(path), mode: st ? st.mode & 0o7777 : null };
  }
  if (st.isFIFO() || st.isCharacterDevice()) return { kind: 'stream', path };
  const what = st.isDirectory() ? 'a folder' : st.isSocket() ? 'a socket' : st.isBlockDevice() ? 'a block device' : 'not a regular file';
  throw new OutputError(`${path}: cannot write the output here: it is ${what} (give a file name, or - for standard output)`);
}

function* toParts(data: Data): Generator<Uint8Array> {
  const parts = typeof data === 'string' || data instanceof Uint8Array ? [data] : data;
  for (const p of parts) yield typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
}

const pause = new Int32Array(new SharedArrayBuffer(4));

function writeAll(fd: number, parts: Iterable<Uint8Array>): void {
  for (const buf of parts) {
    let off = 0;
    while (off < buf.byteLength) {
      try {
        off += writeSync(fd, buf, off, buf.byteLength - off);
      } catch (e) {
        // Node makes a piped stdout non-blocking: a full pipe is a wait for the reader, not a failure.
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        Atomics.wait(pause, 0, 0, 2);
      }
    }
  }
}

/**
 * Streams chunks to `path`: atomically through a temp file renamed over the final target on `commit`, or
 * straight to a FIFO / device / stdout. `abort` removes the temp file.
 */
export class AtomicWriter {
  private readonly target: Target;
  private readonly tmp: string | null;
  private fd: number | null;
  // Hashed as written: recording a checksum costs no second read of a multi-GB file.
  private readonly hash: Hash = createHash('sha256');
  private bytes = 0;
  constructor(private readonly path: string) {
    this.target = outputTarget(path);
    this.tmp = this.target.kind === 'file' ? tempPathFor(this.target.path) : null;
    if (this.target.kind === 'stdout') {
      this.fd = 1; // written in place: the fd is the process's own (a socket or pipe cannot be reopened by name)
      return;
    }
    const opening = this.tmp ?? this.target.path;
    // A writer of this name killed earlier (kill -9, power loss) left its temp file: a successful write cleans it up.
    if (this.target.kind === 'file') removeStaleTemps(dirname(this.target.path), basename(this.target.path));
    try {
      // 'wx': a temp name that exists already is not ours. Streams are appended to: when stdout is a file
      // the shell opened, what was printed before stays.
      this.fd = this.tmp ? openSync(this.tmp, 'wx', 0o666) : openSync(opening, 'a');
    } catch (e) {
      throw outputError(path, e, this.tmp ? `create a temp file in ${dirname(this.tmp)}` : 'open it for writing');
    }
  }
  write(data: Data): void {
    try {
      writeAll(this.fd!, this.hashed(toParts(data)));
    } catch (e) {
      this.abort();
      throw outputError(this.path, e, 'write');
    }
  }
  private *hashed(parts: Iterable<Uint8Array>): Generator<Uint8Array> {
    for (const p of parts) {
      this.hash.update(p);
      this.bytes += p.byteLength;
      yield p;
    }
  }
  /** Puts the file in place; returns the size and sha256 of everything written. */
  commit(): FileRecord {
    const fd = this.fd!;
    this.fd = null;
    const record = { bytes: this.bytes, sha256: this.hash.digest('hex') };
    try {
      if (this.target.kind === 'stdout') return record;
      if (this.target.kind === 'file') {
        if (this.target.mode !== null) chmodSync(this.tmp!, this.target.mode);
        fsyncSync(fd);
      }
      closeSync(fd);
      if (this.tmp) renameSync(this.tmp, this.target.path);
      return record;
    } catch (e) {
      try { closeSync(fd); } catch { /* closed before the failure */ }
      if (this.tmp) rmSync(this.tmp, { force: true });
      throw outputError(this.path, e, 'write');
    }
  }
  abort(): void {
    if (this.fd !== null && this.target.kind !== 'stdout') closeSync(this.fd);
    this.fd = null;
    if (this.tmp) rmSync(this.tmp, { force: true });
  }
}

/** Write a file so that readers see either the old content or the complete new content, never a part. */
export function writeFileAtomicSync(path: string, data: Data): FileRecord {
  const w = new AtomicWriter(path);
  w.write(data);
  return w.commit();
}

/** The same as writeFileAtomicSync, for async callers (one way to write: the writes are local and bounded). */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  writeFileAtomicSync(path, data);
}

/**
 * For writers that must be handed a path (usearch saves its graph itself): `write(tmp)` fills a temp file
 * beside the final target, which is then renamed over it; streams and odd targets are refused.
 */
export function replaceFileSync(path: string, write: (tmp: string) => void): void {
  const target = outputTarget(path);
  if (target.kind !== 'file') throw new OutputError(`${path}: cannot write here: it is not a regular file`);
  removeStaleTemps(dirname(target.path), basename(target.path));
  const tmp = tempPathFor(target.path);
  try {
    write(tmp);
    renameSync(tmp, target.path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw isSystemError(e) ? outputError(path, e, 'write') : e;
  }
}
