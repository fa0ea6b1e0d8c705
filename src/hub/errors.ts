import { DensekitError } from '../errors.js';

/** A Hub request that failed in a way the user can act on (no access, no such repo/revision/file, unreachable). */
export class HubError extends DensekitError {
  override name = 'HubError';
  constructor(message: string, readonly status?: number, readonly errorCode?: string) {
    super(message);
  }
}

/** What a failed request was for: the message names the missing thing. */
export interface RequestContext {
  repo: string;
  revision: string;
  file?: string;
  endpoint: string;
  hasToken: boolean;
}

/**
 * The Hub says what is missing in X-Error-Code (RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo) and
 * answers 401 rather than 404 for a repo an anonymous caller may not see, so both are read.
 */
export function hubErrorFor(status: number, headers: Headers, ctx: RequestContext): HubError {
  const code = headers.get('x-error-code') ?? undefined;
  const serverMessage = (headers.get('x-error-message') ?? '').replace(/[\r\n]+/g, ' ').slice(0, 200);
  const where = `${ctx.repo}${ctx.file ? `/${ctx.file}` : ''} (revision ${ctx.revision}, ${ctx.endpoint})`;
  const tokenHint = ctx.hasToken
    ? 'the token in HF_TOKEN (or $HF_HOME/token) has no access to it: request access on its page or use another token'
    : 'set HF_TOKEN to a token that can read it (https://huggingface.co/settings/tokens), or log in with `huggingface-cli login`';
  if (code === 'GatedRepo') return new HubError(`${where}: the model is gated; ${tokenHint}`, status, code);
  if (status === 401 || status === 403) {
    const what = code === 'RepoNotFound' ? 'no such model, or a private one' : 'access denied (gated or private model)';
    return new HubError(`${where}: ${what} (HTTP ${status}); ${tokenHint}`, status, code);
  }
  if (status === 404) {
    if (code === 'RevisionNotFound') return new HubError(`${ctx.repo}: no revision "${ctx.revision}" (branch, tag or commit) on ${ctx.endpoint}`, status, code);
    if (code === 'EntryNotFound' || (code === undefined && ctx.file)) return new HubError(`${where}: no such file in the repository`, status, code);
    return new HubError(`${ctx.repo}: no such model on ${ctx.endpoint}`, status, code);
  }
  if (status === 429) return new HubError(`${where}: the Hub is rate-limiting requests (HTTP 429); retry later${ctx.hasToken ? '' : ' or set HF_TOKEN'}`, status, code);
  return new HubError(`${where}: the Hub answered HTTP ${status}${serverMessage ? ` (${serverMessage})` : ''}`, status, code);
}

/** Network failures (refused, DNS, reset before any answer) as one line with the way out. */
export function unreachable(endpoint: string, cause: unknown): HubError {
  const inner = (cause as { cause?: { code?: string; message?: string } })?.cause;
  const reason = inner?.code ?? inner?.message ?? (cause as Error)?.message ?? String(cause);
  return new HubError(`${endpoint}: cannot reach the Hugging Face Hub (${reason}); set HF_HUB_OFFLINE=1 to use only models already in the cache`, undefined, 'Unreachable');
}
