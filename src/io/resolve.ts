/**
 * Turns a model argument into a local folder: an existing directory as given, else a Hugging Face id looked up in
 * the caches that huggingface_hub and sentence-transformers fill. This synchronous lookup never touches the network
 * (src/hub downloads: `ensureModel` and `SentenceEncoder.fromPretrained`); when the model is not there, the error
 * says where it looked and how to download it.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { DensekitError } from '../errors.js';

/** The organisation sentence-transformers assumes for a bare model name such as "gtr-t5-base". */
const ST_ORGANISATION = 'sentence-transformers';
const HUB_ID = /^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/;

export function resolveModelPath(nameOrPath: string, env: NodeJS.ProcessEnv = process.env): string {
  if (isDirectory(nameOrPath)) return resolve(nameOrPath);
  if (!looksLikeHubId(nameOrPath)) {
    throw new DensekitError(`${nameOrPath}: model folder does not exist${existsSync(nameOrPath) ? ' (it is a file, not a folder)' : ''}`);
  }
  const ids = candidateHubIds(nameOrPath);
  const looked: string[] = [];
  const hub = hubCacheDir(env);
  for (const id of ids) {
    const found = findInHubCache(hub, id, looked);
    if (found) return found;
  }
  const stHome = sentenceTransformersHome(env);
  for (const id of ids) {
    const dir = join(stHome, id.replace('/', '_'));
    looked.push(dir);
    if (isDirectory(dir)) return dir;
  }
  throw new DensekitError(`${nameOrPath}: not a local folder and not in the Hugging Face or sentence-transformers cache (looked in ${looked.join(', ')}); download it with \`densekit download ${ids[ids.length - 1]}\` (the verbs that take --model download it themselves)`);
}

/** huggingface_hub's rule: HF_HUB_CACHE, else the legacy HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub. */
export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const direct = env.HF_HUB_CACHE || env.HUGGINGFACE_HUB_CACHE;
  if (direct) return expandHome(direct);
  return join(hfHome(env), 'hub');
}

/** $HF_HOME, else $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface (where huggingface_hub keeps its token too). */
export function hfHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.HF_HOME ? expandHome(env.HF_HOME) : join(env.XDG_CACHE_HOME ? expandHome(env.XDG_CACHE_HOME) : join(homedir(), '.cache'), 'huggingface');
}

/** The ids a model name may mean: "org/name" itself; a bare "name" as given, then under sentence-transformers/. */
export function candidateHubIds(name: string): string[] {
  return name.includes('/') ? [name] : [name, `${ST_ORGANISATION}/${name}`];
}

/** Whether a model argument names a Hub repository (org/name or name) rather than a local path. */
export function looksLikeHubId(nameOrPath: string): boolean {
  const looksLikePath = isAbsolute(nameOrPath) || nameOrPath.startsWith('.') || nameOrPath.startsWith('~') || nameOrPath.includes('\\')
    || nameOrPath.split('/').length > 2;
  return !looksLikePath && HUB_ID.test(nameOrPath) && !nameOrPath.includes('..');
}

/** sentence-transformers 2.x kept its own downloads in $SENTENCE_TRANSFORMERS_HOME (default: torch's cache). */
export function sentenceTransformersHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SENTENCE_TRANSFORMERS_HOME) return expandHome(env.SENTENCE_TRANSFORMERS_HOME);
  const torchHome = env.TORCH_HOME ? expandHome(env.TORCH_HOME) : join(env.XDG_CACHE_HOME ? expandHome(env.XDG_CACHE_HOME) : join(homedir(), '.cache'), 'torch');
  return join(torchHome, 'sentence_transformers');
}

/** `models--org--name/snapshots/<rev>/`, rev from refs/main, else the only (or most recently modified) snapshot. */
function findInHubCache(hub: string, id: string, looked: string[]): string | undefined {
  const repo = join(hub, `models--${id.replace('/', '--')}`);
  const snapshots = join(repo, 'snapshots');
  const ref = join(repo, 'refs', 'main');
  if (existsSync(ref)) {
    const rev = readFileSync(ref, 'utf8').trim();
    const dir = join(snapshots, rev);
    looked.push(dir);
    if (/^[\w.-]+$/.test(rev) && isDirectory(dir)) return dir;
  }
  looked.push(snapshots);
  if (!isDirectory(snapshots)) return undefined;
  const candidates = readdirSync(snapshots)
    .map((name) => join(snapshots, name))
    .filter(isDirectory)
    .map((dir) => ({ dir, mtime: statSync(dir).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime || (a.dir < b.dir ? -1 : 1));
  return candidates[0]?.dir;
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? join(homedir(), p.slice(1)) : p;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
