/**
 * What the page's bundle gets for `node:fs` (esbuild aliases it here, src/web-export/bundle.ts): an in-memory
 * folder of the files the page fetched. It lets densekit's own tokenizer loaders (src/text/load.ts and the
 * readers behind it) run unchanged in the browser on the model's tokenizer files, so the ids the page feeds
 * the model are the ids `densekit tokenize` prints, from the same code rather than a port of it.
 * Only the synchronous calls those loaders make exist; anything else fails loudly.
 */
const files = new Map<string, Uint8Array>();
const dirs = new Set<string>();

/** Puts a fetched file at `path` ('/'-separated, absolute) and makes its parent folders exist. */
export function mountFile(path: string, bytes: Uint8Array): void {
  files.set(path, bytes);
  for (let d = path.slice(0, path.lastIndexOf('/')); d !== ''; d = d.slice(0, d.lastIndexOf('/'))) dirs.add(d);
}

function missing(path: string): Error {
  return Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' });
}

export function existsSync(path: string): boolean {
  return files.has(path) || dirs.has(path);
}

export function statSync(path: string): { isDirectory(): boolean; isFile(): boolean; size: number } {
  const f = files.get(path);
  if (f === undefined && !dirs.has(path)) throw missing(path);
  return { isDirectory: () => f === undefined, isFile: () => f !== undefined, size: f?.byteLength ?? 0 };
}

export function readFileSync(path: string, encoding?: string): Buffer | string {
  const f = files.get(path);
  if (f === undefined) throw dirs.has(path) ? Object.assign(new Error(`EISDIR: '${path}'`), { code: 'EISDIR' }) : missing(path);
  const buf = Buffer.from(f.buffer, f.byteOffset, f.byteLength);
  return encoding === undefined ? buf : buf.toString(encoding as BufferEncoding);
}

function unavailable(name: string): () => never {
  return () => {
    throw new Error(`node:fs ${name} is not available in the browser bundle`);
  };
}
export const createReadStream = unavailable('createReadStream');
export const readdirSync = unavailable('readdirSync');
export const openSync = unavailable('openSync');
export default { existsSync, statSync, readFileSync, createReadStream, readdirSync, openSync };
