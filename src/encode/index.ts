/** Turning text into vectors: the TextEncoder over a SentenceEncoder, and the sharded encode job. */
export { openEncoder, SentenceTextEncoder } from './text-encoder.js';
export { runEncodeJob, type EncodeJobOptions, type EncodeSummary } from './job.js';
