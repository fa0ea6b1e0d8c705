/**
 * The built-in recipes, as the papers and their released code train. Data paths are left out: the command
 * line supplies them (`densekit train --recipe tas-b --queries ... --collection ... --teacher-pairs ...`).
 */
export const BUILTIN_RECIPES: Record<string, unknown> = {
  /**
   * TAS-Balanced (Hofstätter et al., SIGIR 2021): DistilBERT dot-product student, topic-aware batches from
   * query clusters, balanced margin sampling, dual-teacher loss (pairwise ensemble margins + 0.75 * in-batch
   * Margin-MSE against a ColBERT teacher), Adam at 7e-6, mixed precision, batch 256, 30 / 200 tokens.
   */
  'tas-b': {
    name: 'tas-b',
    seed: 42,
    stages: [
      {
        name: 'tas-b',
        model: 'distilbert-base-uncased',
        pooling: 'cls',
        projection: 0,
        similarity: 'dot',
        loss: 'tas-b',
        sampling: { batches: 'cluster', pairs: 'bins', clustersPerBatch: 1 },
        teacher: { kind: 'colbert', weight: 0.75, maxLength: 200 },
        batchSize: 256,
        queryMaxLength: 30,
        passageMaxLength: 200,
        precision: 'bf16',
        steps: 200000,
        optimizer: { name: 'adam', lr: 7e-6, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 },
        schedule: { kind: 'constant', warmupSteps: 0 },
        checkpointEvery: 4000,
        eval: { every: 4000, metric: 'ndcg_cut_10', patience: 0 },
      },
    ],
  },
  /**
   * GTR fine-tuning (Ni et al., 2021, t5x_retrieval): bidirectional in-batch softmax over cosine scores x 100,
   * hard negatives on the query->document side only, Adafactor (decay rate 0.8, no parameter scaling,
   * update clipping 1.0) at 1e-3 with 1,000 warm-up steps and linear decay. A two-stage chain (question-answer
   * pre-training, then MS MARCO) is in recipes/gtr-two-stage.yaml.
   */
  gtr: {
    name: 'gtr',
    seed: 42,
    stages: [
      {
        name: 'gtr-finetune',
        model: 'sentence-transformers/gtr-t5-base',
        pooling: 'mean',
        projection: 768,
        similarity: 'cosine',
        loss: 'gtr',
        sampling: { batches: 'shuffled', pairs: 'random' },
        logitScale: 100,
        batchSize: 512,
        gradCacheChunk: 64,
        queryMaxLength: 64,
        passageMaxLength: 256,
        precision: 'bf16',
        steps: 20000,
        optimizer: { name: 'adafactor', lr: 1e-3, decayRate: -0.8, clipThreshold: 1.0, weightDecay: 0 },
        schedule: { kind: 'linear', warmupSteps: 1000 },
        checkpointEvery: 1000,
        eval: { every: 1000, metric: 'ndcg_cut_10', patience: 0 },
      },
    ],
  },
};
