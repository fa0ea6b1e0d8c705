/**
 * Resumable checkpoints of a stage: `<stage dir>/checkpoint-<step>/` holds the model in the sentence-transformers
 * layout (safetensors, loadable by Python), `optimizer.safetensors` (the optimizer's state tensors) and
 * `trainer-state.json` (step, optimizer scalars, sampler and RNG state, early-stopping state). The pointer file
 * `<stage dir>/latest.json` is replaced atomically only after a checkpoint is complete, so a kill at any moment
 * leaves the previous checkpoint usable; older checkpoints are then removed.
 */
import { existsSync, readFileSync, readdirSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openSafetensors, writeSafetensors, hostToFloat32, type HostTensor } from '../io/index.js';
import { InputError } from '../errors.js';
import { writeFileAtomicSync } from '../util/fs.js';
import { checkRecordedSizes, FOLDER_RECORDS, readFolderRecords, writeFolderRecords } from '../util/checksums.js';
import type { SentenceEncoder } from '../models/index.js';
import { scope } from '../tensor/index.js';
import type { Optimizer, OptimizerState } from './optim/index.js';
import type { BatchSamplerState } from './sampling/index.js';

export interface TrainerState {
  format: 'densekit-trainer-state';
  version: 1;
  stage: string;
  /** Optimizer steps completed. */
  step: number;
  architecture: string;
  optimizer: Record<string, unknown>;
  sampler: BatchSamplerState;
  best: { metric?: number; step?: number; evalsWithoutImprovement: number };
  stopped: boolean;
  /** The settings that determine the trained weights (see trainer.ts jobSettings); a resume must match them. */
  job?: Record<string, unknown>;
}

export function latestCheckpoint(stageDir: string): { dir: string; state: TrainerState } | undefined {
  const pointer = join(stageDir, 'latest.json');
  if (!existsSync(pointer)) return undefined;
  const { checkpoint } = JSON.parse(readFileSync(pointer, 'utf8')) as { checkpoint: string };
  const dir = join(stageDir, checkpoint);
  checkRecordedSizes(dir, readFolderRecords(dir), FOLDER_RECORDS);
  const stateFile = join(dir, 'trainer-state.json');
  let state: TrainerState;
  try {
    state = JSON.parse(readFileSync(stateFile, 'utf8')) as TrainerState;
  } catch (e) {
    throw new InputError(stateFile, undefined, `cannot read the trainer state: ${(e as Error).message}`);
  }
  if (state.format !== 'densekit-trainer-state') throw new InputError(stateFile, undefined, 'not a densekit trainer state');
  return { dir, state };
}

/**
 * @param keep checkpoint folder names not to delete yet: the one the model was loaded from, because saving a
 *   model re-reads its source folder (config, tokenizer files).
 */
export function saveCheckpoint(stageDir: string, model: SentenceEncoder, optimizer: Optimizer, state: TrainerState, keep: readonly string[] = []): string {
  const name = `checkpoint-${state.step}`;
  const dir = join(stageDir, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // scope(): SentenceEncoder.save leaves its detached copies undisposed; free them here.
  scope(() => model.save(dir));
  const opt = optimizer.stateDict();
  const tensors = new Map<string, HostTensor>();
  for (const [key, values] of opt.tensors) {
    tensors.set(key, { dtype: 'float32', shape: opt.shapes.get(key)!, data: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) });
  }
  const optimizerRecord = writeSafetensors(join(dir, 'optimizer.safetensors'), tensors);
  const stateRecord = writeFileAtomicSync(join(dir, 'trainer-state.json'), JSON.stringify({ ...state, optimizer: opt.json }, null, 1) + '\n');
  // Written before latest.json points here: a resume (and `densekit verify`) can check every file of the checkpoint.
  writeFolderRecords(dir, { ...readFolderRecords(dir), 'optimizer.safetensors': optimizerRecord, 'trainer-state.json': stateRecord });
  writeFileAtomicSync(join(stageDir, 'latest.json'), JSON.stringify({ checkpoint: name }) + '\n');
  for (const entry of readdirSync(stageDir)) {
    if (entry.startsWith('checkpoint-') && entry !== name && !keep.includes(entry)) rmSync(join(stageDir, entry), { recursive: true, force: true });
  }
  return dir;
}

/** Removes every checkpoint but the latest (after the stage's model no longer needs its source folder). */
export function pruneCheckpoints(stageDir: string): void {
  const latest = existsSync(join(stageDir, 'latest.json'))
    ? (JSON.parse(readFileSync(join(stageDir, 'latest.json'), 'utf8')) as { checkpoint: string }).checkpoint
    : undefined;
  for (const entry of readdirSync(stageDir)) {
    if (entry.startsWith('checkpoint-') && entry !== latest) rmSync(join(stageDir, entry), { recursive: true, force: true });
  }
}

export function loadOptimizerState(dir: string, json: Record<string, unknown>): OptimizerState {
  const file = openSafetensors(join(dir, 'optimizer.safetensors'));
  const tensors = new Map<string, Float32Array>();
  const shapes = new Map<string, number[]>();
  for (const name of file.keys()) {
    const t = file.get(name);
    tensors.set(name, hostToFloat32(t));
    shapes.set(name, [...t.shape]);
  }
  return { tensors, shapes, json };
}
