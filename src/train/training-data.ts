/**
 * Everything a stage trains on, loaded from its recipe: the pairs per query (teacher pair scores, id triples,
 * or qrels + mined negatives), only the query and passage texts those pairs reference, and the batch sampler
 * (topic-aware cluster batches or shuffled epochs).
 */
import { InputError, UsageError } from '../errors.js';
import {
  readTeacherPairs, readTriples, readTrainQrels, readMinedNegatives, pairsFromQrelsAndNegatives,
  resolvePairs, referencedPassages, type MissingIdReport, type PairsByQuery,
} from './data/index.js';
import { readTextMap } from '../formats/index.js';
import { readClusterFile } from './cluster/index.js';
import { ClusterBatchSampler, PairPicker, ShuffledBatchSampler, type BatchSampler, type SampledExample } from './sampling/index.js';
import type { StageRecipe } from './recipes/index.js';
import type { TextBatch } from './step.js';

export interface TrainingData {
  sampler: BatchSampler;
  queries: Map<string, string>;
  passages: Map<string, string>;
  missing: MissingIdReport;
  pairsFile: string;
}

export async function loadTrainingData(stage: StageRecipe, stageLabel: string, seed: number): Promise<TrainingData> {
  const d = stage.data;
  const need = (key: keyof typeof d, flag: string): string => {
    const v = d[key];
    if (typeof v !== 'string') throw new UsageError(`${stageLabel}: data.${key} is required (or --${flag} FILE)`);
    return v;
  };
  const queriesFile = need('queries', 'queries');
  const collectionFile = need('collection', 'collection');
  let pairs: PairsByQuery;
  let pairsFile: string;
  if (stage.loss === 'tas-b') {
    pairsFile = need('teacherPairs', 'teacher-pairs');
    pairs = await readTeacherPairs(pairsFile);
  } else if (d.triples) {
    pairsFile = d.triples;
    pairs = await readTriples(pairsFile);
  } else if (d.qrels) {
    pairsFile = d.qrels;
    const negatives = d.negatives ? await readMinedNegatives(d.negatives) : undefined;
    pairs = pairsFromQrelsAndNegatives(await readTrainQrels(d.qrels), negatives, d.negativesPerPositive);
  } else if (d.teacherPairs) {
    pairsFile = d.teacherPairs;
    pairs = await readTeacherPairs(pairsFile);
  } else {
    throw new UsageError(`${stageLabel}: the gtr loss needs data.triples, data.qrels (+ data.negatives) or data.teacherPairs`);
  }
  const queries = await readTextMap(queriesFile, { needed: new Set(pairs.keys()) });
  const passages = await readTextMap(collectionFile, { needed: referencedPassages(pairs) });
  const missing = resolvePairs(pairs, queries, passages, d.missingIds, { pairsFile, queriesFile, collectionFile });
  const picker = new PairPicker(pairs, stage.sampling.pairs);
  let sampler: BatchSampler;
  if (stage.sampling.batches === 'cluster') {
    if (!d.clusters) throw new UsageError(`${stageLabel}: cluster batches need data.clusters (or --clusters FILE from densekit cluster-queries)`);
    sampler = new ClusterBatchSampler(await readClusterFile(d.clusters), picker, {
      batchSize: stage.batchSize, clustersPerBatch: stage.sampling.clustersPerBatch, seed, clusterFile: d.clusters,
    });
  } else sampler = new ShuffledBatchSampler(picker, stage.batchSize, seed);
  if (stage.loss === 'tas-b' && stage.sampling.pairs === 'bins' && [...pairs.values()].some((l) => l.some((p) => p.neg === ''))) {
    throw new InputError(pairsFile, undefined, 'the tas-b loss needs a negative passage in every pair');
  }
  return { sampler, queries, passages, missing, pairsFile };
}

/** Texts and teacher scores of a sampled batch. */
export function toTextBatch(examples: readonly SampledExample[], data: Pick<TrainingData, 'queries' | 'passages'>): TextBatch {
  const hasNegatives = examples.every((e) => e.pair.neg !== '');
  return {
    qids: examples.map((e) => e.qid),
    queries: examples.map((e) => data.queries.get(e.qid)!),
    positiveIds: examples.map((e) => e.pair.pos),
    positives: examples.map((e) => data.passages.get(e.pair.pos)!),
    negativeIds: hasNegatives ? examples.map((e) => e.pair.neg) : [],
    negatives: hasNegatives ? examples.map((e) => data.passages.get(e.pair.neg)!) : [],
    posScores: Float32Array.from(examples, (e) => e.pair.posScore),
    negScores: Float32Array.from(examples, (e) => e.pair.negScore),
  };
}
