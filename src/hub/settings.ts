/**
 * Where the Hub is and who we are, read from the same environment variables huggingface_hub reads, so a shell set
 * up for Python works unchanged: HF_ENDPOINT, HF_HUB_CACHE / HF_HOME, HF_TOKEN (else the token file
 * `huggingface-cli login` writes, $HF_TOKEN_PATH or $HF_HOME/token), HF_HUB_OFFLINE.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hfHome, hubCacheDir } from '../io/resolve.js';
import { DensekitError } from '../errors.js';

export interface HubSettings {
  /** Base URL without a trailing slash, e.g. https://huggingface.co. */
  endpoint: string;
  /** The huggingface_hub cache root (holds models--org--name/). */
  cacheDir: string;
  token?: string;
  /** Where the token came from, for error messages. */
  tokenSource?: string;
  offline: boolean;
}

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

/** huggingface_hub's _is_true: 1, ON, YES, TRUE in any case. */
function isTrue(v: string | undefined): boolean {
  return v !== undefined && ['1', 'ON', 'YES', 'TRUE'].includes(v.trim().toUpperCase());
}

export function hubSettings(env: NodeJS.ProcessEnv = process.env): HubSettings {
  const raw = (env.HF_ENDPOINT ?? '').trim() || DEFAULT_ENDPOINT;
  let endpoint: URL;
  try {
    endpoint = new URL(raw);
  } catch {
    throw new DensekitError(`HF_ENDPOINT: "${raw}" is not a URL (expected e.g. https://huggingface.co)`);
  }
  if (endpoint.protocol !== 'https:' && endpoint.protocol !== 'http:') throw new DensekitError(`HF_ENDPOINT: "${raw}" is not an http(s) URL`);
  const settings: HubSettings = {
    endpoint: endpoint.href.replace(/\/+$/, ''),
    cacheDir: hubCacheDir(env),
    offline: isTrue(env.HF_HUB_OFFLINE) || isTrue(env.TRANSFORMERS_OFFLINE),
  };
  const fromEnv = [['HF_TOKEN', env.HF_TOKEN], ['HUGGING_FACE_HUB_TOKEN', env.HUGGING_FACE_HUB_TOKEN]] as const;
  for (const [name, value] of fromEnv) {
    if (value && value.trim()) return withToken(settings, value.trim(), name);
  }
  const tokenFile = env.HF_TOKEN_PATH || join(hfHome(env), 'token');
  let fileToken: string | undefined;
  try {
    fileToken = readFileSync(tokenFile, 'utf8').trim();
  } catch {
    // No token file: anonymous access, as huggingface_hub does; a gated model then answers 401 with a hint.
  }
  return fileToken ? withToken(settings, fileToken, tokenFile) : settings;
}

function withToken(settings: HubSettings, token: string, source: string): HubSettings {
  // A token goes into an HTTP header: refuse what would break it (or smuggle another header) rather than send it.
  if (!/^[\x21-\x7e]{1,512}$/.test(token)) throw new DensekitError(`${source}: the Hugging Face token holds characters a token cannot have (expected e.g. hf_...)`);
  return { ...settings, token, tokenSource: source };
}
