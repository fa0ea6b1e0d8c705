/**
 * The recipe schema: every key a recipe file may hold, its type, default and meaning. Validation walks this
 * table, so an unknown key, a wrong type or an out-of-range value is one error naming the key's path; and
 * `describeRecipeSchema()` renders the same table as the documentation (recipes/README.md).
 */
export type FieldSpec =
  | { type: 'string'; doc: string; default?: string; required?: boolean }
  | { type: 'number'; doc: string; default?: number; min?: number; max?: number; exclusiveMin?: boolean }
  | { type: 'integer'; doc: string; default?: number; min?: number }
  | { type: 'boolean'; doc: string; default?: boolean }
  | { type: 'enum'; doc: string; values: readonly string[]; default?: string }
  | { type: 'numberPair'; doc: string; default?: [number, number] }
  | { type: 'object'; doc: string; fields: Record<string, FieldSpec> }
  | { type: 'array'; doc: string; items: FieldSpec; minItems?: number };

const data: FieldSpec = {
  type: 'object',
  doc: 'Training data. Paths are relative to the recipe file; command-line flags override them.',
  fields: {
    queries: { type: 'string', doc: 'Training queries: `id<TAB>text` TSV (MS MARCO queries.train.tsv) or BEIR queries.jsonl.' },
    collection: { type: 'string', doc: 'Passages: `id<TAB>text` TSV (MS MARCO collection.tsv) or BEIR corpus.jsonl (title + " " + text).' },
    teacherPairs: { type: 'string', doc: 'Pairwise teacher scores, `pos_score neg_score qid pos_pid neg_pid` per line (the published TAS-B files). Needed by the tas-b loss.' },
    triples: { type: 'string', doc: 'Id triples `qid pos_pid neg_pid` (MS MARCO qidpidtriples). Alternative to qrels + negatives.' },
    qrels: { type: 'string', doc: 'Train qrels (BEIR `query-id corpus-id score` or TREC 4 columns): positives.' },
    negatives: { type: 'string', doc: 'Mined hard negatives: a TREC run (from `densekit mine`), paired with the qrels positives.' },
    negativesPerPositive: { type: 'integer', min: 1, default: 1, doc: 'With qrels + negatives: how many top mined negatives form pairs with each positive.' },
    clusters: { type: 'string', doc: 'Query cluster file from `densekit cluster-queries` (one line of tab-separated query ids per cluster). Enables topic-aware batches.' },
    missingIds: { type: 'enum', values: ['skip', 'fail'], default: 'fail', doc: 'Pairs whose query or passage id is missing from the texts: `skip` drops and counts them, `fail` stops with an error.' },
  },
};

const sampling: FieldSpec = {
  type: 'object',
  doc: 'How batches are composed.',
  fields: {
    batches: { type: 'enum', values: ['cluster', 'shuffled'], default: 'shuffled', doc: '`cluster`: TAS topic-aware batches from data.clusters; `shuffled`: queries in random order per epoch.' },
    pairs: { type: 'enum', values: ['bins', 'random'], default: 'random', doc: '`bins`: TAS-Balanced margin sampling (10 equal-width margin bins, a non-empty bin uniformly, then a pair uniformly); `random`: a pair uniformly.' },
    clustersPerBatch: { type: 'integer', min: 1, default: 1, doc: 'Cluster sampling: the batch takes floor(batchSize / clustersPerBatch) queries per drawn cluster.' },
  },
};

