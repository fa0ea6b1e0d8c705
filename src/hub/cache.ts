/**
 * huggingface_hub's cache layout, byte for byte, so Python and densekit share one cache:
 *   models--org--name/blobs/<etag>                  file contents, named by sha256 (LFS) or git sha1
 *   models--org--name/snapshots/<commit>/<path>     relative symlinks into blobs/
 *   models--org--name/refs/<revision>               the commit a branch or tag pointed to when last fetched
 *   .locks/models--org--name/                       lock files (huggingface_hub flocks <etag>.lock there)
 * Node has no flock, so densekit's lock is proper-lockfile's mkdir lock at <etag>.densekit.lock beside
 * huggingface_hub's: two densekit processes exclude each other; against a concurrent Python download of the same
 * blob, the sha256 check before a blob enters blobs/ keeps a mixed file out of the cache.
 */
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, copyFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import lockfile from 'proper-lockfile';
import { writeFileAtomicSync } from '../util/fs.js';
import { safeRepoPath } from './client.js';
import { HubError } from './errors.js';

export const COMMIT_HASH = /^[0-9a-f]{40}$/;

export class RepoCache {
  readonly dir: string;
  readonly folderName: string;

  constructor(readonly cacheDir: string, readonly repo: string) {
    this.folderName = `models--${repo.split('/').join('--')}`;
    this.dir = join(cacheDir, this.folderName);
  }

  blob(etag: string): string {
    return join(this.dir, 'blobs', etag);
  }

  snapshot(commit: string): string {
    return join(this.dir, 'snapshots', commit);
  }

  /** The commit a revision names in the cache: a commit hash itself, else refs/<revision>. */
  commitOf(revision: string): string | undefined {
    if (COMMIT_HASH.test(revision)) return revision;
    if (!safeRepoPath(revision)) return undefined;
    try {
      const commit = readFileSync(join(this.dir, 'refs', revision), 'utf8').trim();
      return COMMIT_HASH.test(commit) ? commit : undefined;
    } catch {
      return undefined; // never fetched under that name
    }
  }

  writeRef(revision: string, commit: string): void {
    if (revision === commit || !safeRepoPath(revision)) return;
    const ref = join(this.dir, 'refs', revision);
    mkdirSync(dirname(ref), { recursive: true });
    writeFileAtomicSync(ref, commit); // huggingface_hub writes the bare hash, no newline
  }

  /** Whether snapshots/<commit>/<path> resolves to a complete file. */
  hasFile(commit: string, path: string): boolean {
    try {
      return statSync(join(this.snapshot(commit), path)).isFile();
    } catch {
      return false;
    }
  }

  readSnapshotFile(commit: string, path: string): string {
    return readFileSync(join(this.snapshot(commit), path), 'utf8');
  }

  /** Points snapshots/<commit>/<path> at blobs/<etag> with a relative symlink (a copy where symlinks are refused). */
  link(commit: string, path: string, etag: string): void {
    const target = join(this.snapshot(commit), path);
    mkdirSync(dirname(target), { recursive: true });
    const rel = relative(dirname(target), this.blob(etag));
    try {
      if (lstatSync(target).isSymbolicLink() && readlinkSync(target) === rel) return;
    } catch {
      // not there yet
    }
    const tmp = `${target}.tmp-${process.pid}`;
    rmSync(tmp, { force: true });
    try {
      symlinkSync(rel, tmp);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EPERM') throw e;
      copyFileSync(this.blob(etag), tmp); // filesystems without symlinks: huggingface_hub copies too
    }
    renameSync(tmp, target);
  }

  /** Holds the blob's lock while `fn` runs; says once on `onWait` when another process holds it. */
  async withBlobLock<T>(etag: string, fn: () => Promise<T>, onWait: () => void): Promise<T> {
    const locks = join(this.cacheDir, '.locks', this.folderName);
    mkdirSync(locks, { recursive: true });
    const lockPath = join(locks, `${etag}.densekit.lock`);
    const target = join(locks, `${etag}.lock`);
    const options = { lockfilePath: lockPath, realpath: false, stale: 30_000, update: 5_000 };
    let release: () => Promise<void>;
    try {
      release = await lockfile.lock(target, options);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ELOCKED') throw e;
      onWait();
      // proper-lockfile refreshes a held lock every 5 s and counts it stale after 30 s: a killed holder frees it.
      release = await lockfile.lock(target, { ...options, retries: { retries: 100_000, minTimeout: 200, maxTimeout: 1000, factor: 1.5 } });
    }
    try {
      return await fn();
    } finally {
      await release().catch(() => undefined); // a compromised (stale-removed) lock has nothing left to release
    }
  }
}

/** The snapshot folder for a revision when the cache holds a usable model there (config and weights present). */
export function cachedSnapshot(cacheDir: string, repo: string, revision: string): string | undefined {
  const cache = new RepoCache(cacheDir, repo);
  const commit = cache.commitOf(revision);
  if (!commit) return undefined;
  const dir = cache.snapshot(commit);
  if (!existsSync(dir)) return undefined;
  return looksComplete(dir) ? dir : undefined;
}

/** A Transformer folder with config.json and a weights file (modules.json tells which folder). */
function looksComplete(dir: string): boolean {
  let folder = '';
  try {
    const modules = JSON.parse(readFileSync(join(dir, 'modules.json'), 'utf8')) as { type?: string; path?: string }[];
    folder = modules.find((m) => m.type?.endsWith('Transformer'))?.path ?? '';
  } catch {
    // no modules.json: a plain Hugging Face model at the root
  }
  const at = (f: string) => join(dir, folder, f);
  const isFile = (p: string) => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  return isFile(at('config.json')) && ['model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin', 'pytorch_model.bin.index.json'].some((w) => isFile(at(w)));
}

export function assertRepoId(repo: string): void {
  if (!/^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/.test(repo) || repo.includes('..') || repo.length > 96) {
    throw new HubError(`${repo}: not a Hugging Face model id (expected ORG/NAME, or a legacy NAME)`);
  }
}
