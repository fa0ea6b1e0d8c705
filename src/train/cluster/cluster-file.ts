/**
 * Query cluster files in the released TAS-Balanced layout (`cluster-assignment-ids.tsv`): line c lists the
 * query ids of cluster c, tab-separated; an empty line is an empty cluster. `densekit cluster-queries` writes
 * this file (plus the centroids as .npy, to assign new queries later); training reads it.
 */
import { InputError } from '../../errors.js';
import { writeFileAtomicSync } from '../../util/fs.js';
import { readLines } from '../data/lines.js';

export async function readClusterFile(file: string): Promise<string[][]> {
  const clusters: string[][] = [];
  const seen = new Map<string, number>();
  for await (const { text, lineNo } of readLines(file)) {
    const ids = text.trim() === '' ? [] : text.trim().split(/\s+/);
    for (const id of ids) {
      const earlier = seen.get(id);
      if (earlier !== undefined) throw new InputError(file, lineNo, `query ${JSON.stringify(id)} is already in the cluster on line ${earlier}`);
      seen.set(id, lineNo);
    }
    clusters.push(ids);
  }
  if (seen.size === 0) throw new InputError(file, undefined, 'the cluster file is empty (expected one line of tab-separated query ids per cluster)');
  return clusters;
}

/** Group ids by their cluster number and write one line per cluster (k lines, empty ones included). */
export function writeClusterFile(file: string, ids: readonly string[], assignment: ArrayLike<number>, k: number): number[] {
  const clusters: string[][] = Array.from({ length: k }, () => []);
  ids.forEach((id, i) => clusters[assignment[i]!]!.push(id));
  writeFileAtomicSync(file, clusters.map((c) => c.join('\t') + '\n').join(''));
  return clusters.map((c) => c.length);
}
