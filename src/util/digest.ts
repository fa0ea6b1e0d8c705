/**
 * Content digests for job identity: a resumed job, or a cache reused by `densekit beir`, must be the same
 * job, and a path says nothing about what is behind it now (the corpus may have been regenerated in place).
 */
import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** sha256 (hex) and size of a file's bytes, streamed. */
export async function fileDigest(path: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).byteLength;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** sha256 over every file in a folder (names and contents, sorted, symlinks followed: the Hugging Face cache links to blobs). */
export async function folderDigest(dir: string): Promise<string> {
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      if (name.startsWith('.')) continue; // .git, editors' and densekit's temp files are not the model
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) files.push(p);
    }
  };
  walk(dir);
  const hash = createHash('sha256');
  for (const f of files) hash.update(`${relative(dir, f)}\0${(await fileDigest(f)).sha256}\0`);
  return hash.digest('hex');
}
