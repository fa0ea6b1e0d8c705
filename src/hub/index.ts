/**
 * Models from the Hugging Face Hub into huggingface_hub's own cache: `downloadModel` fetches what a
 * sentence-transformers model needs at a revision (branch, tag or commit); `ensureModel` turns any model
 * argument (folder, or Hub id) into a local folder, downloading when the id is not cached.
 */
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { candidateHubIds, looksLikeHubId, resolveModelPath } from '../io/resolve.js';
import { Progress } from '../util/progress.js';
import { HubClient, type RepoFile } from './client.js';
import { RepoCache, COMMIT_HASH, assertRepoId, cachedSnapshot } from './cache.js';
import { HubError } from './errors.js';
import { moduleFolders, selectFromFolder, shardsOf } from './model-files.js';
import { hubSettings, type HubSettings } from './settings.js';
import { downloadBlob } from './transfer.js';

export { hubSettings, type HubSettings } from './settings.js';
export { HubError } from './errors.js';

export interface DownloadOptions {
  /** Branch, tag or commit; default main. */
  revision?: string;
  /** Environment to read HF_* from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Status lines (waiting for a lock, using the cache offline); default: stderr. */
  log?: (line: string) => void;
}

export interface DownloadResult {
  repo: string;
  revision: string;
  commit: string;
  /** snapshots/<commit>: a sentence-transformers folder. */
  dir: string;
  /** Repository paths now in the snapshot. */
  files: string[];
  /** Bytes fetched by this call (0 when everything was cached). */
  downloadedBytes: number;
}

const defaultLog = (line: string) => process.stderr.write(line + '\n');

export async function downloadModel(repo: string, opts: DownloadOptions = {}): Promise<DownloadResult> {
  assertRepoId(repo);
  const revision = opts.revision ?? 'main';
  if (revision.length === 0 || revision.length > 256 || /[\x00-\x20]/.test(revision)) throw new HubError(`--revision: "${revision}" is not a branch, tag or commit name`);
  const settings = hubSettings(opts.env);
  const log = opts.log ?? defaultLog;
  const cache = new RepoCache(settings.cacheDir, repo);
  const cachedResult = (): DownloadResult | undefined => {
    const dir = cachedSnapshot(settings.cacheDir, repo, revision);
    return dir ? { repo, revision, commit: cache.commitOf(revision)!, dir, files: [], downloadedBytes: 0 } : undefined;
  };
  if (settings.offline) {
    const hit = cachedResult();
    if (hit) return hit;
    throw new HubError(`${repo} (revision ${revision}): HF_HUB_OFFLINE is set and the model is not in the cache ${settings.cacheDir}; unset HF_HUB_OFFLINE to download it`);
  }
  // A commit never changes: a complete snapshot of it needs no request.
  if (COMMIT_HASH.test(revision)) {
    const hit = cachedResult();
    if (hit) return hit;
  }
  const client = new HubClient(settings);
  let info;
  try {
    info = await client.revision(repo, revision);
  } catch (e) {
    const hit = e instanceof HubError && e.errorCode === 'Unreachable' ? cachedResult() : undefined;
    if (!hit) throw e;
    log(`densekit: ${(e as HubError).message.split(';')[0]}; using the cached ${repo} at ${hit.commit}`);
    return hit;
  }
  const { commit } = info;
  const repoFiles = new Set(info.files);
  const fetched: string[] = [];
  let downloadedBytes = 0;

  const fetchAll = async (paths: string[]) => {
    const missing = paths.filter((p) => !cache.hasFile(commit, p));
    if (missing.length === 0) return;
    const metas = await client.files(repo, commit, missing);
    const total = metas.reduce((n, f) => n + f.size, 0);
    const progress = new Progress({ label: `download ${repo}`, total, bytes: true });
    try {
      for (const file of metas) {
        const got = await fetchOne(settings, cache, repo, commit, file, (n) => progress.tick(n), log);
        downloadedBytes += got;
        fetched.push(file.path);
      }
    } finally {
      progress.finish();
    }
  };

  // modules.json first: it names the module folders whose files the model needs.
  let folders = [{ folder: '', type: 'sentence_transformers.models.Transformer' }];
  if (repoFiles.has('modules.json')) {
    await fetchAll(['modules.json']);
    folders = moduleFolders(cache.readSnapshotFile(commit, 'modules.json'), join(cache.snapshot(commit), 'modules.json'));
  }
  const wanted = new Set<string>();
  const indexes: string[] = [];
  for (const { folder, type } of folders) {
    const { files, weights } = selectFromFolder(repoFiles, folder);
    files.forEach((f) => wanted.add(f));
    if (weights) {
      weights.files.forEach((f) => wanted.add(f));
      if (weights.index) indexes.push(weights.index);
    } else if (type.endsWith('.Transformer') || type === 'Transformer') {
      throw new HubError(`${repo} (revision ${revision}): no weights in ${folder || 'the root folder'} (expected model.safetensors or pytorch_model.bin, or their sharded index)`);
    }
  }
  const transformerFolder = folders.find((f) => f.type.endsWith('Transformer'))?.folder ?? '';
  if (!wanted.has(transformerFolder ? `${transformerFolder}/config.json` : 'config.json')) {
    throw new HubError(`${repo} (revision ${revision}): no config.json in the Transformer folder; not a model densekit can load`);
  }
  await fetchAll([...wanted]);
  const shards = indexes.flatMap((index) => shardsOf(cache.readSnapshotFile(commit, index), index, join(cache.snapshot(commit), index), repoFiles));
  await fetchAll(shards);
  cache.writeRef(revision, commit);
  return { repo, revision, commit, dir: cache.snapshot(commit), files: [...wanted, ...shards], downloadedBytes };
}

