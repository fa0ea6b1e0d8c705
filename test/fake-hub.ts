/**
 * A fake Hugging Face Hub on 127.0.0.1 for the download tests: a real node:http server speaking the Hub's
 * endpoints (model info by revision, tree, paths-info, /resolve/ with X-Repo-Commit, ETag / X-Linked-Etag,
 * X-Linked-Size, 401 / 404 with X-Error-Code) and a second server on another port that holds the LFS files the
 * Hub redirects to (302), with Range support. Faults: corrupted bytes, a connection cut mid-file, a gated repo
 * that needs a token, a file listed but missing, throttled transfers (for concurrent downloaders).
 * Hashes are computed here from the served bytes (sha256 for LFS, git's blob sha1 otherwise), independently of
 * the code under test.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { AddressInfo } from 'node:net';

export interface FakeFile {
  content: Buffer;
  lfs: boolean;
  sha256: string;
  gitOid: string;
}

export interface FakeRepo {
  /** commit -> path -> file */
  commits: Map<string, Map<string, FakeFile>>;
  /** branch or tag -> commit */
  refs: Map<string, string>;
  /** Only this token may read it (a gated model); undefined: public. */
  token?: string;
}

export interface RequestRecord {
  server: 'hub' | 'lfs';
  method: string;
  url: string;
  range?: string;
  authorization?: string;
}

export interface Faults {
  /** LFS sha256 -> serve these bytes with one byte flipped. */
  corrupt: Set<string>;
  /** LFS sha256 -> for the next `times` requests, cut the connection once the file's byte offset `afterBytes` is passed. */
  cut: Map<string, { afterBytes: number; times: number }>;
  /** repo path ("org/name:path") listed, but /resolve/ answers 404 EntryNotFound. */
  missing: Set<string>;
  /** Bytes per second for LFS bodies (0: unthrottled). */
  lfsBytesPerSecond: number;
}

const LFS_EXTENSIONS = ['.safetensors', '.bin', '.model', '.h5', '.onnx', '.msgpack'];

export function fakeFile(content: Buffer, path: string): FakeFile {
  return {
    content,
    lfs: LFS_EXTENSIONS.some((e) => path.endsWith(e)),
    sha256: createHash('sha256').update(content).digest('hex'),
    gitOid: createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex'),
  };
}

/** Every file under a folder, by repository path. */
export function filesOf(dir: string): Map<string, FakeFile> {
  const out = new Map<string, FakeFile>();
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else {
        const path = relative(dir, p).split('\\').join('/');
        out.set(path, fakeFile(readFileSync(p), path));
      }
    }
  };
  walk(dir);
  return out;
}

export function commitId(seed: string): string {
  return createHash('sha1').update(seed).digest('hex');
}

export class FakeHub {
  readonly repos = new Map<string, FakeRepo>();
  readonly requests: RequestRecord[] = [];
  readonly faults: Faults = { corrupt: new Set(), cut: new Map(), missing: new Set(), lfsBytesPerSecond: 0 };
  private hub!: Server;
  private lfs!: Server;
  endpoint = '';
  lfsOrigin = '';

