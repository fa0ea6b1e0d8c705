/** Bridges search results to the eval module's run files (TREC or MS MARCO, written atomically). */
import { writeRun, type RunFormat, type RunHit } from '../eval/index.js';
import type { RunHits } from '../retrieval/fusion.js';

export function toEvalRun(run: RunHits): Map<string, RunHit[]> {
  const out = new Map<string, RunHit[]>();
  for (const [qid, hits] of run) out.set(qid, hits.map((h, i) => ({ docId: h.id, score: h.score, rank: i + 1 })));
  return out;
}

export async function writeRunFile(path: string, run: RunHits, format: RunFormat = 'trec', tag = 'densekit'): Promise<void> {
  await writeRun(path, toEvalRun(run), { format, tag });
}
