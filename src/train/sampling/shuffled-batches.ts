/**
 * Plain epoch sampling (GTR fine-tuning and any recipe without query clusters): queries in a fresh random order
 * each epoch, each with one pair from the pair picker. A batch may straddle two epochs.
 */
import { Rng, type RngState } from '../rng.js';
import type { PairPicker, SampledExample } from './pair-picker.js';
import type { BatchSamplerState } from './cluster-batches.js';

export interface ShuffledBatchSamplerState extends BatchSamplerState {
  kind: 'shuffled';
  /** RNG state at the start of the current epoch, to rebuild its permutation. */
  epochRng: RngState;
  epoch: number;
  position: number;
}

export class ShuffledBatchSampler {
  private readonly rng: Rng;
  private order: string[] = [];
  private epochRng: RngState;
  private epoch = 0;
  private position = 0;
  private batches = 0;

  constructor(private readonly picker: PairPicker, readonly batchSize: number, seed = 42) {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batch size must be a positive integer, got ${batchSize}`);
    if (picker.queryIds.length === 0) throw new RangeError('no training queries');
    this.rng = new Rng(seed);
    this.epochRng = this.rng.getState();
    this.order = this.rng.shuffle(picker.queryIds);
  }

  /** Completed passes over the queries. */
  get epochs(): number {
    return this.epoch;
  }

  next(): SampledExample[] {
    const batch: SampledExample[] = [];
    while (batch.length < this.batchSize) {
      if (this.position === this.order.length) {
        this.epoch++;
        this.position = 0;
        this.epochRng = this.rng.getState();
        this.order = this.rng.shuffle(this.picker.queryIds);
      }
      const qid = this.order[this.position++]!;
      batch.push({ qid, pair: this.picker.pick(qid, this.rng) });
    }
    this.batches++;
    return batch;
  }

  getState(): ShuffledBatchSamplerState {
    return { kind: 'shuffled', rng: this.rng.getState(), batches: this.batches, epochRng: this.epochRng, epoch: this.epoch, position: this.position };
  }

  setState(state: BatchSamplerState): void {
    if (state.kind !== 'shuffled') throw new RangeError(`sampler state is for a "${state.kind}" sampler, not "shuffled"`);
    const s = state as ShuffledBatchSamplerState;
    this.rng.setState(s.epochRng);
    this.order = this.rng.shuffle(this.picker.queryIds);
    this.rng.setState(s.rng);
    this.epochRng = s.epochRng;
    this.epoch = s.epoch;
    this.position = s.position;
    this.batches = s.batches;
  }
}

/** Either sampler, as the training loop sees it. */
export interface BatchSampler {
  readonly batchSize: number;
  next(): SampledExample[];
  getState(): BatchSamplerState;
  setState(state: BatchSamplerState): void;
}
