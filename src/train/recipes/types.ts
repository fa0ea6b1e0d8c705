/** The validated recipe, every default filled in (see schema.ts for each key's meaning). */
export interface RecipeData {
  queries?: string;
  collection?: string;
  teacherPairs?: string;
  triples?: string;
  qrels?: string;
  negatives?: string;
  negativesPerPositive: number;
  clusters?: string;
  missingIds: 'skip' | 'fail';
}

export interface StageRecipe {
  name?: string;
  model?: string;
  initialize: 'pretrained' | 'random';
  pooling?: 'cls' | 'mean' | 'max' | 'mean_sqrt_len';
  projection?: number;
  similarity?: 'dot' | 'cosine';
  loss: 'tas-b' | 'gtr';
  data: RecipeData;
  sampling: { batches: 'cluster' | 'shuffled'; pairs: 'bins' | 'random'; clustersPerBatch: number };
  teacher: { kind: 'colbert' | 'densekit' | 'none'; path?: string; weight: number; maxLength: number };
  batchSize: number;
  gradientAccumulation: number;
  gradCacheChunk: number;
  queryMaxLength: number;
  passageMaxLength: number;
  logitScale: number;
  precision: 'fp32' | 'bf16';
  steps: number;
  dropout: boolean;
  optimizer: {
    name: 'adam' | 'adamw' | 'adafactor';
    lr: number;
    betas: [number, number];
    eps: number;
    weightDecay: number;
    decayRate: number;
    clipThreshold: number;
    adafactorEps: [number, number];
    maxGradNorm: number;
  };
  schedule: { kind: 'constant' | 'linear' | 'cosine'; warmupSteps: number };
  eval: { queries?: string; qrels?: string; corpus?: string; every: number; metric: 'ndcg_cut_10' | 'recall_100' | 'recip_rank'; patience: number };
  logEvery: number;
  checkpointEvery: number;
}

export interface Recipe {
  name?: string;
  seed: number;
  threads: number;
  stages: StageRecipe[];
}
