/**
 * One optimizer step's forward and backward pass over a batch of (query, positive, negative) texts, for either
 * loss, in one of three equivalent-or-documented ways:
 * - whole batch: encode everything with autograd, loss, backward;
 * - gradient accumulation (k micro-batches): each micro-batch is its own loss (its own in-batch negatives),
 *   scaled by 1/k, gradients summed;
 * - GradCache (Gao et al. 2021): encode in chunks without autograd, compute the loss on the full batch of
 *   cached embeddings, backpropagate it to the embeddings only, then re-encode each chunk with autograd and
 *   backpropagate the cached embedding gradients. The parameter gradients equal the whole-batch ones
 *   (dropout is replayed by re-seeding libtorch identically in both passes), with the memory of one chunk.
 */
import { cat, manualSeed, noGrad, scope, type Tensor } from '../tensor/index.js';
import type { SentenceEncoder } from '../models/index.js';
import { gtrLoss, tasbLoss, type BatchIds } from './losses/index.js';
import type { InBatchTeacher } from './teachers/teacher.js';

export interface TextBatch {
  qids: string[];
  queries: string[];
  positiveIds: string[];
  positives: string[];
  /** Empty when the batch has no hard negatives (gtr with in-batch negatives only). */
  negativeIds: string[];
  negatives: string[];
  posScores: Float32Array;
  negScores: Float32Array;
}

export interface StepOptions {
  loss: 'tas-b' | 'gtr';
  logitScale: number;
  inBatchWeight: number;
  teacher?: InBatchTeacher;
  gradientAccumulation: number;
  /** 0: off. */
  gradCacheChunk: number;
  /** Base seed of libtorch's generator for this step (dropout); chunk and side are mixed in. */
  dropoutSeed: number;
}

export interface StepResult {
  loss: number;
  parts: Record<string, number>;
}

type Side = 'query' | 'passage';

/** Runs forward + backward; gradients accumulate into the parameters' .grad. */
export function forwardBackward(model: SentenceEncoder, batch: TextBatch, options: StepOptions): StepResult {
  if (options.gradCacheChunk > 0) return gradCacheStep(model, batch, options);
  const k = options.gradientAccumulation;
  const b = batch.queries.length;
  if (k < 1 || k > b) throw new RangeError(`gradient accumulation ${k} must be in 1..batch size ${b}`);
  const totals: Record<string, number> = {};
  let loss = 0;
  for (let m = 0; m < k; m++) {
    const start = Math.floor((m * b) / k);
    const end = Math.floor(((m + 1) * b) / k);
    const micro = sliceBatch(batch, start, end);
    scope(() => {
      const emb = {
        q: encode(model, micro.queries, 'query', seedFor(options.dropoutSeed, m, 0)),
        p: encode(model, micro.positives, 'passage', seedFor(options.dropoutSeed, m, 1)),
        n: micro.negatives.length ? encode(model, micro.negatives, 'passage', seedFor(options.dropoutSeed, m, 2)) : undefined,
      };
      const { loss: l, parts } = batchLoss(emb, micro, options);
      l.div(k).backward();
      loss += l.item() / k;
      for (const [name, v] of Object.entries(parts)) totals[name] = (totals[name] ?? 0) + v / k;
    });
  }
  return { loss, parts: totals };
}