/** One file into the snapshot: reuses a blob already cached (by this or another model revision), else downloads it under the blob's lock. */
async function fetchOne(settings: HubSettings, cache: RepoCache, repo: string, commit: string, file: RepoFile, onBytes: (n: number) => void, log: (l: string) => void): Promise<number> {
  let got = 0;
  const haveBlob = () => {
    try {
      return statSync(cache.blob(file.etag)).size === file.size;
    } catch {
      return false;
    }
  };
  if (!haveBlob()) {
    await cache.withBlobLock(file.etag, async () => {
      if (haveBlob()) return; // another process finished it while we waited
      await downloadBlob({ settings, cache, repo, commit, file, onBytes: (n) => { got += n; onBytes(n); } });
    }, () => log(`densekit: waiting for another process downloading ${repo}/${file.path}`));
  }
  cache.link(commit, file.path, file.etag);
  return got;
}

export interface EnsureOptions extends DownloadOptions {}

/**
 * A model argument as a local folder: an existing folder as given; a Hub id ("org/name", or a bare name under
 * sentence-transformers/) downloaded into the cache when missing or when its branch moved. Offline
 * (HF_HUB_OFFLINE=1), only the cache and the sentence-transformers folder are consulted.
 */
export async function ensureModel(nameOrPath: string, opts: EnsureOptions = {}): Promise<string> {
  if (isDirectory(nameOrPath)) return resolve(nameOrPath);
  if (!looksLikeHubId(nameOrPath)) return resolveModelPath(nameOrPath, opts.env); // throws: not a folder, not an id
  const env = opts.env ?? process.env;
  if (hubSettings(env).offline && opts.revision === undefined) {
    try {
      return resolveModelPath(nameOrPath, env);
    } catch {
      throw new HubError(`${nameOrPath}: HF_HUB_OFFLINE is set and the model is not in the cache ${hubSettings(env).cacheDir}; unset HF_HUB_OFFLINE to download it`);
    }
  }
  // A bare name is a legacy Hub id (distilbert-base-uncased) or, as sentence-transformers reads it, one of its models.
  const ids = candidateHubIds(nameOrPath);
  for (let i = 0; ; i++) {
    try {
      return (await downloadModel(ids[i]!, opts)).dir;
    } catch (e) {
      const notFound = e instanceof HubError && (e.status === 404 || e.status === 401) && e.errorCode === 'RepoNotFound';
      if (!notFound || i === ids.length - 1) throw e;
    }
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