const optimizer: FieldSpec = {
  type: 'object',
  doc: 'Optimizer (over every parameter, like torch.optim / transformers).',
  fields: {
    name: { type: 'enum', values: ['adam', 'adamw', 'adafactor'], default: 'adam', doc: 'torch.optim.Adam, torch.optim.AdamW, or transformers 4.19 Adafactor.' },
    lr: { type: 'number', min: 0, exclusiveMin: true, default: 7e-6, doc: 'Peak learning rate.' },
    betas: { type: 'numberPair', default: [0.9, 0.999], doc: 'Adam/AdamW (beta1, beta2).' },
    eps: { type: 'number', min: 0, default: 1e-8, doc: 'Adam/AdamW epsilon.' },
    weightDecay: { type: 'number', min: 0, default: 0, doc: 'Adam: L2 added to the gradient; AdamW/Adafactor: decoupled decay.' },
    decayRate: { type: 'number', default: -0.8, doc: 'Adafactor decay_rate (transformers sign convention: -0.8 means beta2_t = 1 - t^-0.8).' },
    clipThreshold: { type: 'number', min: 0, default: 1.0, doc: 'Adafactor update RMS clipping threshold.' },
    adafactorEps: { type: 'numberPair', default: [1e-30, 1e-3], doc: 'Adafactor eps (regularizer of the squared gradient, parameter-scale floor).' },
    maxGradNorm: { type: 'number', min: 0, default: 0, doc: 'Clip the global gradient L2 norm to this before the step; 0 disables.' },
  },
};

const schedule: FieldSpec = {
  type: 'object',
  doc: 'Learning-rate schedule (multiplier of optimizer.lr per step).',
  fields: {
    kind: { type: 'enum', values: ['constant', 'linear', 'cosine'], default: 'constant', doc: 'After warm-up: constant, linear decay to 0 at the last step, or half-cosine decay to 0.' },
    warmupSteps: { type: 'integer', min: 0, default: 0, doc: 'Linear warm-up from 0 over this many steps (transformers get_*_schedule_with_warmup).' },
  },
};

const teacher: FieldSpec = {
  type: 'object',
  doc: 'The in-batch teacher of the tas-b loss, scored online on each batch.',
  fields: {
    kind: { type: 'enum', values: ['colbert', 'densekit', 'none'], default: 'none', doc: '`colbert`: a ColBERT checkpoint in the neural-ranking-kd layout; `densekit`: any model densekit loads; `none`: pairwise loss only.' },
    path: { type: 'string', doc: 'Teacher checkpoint folder or name.' },
    weight: { type: 'number', min: 0, default: 0.75, doc: 'Weight of the in-batch Margin-MSE term: L = L_pair + weight * L_inb.' },
    maxLength: { type: 'integer', min: 1, default: 200, doc: 'Teacher passage token limit (queries use the stage queryMaxLength).' },
  },
};

const evaluation: FieldSpec = {
  type: 'object',
  doc: 'Periodic evaluation on a dev set (exhaustive search over the dev corpus) with early stopping.',
  fields: {
    queries: { type: 'string', doc: 'Dev queries (TSV or BEIR jsonl). Evaluation is off without it.' },
    qrels: { type: 'string', doc: 'Dev qrels (BEIR or TREC).' },
    corpus: { type: 'string', doc: 'Dev corpus (TSV or BEIR jsonl).' },
    every: { type: 'integer', min: 1, default: 1000, doc: 'Evaluate every this many optimizer steps (and at the end).' },
    metric: { type: 'enum', values: ['ndcg_cut_10', 'recall_100', 'recip_rank'], default: 'ndcg_cut_10', doc: 'trec_eval measure used for model selection.' },
    patience: { type: 'integer', min: 0, default: 0, doc: 'Stop after this many evaluations without improvement; 0 never stops early.' },
  },
};