  async start(): Promise<this> {
    this.hub = createServer((req, res) => void this.onHub(req, res).catch((e) => this.fail(res, e)));
    this.lfs = createServer((req, res) => void this.onLfs(req, res).catch((e) => this.fail(res, e)));
    for (const [server, set] of [[this.hub, (u: string) => (this.endpoint = u)], [this.lfs, (u: string) => (this.lfsOrigin = u)]] as const) {
      await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
      set(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    }
    return this;
  }

  async stop(): Promise<void> {
    for (const s of [this.hub, this.lfs]) {
      s.closeAllConnections();
      await new Promise<void>((ok) => s.close(() => ok()));
    }
  }

  /** Adds a repo whose `main` (and any extra refs) point at one commit holding these files. */
  addRepo(id: string, files: Map<string, FakeFile>, opts: { token?: string; refs?: string[] } = {}): string {
    const commit = commitId(`${id}:${[...files.values()].map((f) => f.gitOid).join(',')}`);
    const repo: FakeRepo = this.repos.get(id) ?? { commits: new Map(), refs: new Map(), token: opts.token };
    repo.commits.set(commit, files);
    for (const ref of ['main', ...(opts.refs ?? [])]) repo.refs.set(ref, commit);
    this.repos.set(id, repo);
    return commit;
  }

  private fail(res: ServerResponse, e: unknown): void {
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(String(e));
  }

  private error(res: ServerResponse, status: number, code: string): void {
    res.writeHead(status, { 'content-type': 'application/json', 'x-error-code': code, 'x-error-message': `${code} (fake hub)` });
    res.end(JSON.stringify({ error: code }));
  }

  /** The repo and commit a request may see, or an error already sent (401 for anonymous callers, as the Hub does). */
  private access(req: IncomingMessage, res: ServerResponse, id: string, rev: string): { repo: FakeRepo; commit: string } | undefined {
    const repo = this.repos.get(id);
    const auth = req.headers.authorization;
    if (!repo) {
      this.error(res, auth ? 404 : 401, 'RepoNotFound');
      return undefined;
    }
    if (repo.token !== undefined && auth !== `Bearer ${repo.token}`) {
      this.error(res, auth ? 403 : 401, 'GatedRepo');
      return undefined;
    }
    const commit = repo.commits.has(rev) ? rev : repo.refs.get(rev);
    if (!commit) {
      this.error(res, 404, 'RevisionNotFound');
      return undefined;
    }
    return { repo, commit };
  }

  private async onHub(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url!, this.endpoint);
    this.requests.push({ server: 'hub', method: req.method!, url: url.pathname + url.search, range: req.headers.range, authorization: req.headers.authorization });
    const path = url.pathname.split('/').map(decodeURIComponent);
    // /api/models/ORG/NAME[/revision/REV | /tree/REV | /paths-info/REV]
    if (path[1] === 'api' && path[2] === 'models') {
      const id = `${path[3]}/${path[4]}`;
      const verb = path[5];
      const rev = path.slice(6).join('/') || 'main';
      const seen = this.access(req, res, id, verb === undefined ? 'main' : rev);
      if (!seen) return;
      const files = seen.repo.commits.get(seen.commit)!;
      const entry = (p: string, f: FakeFile) => ({
        type: 'file', path: p, oid: f.gitOid, size: f.content.length,
        ...(f.lfs ? { lfs: { oid: f.sha256, size: f.content.length, pointerSize: 130 } } : {}),
      });
      res.setHeader('content-type', 'application/json');
      if (verb === undefined || verb === 'revision') {
        res.end(JSON.stringify({
          _id: commitId(id).slice(0, 24), id, sha: seen.commit, private: seen.repo.token !== undefined, gated: false,
          downloads: 0, likes: 0, lastModified: '2024-01-01T00:00:00.000Z', pipeline_tag: 'sentence-similarity',
          siblings: [...files.keys()].map((rfilename) => ({ rfilename })),
        }));
      } else if (verb === 'tree') {
        res.end(JSON.stringify([...files].map(([p, f]) => entry(p, f))));
      } else if (verb === 'paths-info' && req.method === 'POST') {
        const body = JSON.parse(await readBody(req)) as { paths: string[] };
        res.end(JSON.stringify(body.paths.filter((p) => files.has(p)).map((p) => entry(p, files.get(p)!))));
      } else this.error(res, 404, 'EntryNotFound');
      return;
    }
    // /ORG/NAME/resolve/REV/PATH
    if (path[3] === 'resolve') {
      const id = `${path[1]}/${path[2]}`;
      const seen = this.access(req, res, id, path[4]!);
      if (!seen) return;
      const filePath = path.slice(5).join('/');
      const file = seen.repo.commits.get(seen.commit)!.get(filePath);
      if (!file || this.faults.missing.has(`${id}:${filePath}`)) return this.error(res, 404, 'EntryNotFound');
      const common = { 'x-repo-commit': seen.commit, 'accept-ranges': 'bytes' };
      if (file.lfs) {
        res.writeHead(302, {
          ...common, location: `${this.lfsOrigin}/lfs/${file.sha256}?signature=fake`, 'x-linked-etag': `"${file.sha256}"`,
          'x-linked-size': String(file.content.length), etag: `"${file.gitOid}"`, 'content-length': '0',
        });
        res.end();
        return;
      }
      sendBytes(req, res, file.content, { ...common, etag: `"${file.gitOid}"` }, 0, () => false);
      return;
    }
    this.error(res, 404, 'RepoNotFound');
  }

  private async onLfs(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url!, this.lfsOrigin);
    this.requests.push({ server: 'lfs', method: req.method!, url: url.pathname + url.search, range: req.headers.range, authorization: req.headers.authorization });
    const sha = url.pathname.replace('/lfs/', '');
    let file: FakeFile | undefined;
    for (const repo of this.repos.values()) for (const files of repo.commits.values()) for (const f of files.values()) if (f.sha256 === sha) file = f;
    if (!file) {
      res.writeHead(404);
      res.end();
      return;
    }
    let content = file.content;
    if (this.faults.corrupt.has(sha)) {
      content = Buffer.from(content);
      content[content.length >> 1]! ^= 0xff;
    }
    const cut = this.faults.cut.get(sha);
    let cutAt = Infinity;
    if (cut && cut.times > 0) {
      cut.times--;
      cutAt = cut.afterBytes;
    }
    sendBytes(req, res, content, {}, this.faults.lfsBytesPerSecond, (offset) => offset >= cutAt);
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((ok, fail) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => ok(Buffer.concat(chunks).toString('utf8')));
    req.on('error', fail);
  });
}

/** 200 or 206 (one `bytes=N-` / `bytes=N-M` range), in 16 KiB chunks, optionally throttled or cut. */
function sendBytes(req: IncomingMessage, res: ServerResponse, content: Buffer, headers: Record<string, string>, bytesPerSecond: number, cutNow: (offset: number) => boolean): void {
  let start = 0;
  let end = content.length - 1;
  let status = 200;
  const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
  if (m) {
    start = Number(m[1]);
    end = m[2] ? Math.min(Number(m[2]), end) : end;
    if (start > end) {
      res.writeHead(416, { ...headers, 'content-range': `bytes */${content.length}` });
      res.end();
      return;
    }
    status = 206;
    headers = { ...headers, 'content-range': `bytes ${start}-${end}/${content.length}` };
  }
  res.writeHead(status, { ...headers, 'content-length': String(end - start + 1), 'content-type': 'application/octet-stream' });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const chunk = 16 * 1024;
  let pos = start;
  const pump = () => {
    while (pos <= end) {
      if (pos > start && cutNow(pos)) {
        res.socket?.destroy(); // the connection drops mid-file, headers already promised the full length
        return;
      }
      const n = Math.min(chunk, end - pos + 1);
      const ok = res.write(content.subarray(pos, pos + n));
      pos += n;
      if (bytesPerSecond > 0) {
        setTimeout(pump, (1000 * n) / bytesPerSecond);
        return;
      }
      if (!ok) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}