function gradCacheStep(model: SentenceEncoder, batch: TextBatch, options: StepOptions): StepResult {
  const chunk = options.gradCacheChunk;
  const sides: Array<{ texts: string[]; side: Side; tag: number }> = [
    { texts: batch.queries, side: 'query', tag: 0 },
    { texts: batch.positives, side: 'passage', tag: 1 },
  ];
  if (batch.negatives.length) sides.push({ texts: batch.negatives, side: 'passage', tag: 2 });
  return scope(() => {
    // 1. embeddings of every chunk, without autograd
    const cached = sides.map(({ texts, side, tag }) =>
      noGrad(() => {
        const parts: Tensor[] = [];
        for (let s = 0, c = 0; s < texts.length; s += chunk, c++) {
          parts.push(encode(model, texts.slice(s, s + chunk), side, seedFor(options.dropoutSeed, c, tag)));
        }
        return (parts.length === 1 ? parts[0]! : cat(parts, 0)).detach();
      }).requiresGrad_(true),
    );
    // 2. the full-batch loss on the cached embeddings, backpropagated to them only
    const { loss, parts } = batchLoss({ q: cached[0]!, p: cached[1]!, n: cached[2] }, batch, options);
    loss.backward();
    const value = loss.item();
    // 3. re-encode each chunk with autograd and push the cached gradient through it
    sides.forEach(({ texts, side, tag }, i) => {
      const grad = cached[i]!.grad;
      if (!grad) throw new Error('GradCache: the loss does not depend on the embeddings');
      for (let s = 0, c = 0; s < texts.length; s += chunk, c++) {
        scope(() => {
          const emb = encode(model, texts.slice(s, s + chunk), side, seedFor(options.dropoutSeed, c, tag));
          const g = grad.slice(0, s, Math.min(s + chunk, texts.length));
          emb.mul(g).sum().backward();
        });
      }
    });
    return { loss: value, parts };
  });
}

/** The recipe loss of one batch of embeddings (rows aligned with the batch), with loggable parts. */
export function batchLoss(emb: { q: Tensor; p: Tensor; n?: Tensor }, batch: Pick<TextBatch, "qids" | "positiveIds" | "negativeIds" | "queries" | "positives" | "negatives" | "posScores" | "negScores">, options: StepOptions): { loss: Tensor; parts: Record<string, number> } {
  if (options.loss === 'gtr') {
    const ids: BatchIds = { queries: batch.qids, positives: batch.positiveIds, negatives: batch.negatives.length ? batch.negativeIds : undefined };
    const r = gtrLoss({ queries: emb.q, positives: emb.p, negatives: emb.n, logitScale: options.logitScale, ids });
    return { loss: r.loss, parts: { ce_query_to_passage: r.queryToPassage.item(), ce_passage_to_query: r.passageToQuery.item() } };
  }
  if (!emb.n) throw new RangeError('the tas-b loss needs a negative passage per query');
  let teacherPos: Tensor | undefined;
  let teacherNeg: Tensor | undefined;
  if (options.teacher && options.inBatchWeight > 0) {
    teacherPos = options.teacher.scores(batch.queries, batch.positives);
    teacherNeg = options.teacher.scores(batch.queries, batch.negatives);
  }
  const r = tasbLoss({
    queries: emb.q, positives: emb.p, negatives: emb.n, posScores: batch.posScores, negScores: batch.negScores,
    teacherPos, teacherNeg, inBatchWeight: options.inBatchWeight,
  });
  const parts: Record<string, number> = { l_pair: r.pairwise.item() };
  if (r.inBatch) parts.l_inb = r.inBatch.item();
  return { loss: r.loss, parts };
}

function encode(model: SentenceEncoder, texts: string[], side: Side, seed: number): Tensor {
  manualSeed(seed);
  return model.forward(model.tokenize(texts, side));
}

/** A distinct, reproducible libtorch seed per (step seed, chunk, side). */
function seedFor(base: number, chunk: number, side: number): number {
  return (base * 1000003 + chunk * 7 + side) % 2147483647;
}

function sliceBatch(b: TextBatch, start: number, end: number): TextBatch {
  return {
    qids: b.qids.slice(start, end),
    queries: b.queries.slice(start, end),
    positiveIds: b.positiveIds.slice(start, end),
    positives: b.positives.slice(start, end),
    negativeIds: b.negativeIds.slice(start, end),
    negatives: b.negatives.slice(start, end),
    posScores: b.posScores.slice(start, end),
    negScores: b.negScores.slice(start, end),
  };
}
