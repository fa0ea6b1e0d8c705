/** Turning text into vectors: the TextEncoder over a SentenceEncoder, and the sharded encode job. */
export { openEncoder, openTextEncoder, resolveEngine, SentenceTextEncoder, ENGINES, type Engine, type RequestedEngine, type TextEncoderOptions } from './text-encoder.js';
export { runEncodeJob, type EncodeJobOptions, type EncodeSummary } from './job.js';
