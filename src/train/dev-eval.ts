/**
 * Dev-set evaluation during training: encode the dev corpus and queries with the current weights, rank the
 * whole corpus per query by the model's similarity (exhaustive), keep the top 100, and score the run with the
 * trec_eval-exact evaluator.
 */
import { noGrad, scope, tensor } from '../tensor/index.js';
import type { SentenceEncoder } from '../models/index.js';
import { evaluate } from '../eval/index.js';
import { readQrels, readTextMap, type Qrels, type Run, type RunHit } from '../formats/index.js';
import { UsageError } from '../errors.js';

export type DevMetric = 'ndcg_cut_10' | 'recall_100' | 'recip_rank';
const MEASURE: Record<DevMetric, string> = { ndcg_cut_10: 'ndcg_cut.10', recall_100: 'recall.100', recip_rank: 'recip_rank' };

export class DevSet {
  private constructor(
    readonly queryIds: string[],
    readonly queryTexts: string[],
    readonly docIds: string[],
    readonly docTexts: string[],
    readonly qrels: Qrels,
  ) {}

  static async load(files: { queries?: string; qrels?: string; corpus?: string }, label: string): Promise<DevSet | undefined> {
    if (!files.queries && !files.qrels && !files.corpus) return undefined;
    if (!files.queries || !files.qrels || !files.corpus) throw new UsageError(`${label}: dev evaluation needs eval.queries, eval.qrels and eval.corpus together`);
    const qrels = await readQrels(files.qrels);
    const queries = await readTextMap(files.queries, { needed: new Set(qrels.keys()) });
    const corpus = await readTextMap(files.corpus);
    return new DevSet([...queries.keys()], [...queries.values()], [...corpus.keys()], [...corpus.values()], qrels);
  }

  /** The metric's value for the model as it is now (dropout off meanwhile; `trainMode` is restored after). */
  evaluate(model: SentenceEncoder, metric: DevMetric, trainMode: boolean, depth = 100): number {
    model.train(false);
    try {
      const q = model.embed(this.queryTexts, 'query', { batchSize: 64 }).vectors;
      const d = model.embed(this.docTexts, 'passage', { batchSize: 64 }).vectors;
      const k = Math.min(depth, this.docIds.length);
      const { values, indices } = noGrad(() =>
        scope(() => {
          const qt = tensor(q, { shape: [this.queryIds.length, model.dim], dtype: 'float32' });
          const dt = tensor(d, { shape: [this.docIds.length, model.dim], dtype: 'float32' });
          const top = qt.matmul(dt.transpose(0, 1)).topk(k, 1);
          return { values: top.values.toFloat32Array(), indices: top.indices.toArray() };
        }),
      );
      const run: Run = { runId: 'dev', queries: new Map() };
      this.queryIds.forEach((qid, i) => {
        const hits: RunHit[] = [];
        for (let r = 0; r < k; r++) hits.push({ id: this.docIds[indices[i * k + r]!]!, score: values[i * k + r]!, rank: r + 1 });
        run.queries.set(qid, hits);
      });
      const result = evaluate(this.qrels, run, { measures: [MEASURE[metric]] });
      return Number(result.aggregate[metric]);
    } finally {
      model.train(trainMode);
    }
  }
}