const stage: FieldSpec = {
  type: 'object',
  doc: 'One training stage; each stage after the first starts from the previous stage\'s final checkpoint.',
  fields: {
    name: { type: 'string', doc: 'Stage name (its checkpoints go to OUTPUT/<name>).' },
    model: { type: 'string', doc: 'Starting model (sentence-transformers folder or name). Stage 1 only (or --model); later stages continue from the previous one.' },
    loss: { type: 'enum', values: ['tas-b', 'gtr'], default: 'gtr', doc: '`tas-b`: dual-teacher Margin-MSE (pairwise + weight * in-batch); `gtr`: bidirectional in-batch softmax with hard negatives on the query side.' },
    initialize: { type: 'enum', values: ['pretrained', 'random'], default: 'pretrained', doc: '`pretrained`: start from the model\'s weights; `random`: train from scratch, BERT\'s initialisation drawn from the recipe seed (the folder needs config, tokenizer and modules, no weights). Stage 1 only.' },
    pooling: { type: 'enum', values: ['cls', 'mean', 'max', 'mean_sqrt_len'], doc: 'Sentence vector from the token vectors (TAS-B: `cls`; GTR: `mean`). Built onto a plain Hugging Face starting model (which has none: a stage from one must state it); checked against a sentence-transformers one.' },
    projection: { type: 'integer', min: 0, doc: 'Width of a bias-free linear projection after pooling (GTR: 768); 0 = none. Built or checked as `pooling` is.' },
    similarity: { type: 'enum', values: ['dot', 'cosine'], doc: '`dot` (TAS-B: raw dot product) or `cosine` (GTR: L2-normalized vectors). Built or checked as `pooling` is.' },
    data,
    sampling,
    teacher,
    batchSize: { type: 'integer', min: 1, default: 32, doc: 'Queries per optimizer step (with their positive and negative).' },
    gradientAccumulation: { type: 'integer', min: 1, default: 1, doc: 'Split each batch into this many micro-batches whose gradients add up (per-micro-batch negatives).' },
    gradCacheChunk: { type: 'integer', min: 0, default: 0, doc: 'GradCache: encode in chunks of this many texts and backpropagate through cached embedding gradients (same gradients as the full batch, less memory); 0 disables.' },
    queryMaxLength: { type: 'integer', min: 1, default: 30, doc: 'Query token limit.' },
    passageMaxLength: { type: 'integer', min: 1, default: 200, doc: 'Passage token limit.' },
    logitScale: { type: 'number', min: 0, exclusiveMin: true, default: 100, doc: 'gtr loss: cosine scores are multiplied by this (1 / temperature).' },
    precision: { type: 'enum', values: ['fp32', 'bf16'], default: 'fp32', doc: '`bf16`: bfloat16 autocast for the forward pass (weights and optimizer stay float32).' },
    steps: { type: 'integer', min: 1, default: 1000, doc: 'Optimizer steps in this stage.' },
    dropout: { type: 'boolean', default: true, doc: 'Train with the model\'s dropout on (as the papers do).' },
    optimizer,
    schedule,
    eval: evaluation,
    logEvery: { type: 'integer', min: 1, default: 10, doc: 'Write a log line every this many steps.' },
    checkpointEvery: { type: 'integer', min: 1, default: 1000, doc: 'Save a resumable checkpoint every this many steps (and at the end).' },
  },
};

export const RECIPE_SCHEMA: FieldSpec = {
  type: 'object',
  doc: 'A training recipe (JSON or YAML).',
  fields: {
    name: { type: 'string', doc: 'Recipe name, recorded in the log.' },
    seed: { type: 'integer', min: 0, default: 42, doc: 'Seed of the sampler and of dropout.' },
    threads: { type: 'integer', min: 0, default: 0, doc: 'CPU threads for libtorch; 0 leaves the default.' },
    stages: { type: 'array', minItems: 1, items: stage, doc: 'The stages, run in order.' },
  },
};

/** Markdown table of every key (path, type, default, meaning). */
export function describeRecipeSchema(): string {
  const rows: string[] = ['| key | type | default | meaning |', '|---|---|---|---|'];
  const walk = (spec: FieldSpec, path: string): void => {
    if (spec.type === 'object') {
      if (path !== '') rows.push(`| \`${path}\` | object | | ${spec.doc} |`);
      for (const [k, f] of Object.entries(spec.fields)) walk(f, path === '' ? k : `${path}.${k}`);
    } else if (spec.type === 'array') {
      rows.push(`| \`${path}\` | list | | ${spec.doc} |`);
      walk(spec.items, `${path}[]`);
    } else {
      const type = spec.type === 'enum' ? spec.values.map((v) => `\`${v}\``).join(' \\| ') : spec.type;
      const def = 'default' in spec && spec.default !== undefined ? `\`${JSON.stringify(spec.default)}\`` : '';
      rows.push(`| \`${path}\` | ${type} | ${def} | ${spec.doc} |`);
    }
  };
  walk(RECIPE_SCHEMA, '');
  return rows.join('\n') + '\n';
}
