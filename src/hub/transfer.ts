/**
 * One file from the Hub into blobs/<etag>, verified and resumable. Bytes go to blobs/<etag>.incomplete (the name
 * huggingface_hub uses, so either tool resumes the other's partial file); a dropped connection is retried within
 * the command with `Range: bytes=<have>-`; an interrupted command resumes the .incomplete on its next run. The
 * content's hash must equal the Hub's ETag (sha256 for LFS files, per X-Linked-Etag; git's blob sha1 for small
 * files) before the file is renamed into blobs/: a mismatch deletes it and fails, so nothing unverified is cached.
 * Hand-written: neither @huggingface/hub nor huggingface_hub verifies the hash, and @huggingface/hub does not resume.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RepoFile } from './client.js';
import type { RepoCache } from './cache.js';
import { HubError, hubErrorFor, unreachable, type RequestContext } from './errors.js';
import type { HubSettings } from './settings.js';

export interface TransferOptions {
  settings: HubSettings;
  cache: RepoCache;
  repo: string;
  commit: string;
  file: RepoFile;
  /** Bytes received (for progress); negative when a restart discards bytes counted before. */
  onBytes?: (n: number) => void;
  /** Dropped connections tolerated per file before giving up. */
  maxRetries?: number;
}

/** Strips W/ and quotes, as huggingface_hub normalizes ETags. */
export function normalizeEtag(raw: string | null): string | undefined {
  if (!raw) return undefined;
  return raw.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** Thrown inside an attempt for a retryable loss of the connection. */
class Dropped extends Error {}

export async function downloadBlob(o: TransferOptions): Promise<void> {
  const { settings, cache, repo, commit, file } = o;
  const blob = cache.blob(file.etag);
  const incomplete = `${blob}.incomplete`;
  await mkdir(dirname(blob), { recursive: true });
  const ctx: RequestContext = { repo, revision: commit, file: file.path, endpoint: settings.endpoint, hasToken: settings.token !== undefined };
  const maxRetries = o.maxRetries ?? 5;
  let drops = 0;
  for (;;) {
    let have = await sizeOf(incomplete);
    if (have > file.size) {
      await truncate(incomplete, 0); // longer than the file: not a prefix of it
      o.onBytes?.(-have);
      have = 0;
    }
    if (have === file.size) break;
    try {
      await attempt(o, ctx, incomplete, have);
      if ((await sizeOf(incomplete)) < file.size) throw new Dropped('the connection closed before the end of the file');
      break;
    } catch (e) {
      if (!(e instanceof Dropped)) throw e;
      if (++drops > maxRetries) throw new HubError(`${repo}/${file.path}: the connection dropped ${drops} times (last: ${e.message}); rerun the command to resume from the ${await sizeOf(incomplete)} bytes kept`);
      await sleep(Math.min(2000, 100 * 2 ** drops));
    }
  }
  await verify(o, incomplete);
  await rename(incomplete, blob);
}

async function attempt(o: TransferOptions, ctx: RequestContext, incomplete: string, have: number): Promise<void> {
  const { settings, file } = o;
  const resolveUrl = `${settings.endpoint}/${o.repo}/resolve/${o.commit}/${encodePath(file.path)}`;
  const range: Record<string, string> = have > 0 ? { range: `bytes=${have}-` } : {};
  const auth: Record<string, string> = settings.token ? { authorization: `Bearer ${settings.token}` } : {};
  const first = await request(resolveUrl, { ...range, ...auth }, settings.endpoint);
  if (first.status >= 400) {
    await first.body?.cancel();
    throw hubErrorFor(first.status, first.headers, ctx);
  }
  const announced = normalizeEtag(first.headers.get('x-linked-etag')) ?? normalizeEtag(first.headers.get('etag'));
  if (announced !== undefined && announced !== file.etag) {
    await first.body?.cancel();
    throw new HubError(`${o.repo}/${file.path}: the Hub's ETag ${announced} differs from the ${file.etag} paths-info gave for commit ${o.commit}`);
  }
  const repoCommit = first.headers.get('x-repo-commit');
  if (repoCommit && repoCommit !== o.commit) {
    await first.body?.cancel();
    throw new HubError(`${o.repo}/${file.path}: asked for commit ${o.commit}, the Hub served ${repoCommit}`);
  }
  let res = first;
  if (first.status >= 300 && first.status < 400) {
    await first.body?.cancel();
    const location = first.headers.get('location');
    if (!location) throw new HubError(`${o.repo}/${file.path}: the Hub redirected without a Location`);
    const target = new URL(location, resolveUrl);
    // The token is for the Hub only: LFS files live on another host (a CDN) that must not see it.
    const sameOrigin = target.origin === new URL(settings.endpoint).origin;
    res = await request(target.href, { ...range, ...(sameOrigin ? auth : {}) }, target.origin, true);
    if (res.status >= 400) {
      await res.body?.cancel();
      throw hubErrorFor(res.status, res.headers, ctx);
    }
  }
  let start = 0;
  if (res.status === 206) {
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
    start = m ? Number(m[1]) : -1;
    if (start !== have) {
      await res.body?.cancel();
      throw new HubError(`${o.repo}/${file.path}: asked for bytes from ${have}, the server sent Content-Range ${res.headers.get('content-range')}`);
    }
  } else if (res.status !== 200) {
    await res.body?.cancel();
    throw new HubError(`${o.repo}/${file.path}: unexpected HTTP ${res.status} for the file's bytes`);
  }
  if (start === 0 && have > 0) o.onBytes?.(-have); // the server ignored the Range: start over
  const handle = await open(incomplete, start === 0 ? 'w' : 'a');
  let written = start;
  try {
    if (!res.body) throw new Dropped('empty response');
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        written += chunk.byteLength;
        if (written > file.size) throw new HubError(`${o.repo}/${file.path}: the server sent more than the ${file.size} bytes paths-info announced`);
        await handle.write(chunk);
        o.onBytes?.(chunk.byteLength);
      }
    } catch (e) {
      if (e instanceof HubError) throw e;
      throw new Dropped((e as Error)?.message ?? String(e));
    }
  } finally {
    await handle.close();
  }
}

/** fetch without following redirects (the Hub's 302 carries X-Linked-Etag); network failures are retryable drops. */
async function request(url: string, headers: Record<string, string>, origin: string, follow = false): Promise<Response> {
  try {
    return await fetch(url, { headers, redirect: follow ? 'follow' : 'manual' });
  } catch (e) {
    const code = (e as { cause?: { code?: string } })?.cause?.code;
    if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') throw new Dropped(code);
    throw unreachable(origin, e);
  }
}

async function verify(o: TransferOptions, incomplete: string): Promise<void> {
  const { file } = o;
  const hash = createHash(file.sha256 ? 'sha256' : 'sha1');
  if (!file.sha256) hash.update(`blob ${file.size}\0`); // git's blob id: sha1 over a header and the content
  for await (const chunk of createReadStream(incomplete)) hash.update(chunk as Buffer);
  const got = hash.digest('hex');
  const want = file.sha256 ?? file.gitOid!;
  if (got !== want) {
    await rm(incomplete, { force: true });
    throw new HubError(`${o.repo}/${file.path}: the downloaded bytes have ${file.sha256 ? 'sha256' : 'git sha1'} ${got}, the Hub's ETag says ${want}; nothing was kept (rerun to download it again)`);
  }
}
