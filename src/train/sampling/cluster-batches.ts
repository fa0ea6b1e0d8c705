/**
 * TAS-Balanced topic-aware batches, as the released loader composes them: pick a query cluster uniformly at
 * random, take `floor(batchSize / clustersPerBatch)` of its queries without replacement (all of them when the
 * cluster is smaller), and repeat with further random clusters until the batch is full (the last cluster's
 * queries are cut at the batch size). Each query's pair is then drawn by the pair picker.
 *
 * Clusters are first restricted to queries that have training pairs, and clusters left empty are dropped.
 */
import { InputError } from '../../errors.js';
import { Rng, type RngState } from '../rng.js';
import type { PairPicker, SampledExample } from './pair-picker.js';

export interface ClusterBatchSamplerOptions {
  batchSize: number;
  /** 1 in the released TAS-B setup: every batch comes from as few clusters as possible. */
  clustersPerBatch?: number;
  seed?: number;
  /** Names the cluster file in errors. */
  clusterFile?: string;
}

export interface BatchSamplerState {
  kind: string;
  rng: RngState;
  batches: number;
}

export class ClusterBatchSampler {
  readonly clusters: string[][];
  readonly batchSize: number;
  readonly queriesPerCluster: number;
  private readonly rng: Rng;
  private batches = 0;

  constructor(clusters: readonly (readonly string[])[], private readonly picker: PairPicker, options: ClusterBatchSamplerOptions) {
    const { batchSize, clustersPerBatch = 1, seed = 42, clusterFile = 'clusters' } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batch size must be a positive integer, got ${batchSize}`);
    if (!Number.isInteger(clustersPerBatch) || clustersPerBatch < 1 || clustersPerBatch > batchSize) {
      throw new RangeError(`clustersPerBatch must be an integer in 1..batchSize, got ${clustersPerBatch}`);
    }
    if (clusters.length === 0) throw new InputError(clusterFile, undefined, 'the cluster file has no clusters');
    this.clusters = clusters.map((c) => c.filter((q) => picker.has(q))).filter((c) => c.length > 0);
    if (this.clusters.length === 0) {
      throw new InputError(clusterFile, undefined, 'no clustered query has training pairs (are the cluster file and pair file from the same query set?)');
    }
    this.batchSize = batchSize;
    this.queriesPerCluster = Math.floor(batchSize / clustersPerBatch);
    this.rng = new Rng(seed);
  }

  next(): SampledExample[] {
    const batch: SampledExample[] = [];
    while (batch.length < this.batchSize) {
      const c = this.rng.int(this.clusters.length);
      const members = this.clusters[c]!;
      const qids = this.queriesPerCluster < members.length ? this.rng.sample(members, this.queriesPerCluster) : members;
      for (const qid of qids) {
        batch.push({ qid, pair: this.picker.pick(qid, this.rng), cluster: c });
        if (batch.length === this.batchSize) break;
      }
    }
    this.batches++;
    return batch;
  }

  getState(): BatchSamplerState {
    return { kind: 'cluster', rng: this.rng.getState(), batches: this.batches };
  }

  setState(state: BatchSamplerState): void {
    if (state.kind !== 'cluster') throw new RangeError(`sampler state is for a "${state.kind}" sampler, not "cluster"`);
    this.rng.setState(state.rng);
    this.batches = state.batches;
  }
}
