/**
 * Hard-negative mining with the current model (GTR's second stage, ANCE-style refreshes): encode the
 * collection, retrieve exhaustively for each training query, and keep the top-ranked passages that the qrels
 * do not mark relevant. Written as a TREC run so it can be inspected and evaluated like any run.
 */
import { noGrad, scope, tensor } from '../tensor/index.js';
import type { SentenceEncoder } from '../models/index.js';
import { UsageError } from '../errors.js';
import { writeFileAtomicSync } from '../util/fs.js';
import { readTrainQrels } from './data/index.js';
import { readTextMap } from '../formats/index.js';

export interface MineOptions {
  model: SentenceEncoder;
  queriesFile: string;
  collectionFile: string;
  qrelsFile: string;
  output: string;
  depth: number;
  /** Non-relevant hits to pass over at the top (false negatives are likeliest there). */
  skip?: number;
  batchSize?: number;
  /** Passages scored per block (memory bound of the score matrix). */
  blockSize?: number;
  log?: (line: string) => void;
}

export async function mineHardNegatives(o: MineOptions): Promise<{ queries: number; passages: number; negatives: number }> {
  const skip = o.skip ?? 0;
  if (!Number.isInteger(skip) || skip < 0) throw new UsageError(`--skip expects a non-negative integer, got ${o.skip}`);
  const positives = await readTrainQrels(o.qrelsFile);
  const queries = await readTextMap(o.queriesFile, { needed: new Set(positives.keys()) });
  if (queries.size === 0) throw new UsageError(`${o.queriesFile}: none of the ${positives.size} queries in ${o.qrelsFile} is present`);
  const collection = await readTextMap(o.collectionFile);
  const qids = [...queries.keys()];
  const pids = [...collection.keys()];
  o.log?.(`encoding ${qids.length} queries and ${pids.length} passages`);
  const dim = o.model.dim;
  const q = o.model.embed([...queries.values()], 'query', { batchSize: o.batchSize ?? 64 }).vectors;
  const d = o.model.embed([...collection.values()], 'passage', { batchSize: o.batchSize ?? 64 }).vectors;
  // Enough candidates that `depth` non-relevant ones remain after removing positives and the skipped top.
  const k = Math.min(pids.length, o.depth + skip + Math.max(...[...positives.values()].map((p) => p.length)));
  const block = o.blockSize ?? 100_000;
  const best: Array<Array<{ pid: number; score: number }>> = qids.map(() => []);
  for (let start = 0; start < pids.length; start += block) {
    const end = Math.min(pids.length, start + block);
    const kk = Math.min(k, end - start);
    const { values, indices } = noGrad(() =>
      scope(() => {
        const qt = tensor(q, { shape: [qids.length, dim], dtype: 'float32' });
        const dt = tensor(d.subarray(start * dim, end * dim), { shape: [end - start, dim], dtype: 'float32' });
        const top = qt.matmul(dt.transpose(0, 1)).topk(kk, 1);
        return { values: top.values.toFloat32Array(), indices: top.indices.toArray() };
      }),
    );
    qids.forEach((_, i) => {
      for (let r = 0; r < kk; r++) best[i]!.push({ pid: start + indices[i * kk + r]!, score: values[i * kk + r]! });
      best[i]!.sort((a, b) => b.score - a.score || a.pid - b.pid);
      best[i]!.length = Math.min(best[i]!.length, k);
    });
  }
  const lines: string[] = [];
  let negatives = 0;
  qids.forEach((qid, i) => {
    const relevant = new Set(positives.get(qid));
    const hits = best[i]!.filter((h) => !relevant.has(pids[h.pid]!)).slice(skip, skip + o.depth);
    hits.forEach((h, r) => lines.push(`${qid} Q0 ${pids[h.pid]} ${r + 1} ${h.score} densekit-mine\n`));
    negatives += hits.length;
  });
  writeFileAtomicSync(o.output, lines.join(''));
  return { queries: qids.length, passages: pids.length, negatives };
}
