/**
 * Paths named inside a file (a checkpoint's modules.json, a manifest's shard list) must stay inside the
 * folder that file describes: `../../etc` or an absolute path would read, or later overwrite, files the
 * folder's author chose. Checked lexically, so symlinks inside the folder (the Hugging Face cache links
 * snapshots to blobs) keep working.
 */
import { isAbsolute, join, normalize, sep } from 'node:path';
import { InputError } from '../errors.js';

/** `dir/rel`, or an InputError naming `file` (and `field`) when `rel` is absolute or climbs out of `dir`. */
export function pathInside(dir: string, rel: string, file: string, field: string): string {
  const n = normalize(rel);
  if (isAbsolute(rel) || n === '..' || n.startsWith(`..${sep}`) || rel.includes('\0'))
    throw new InputError(file, undefined, `${field} ${JSON.stringify(rel)} points outside ${dir}; paths in it must stay inside its folder`);
  return join(dir, n);
}
