export { MarginBins, marginBinIndices, MARGIN_BIN_COUNT } from './margin-bins.js';
export { PairPicker, type PairStrategy, type SampledExample } from './pair-picker.js';
export { ClusterBatchSampler, type ClusterBatchSamplerOptions, type BatchSamplerState } from './cluster-batches.js';
export { ShuffledBatchSampler, type ShuffledBatchSamplerState, type BatchSampler } from './shuffled-batches.js';
