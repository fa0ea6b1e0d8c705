/**
 * The Hub's metadata endpoints through the official @huggingface/hub client: modelInfo (a revision -> its commit
 * and file list) and pathsInfo (each file's size and hashes: git oid, and the LFS sha256). Its fetch hook is ours:
 * it adds the token (the library's own check insists on the "hf_" prefix, which mirrors and old tokens lack) and
 * turns every failed answer into a one-line HubError from X-Error-Code before the library's generic error.
 * The library's downloads (downloadFileToCacheDir) are not used: they neither verify the sha256 nor resume nor
 * lock (see transfer.ts and cache.ts, written here for that reason).
 */
import { modelInfo, pathsInfo } from '@huggingface/hub';
import { hubErrorFor, unreachable, HubError, type RequestContext } from './errors.js';
import type { HubSettings } from './settings.js';

export interface RepoFile {
  path: string;
  size: number;
  /** The blob name huggingface_hub gives it: the LFS sha256, else the git blob sha1. */
  etag: string;
  /** sha256 of the content for LFS files; undefined for small git files (checked by their git sha1). */
  sha256?: string;
  /** Git blob sha1 for non-LFS files. */
  gitOid?: string;
}

export interface RepoRevision {
  repo: string;
  revision: string;
  commit: string;
  files: string[];
}

const COMMIT = /^[0-9a-f]{40}$/;
const MAX_FILES = 100_000;
const MAX_FILE_BYTES = 2 ** 40;

export class HubClient {
  constructor(readonly settings: HubSettings) {}

  private fetchFor(ctx: Omit<RequestContext, 'endpoint' | 'hasToken'>): typeof fetch {
    const full: RequestContext = { ...ctx, endpoint: this.settings.endpoint, hasToken: this.settings.token !== undefined };
    return async (input, init) => {
      const headers = new Headers(init?.headers);
      if (this.settings.token) headers.set('authorization', `Bearer ${this.settings.token}`);
      let res: Response | undefined;
      // A kept-alive connection the server has just closed fails with ECONNRESET: these requests are idempotent, retry.
      for (let attempt = 0; res === undefined; attempt++) {
        try {
          res = await fetch(input, { ...init, headers });
        } catch (e) {
          const code = (e as { cause?: { code?: string } })?.cause?.code;
          if (attempt >= 2 || (code !== 'ECONNRESET' && code !== 'UND_ERR_SOCKET')) throw unreachable(this.settings.endpoint, e);
        }
      }
      if (!res.ok) {
        await res.body?.cancel();
        throw hubErrorFor(res.status, res.headers, full);
      }
      return res;
    };
  }

  /** A branch, tag or commit -> the commit it names now, and the repository's file list at that commit. */
  async revision(repo: string, revision: string): Promise<RepoRevision> {
    const info = await modelInfo({
      name: repo, revision, hubUrl: this.settings.endpoint, additionalFields: ['sha', 'filePaths'],
      fetch: this.fetchFor({ repo, revision }),
    });
    const commit = info.sha;
    const files = info.filePaths;
    if (typeof commit !== 'string' || !COMMIT.test(commit)) throw this.malformed(repo, revision, `"sha" is ${JSON.stringify(commit)}, expected a 40-hex commit`);
    if (!Array.isArray(files) || files.length > MAX_FILES || !files.every((f) => typeof f === 'string' && safeRepoPath(f))) {
      throw this.malformed(repo, revision, '"siblings" is not a list of relative file paths');
    }
    return { repo, revision, commit, files };
  }

  /** Sizes and hashes of the given files at a commit, in the order asked. */
  async files(repo: string, commit: string, paths: string[]): Promise<RepoFile[]> {
    const info = await pathsInfo({ repo: { type: 'model', name: repo }, paths, revision: commit, hubUrl: this.settings.endpoint, fetch: this.fetchFor({ repo, revision: commit }) });
    const byPath = new Map(info.map((i) => [i.path, i]));
    return paths.map((path) => {
      const i = byPath.get(path);
      if (!i || i.type !== 'file') throw new HubError(`${repo}/${path} (revision ${commit}, ${this.settings.endpoint}): no such file in the repository`, 404, 'EntryNotFound');
      if (!Number.isSafeInteger(i.size) || i.size < 0 || i.size > MAX_FILE_BYTES) throw this.malformed(repo, commit, `size of ${path} is ${i.size}`);
      if (i.lfs) {
        if (!/^[0-9a-f]{64}$/.test(i.lfs.oid)) throw this.malformed(repo, commit, `LFS oid of ${path} is not a sha256`);
        if (i.lfs.size !== i.size) throw this.malformed(repo, commit, `LFS size of ${path} (${i.lfs.size}) differs from its size (${i.size})`);
        return { path, size: i.size, etag: i.lfs.oid, sha256: i.lfs.oid };
      }
      if (typeof i.oid !== 'string' || !/^[0-9a-f]{40}$/.test(i.oid)) throw this.malformed(repo, commit, `git oid of ${path} is not a sha1`);
      return { path, size: i.size, etag: i.oid, gitOid: i.oid };
    });
  }

  private malformed(repo: string, revision: string, what: string): HubError {
    return new HubError(`${repo} (revision ${revision}, ${this.settings.endpoint}): malformed answer from the Hub: ${what}`);
  }
}

/** A repository path we may write under a snapshot folder: relative, no "..", no empty or hidden-control parts. */
export function safeRepoPath(path: string): boolean {
  if (path.length === 0 || path.length > 1000 || path.startsWith('/') || path.includes('\\') || /[\x00-\x1f]/.test(path)) return false;
  return path.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}
