/**
 * The training loop: runs a recipe's stages in order, each from the previous stage's final model. Per step:
 * sample a batch, forward + backward (whole batch, accumulation or GradCache), optional gradient clipping, one
 * optimizer step at the scheduled learning rate. Periodic dev evaluation with early stopping, periodic resumable
 * checkpoints, a JSON-lines log and an HTML plot. Rerunning the same command after a kill resumes exactly where
 * the last checkpoint left off (model, optimizer, schedule position, sampler and RNG state).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, renameSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { setNumThreads, liveTensorCount, manualSeed, scope, type Device } from '../tensor/index.js';
import { SentenceEncoder } from '../models/index.js';
import { ensureModel } from '../hub/index.js';
import { readHfConfig, resolveModelPath } from '../io/index.js';
import { InputError, UsageError } from '../errors.js';
import type { Recipe, StageRecipe } from './recipes/index.js';
import { loadTrainingData, toTextBatch } from './training-data.js';
import { forwardBackward } from './step.js';
import { buildOptimizer, clipGradNorm, lrFactor, type NamedParameter } from './optim/index.js';
import { ColbertTeacher, DenseTeacher, type InBatchTeacher } from './teachers/index.js';
import { DevSet } from './dev-eval.js';
import { latestCheckpoint, loadOptimizerState, pruneCheckpoints, saveCheckpoint, type TrainerState } from './checkpoint.js';
import { TrainingLog, writePlot, type LogEntry } from './log.js';

export interface TrainOptions {
  recipe: Recipe;
  /** Output folder: `<output>/<stage>/final` is each stage's model; log and plot at the top. */
  output: string;
  device?: Device;
  /** Called with every log entry (the CLI prints them). */
  onLog?: (entry: LogEntry) => void;
  /** Stop after this many optimizer steps in this process (tests simulate a kill with it). */
  stopAfterSteps?: number;
}

export interface StageSummary {
  stage: string;
  steps: number;
  finalDir: string;
  bestDir?: string;
  bestMetric?: number;
  firstLoss?: number;
  lastLoss?: number;
  stoppedEarly: boolean;
  /** Steps this call took (0: the stage was already done); not stored in done.json. */
  trainedNow?: number;
}

export async function train(options: TrainOptions): Promise<StageSummary[]> {
  const { recipe, output } = options;
  if (recipe.threads > 0) setNumThreads(recipe.threads);
  mkdirSync(output, { recursive: true });
  const log = new TrainingLog(join(output, 'train-log.jsonl'));
  const emit = (e: Omit<LogEntry, 'time'>) => {
    const written = log.write(e);
    options.onLog?.(written);
  };
  const summaries: StageSummary[] = [];
  let previousModel: string | undefined;
  let budget = options.stopAfterSteps ?? Infinity;
  for (let i = 0; i < recipe.stages.length; i++) {
    const stage = recipe.stages[i]!;
    const name = stage.name ?? `stage-${i + 1}`;
    const startModel = i === 0 ? stage.model : previousModel;
    if (!startModel) throw new UsageError(`stages[0] (${name}): no model to start from (set model in the recipe or pass --model)`);
    // A Hub id is downloaded (or found in the cache) before the stage starts; a folder is used as it is.
    const startDir = i === 0 ? await ensureModel(startModel) : startModel;
    if (stage.teacher.path && stage.teacher.kind !== 'none') stage.teacher.path = await ensureModel(stage.teacher.path);
    const summary = await runStage({ stage, name, index: i, startModel: startDir, recipe, output, log, emit, device: options.device ?? 'cpu', budget });
    budget -= summary.stepsThisRun;
    summaries.push({ ...summary.summary, trainedNow: summary.stepsThisRun });
    writePlot(join(output, 'train-plot.html'), log.entries());
    if (!summary.completed) break;
    previousModel = summary.summary.finalDir;
  }
  return summaries;
}

interface StageContext {
  stage: StageRecipe;
  name: string;
  index: number;
  startModel: string;
  recipe: Recipe;
  output: string;
  log: TrainingLog;
  emit: (e: Omit<LogEntry, 'time'>) => void;
  device: Device;
  budget: number;
}

async function runStage(ctx: StageContext): Promise<{ summary: StageSummary; completed: boolean; stepsThisRun: number }> {
  const { stage, name, recipe, emit } = ctx;
  const stageDir = join(ctx.output, name);
  const finalDir = join(stageDir, 'final');
  const doneFile = join(stageDir, 'done.json');
  const label = `stages[${ctx.index}] (${name})`;
  if (existsSync(doneFile)) {
    const summary = JSON.parse(readFileSync(doneFile, 'utf8')) as StageSummary;
    if (!canContinue(summary, stage, label, finalDir)) return { summary, completed: true, stepsThisRun: 0 };
    // More steps than the finished run took: go on from its last checkpoint (kept by pruneCheckpoints).
    rmSync(doneFile);
  }
  mkdirSync(stageDir, { recursive: true });
  if (stage.schedule.warmupSteps > stage.steps)
    emit({ kind: 'warning', stage: name, step: 0, message: `${label}: schedule.warmupSteps ${stage.schedule.warmupSteps} exceeds steps ${stage.steps}: the learning rate never reaches optimizer.lr` });
  const seed = recipe.seed + 1000 * ctx.index;
  const data = await loadTrainingData(stage, label, seed);
  emit({ kind: 'data', stage: name, step: 0, pairs_file: data.pairsFile, ...data.missing });
  const dev = await DevSet.load(stage.eval, label);

  const resume = latestCheckpoint(stageDir);
  const job = jobSettings(stage, recipe.seed);
  if (resume) {
    const differs = settingDifference(resume.state.job, job);
    if (differs) throw new UsageError(`${resume.dir}: this checkpoint belongs to another training job (${differs}); rerun with the same settings or use another --output`);
  }
  const fromScratch = !resume && ctx.index === 0 && stage.initialize === 'random';
  if (fromScratch) manualSeed(seed); // the initial weights are part of the recipe: same seed, same model
  const model = loadStageModel(resume ? resume.dir : ctx.startModel, stage, ctx, label, seed, fromScratch);
  if (resume && resume.state.architecture !== model.config.modelType) {
    throw new InputError(resume.dir, undefined, `checkpoint is a ${resume.state.architecture} model but holds ${model.config.modelType} weights`);
  }
  if (resume) {
    const startArch = architectureOf(ctx.startModel);
    if (startArch !== undefined && startArch !== resume.state.architecture) {
      throw new InputError(resume.dir, undefined, `checkpoint is a ${resume.state.architecture} model, but this stage trains ${startArch} (${ctx.startModel}); use another --output`);
    }
  }
  const params: NamedParameter[] = [...model.namedParameters()].map(([pname, param]) => ({ name: pname, param: param.requiresGrad_(true) }));
  const optimizer = buildOptimizer(params, stage.optimizer);
  let step = 0;
  let best: TrainerState['best'] = { evalsWithoutImprovement: 0 };
  if (resume) {
    optimizer.loadStateDict(loadOptimizerState(resume.dir, resume.state.optimizer));
    data.sampler.setState(resume.state.sampler);
    step = resume.state.step;
    best = resume.state.best;
    ctx.log.truncateAfter(name, step);
    emit({ kind: 'stage', stage: name, step, resumed_from: resume.dir, steps: stage.steps });
  } else {
    ctx.log.truncateAfter(name, 0);
    emit({ kind: 'stage', stage: name, step: 0, model: ctx.startModel, loss: stage.loss, steps: stage.steps, batch_size: stage.batchSize });
  }

  let teacher: InBatchTeacher | undefined;
  if (stage.loss === 'tas-b' && stage.teacher.kind !== 'none' && stage.teacher.weight > 0) {
    if (!stage.teacher.path) throw new UsageError(`${label}: teacher.kind ${stage.teacher.kind} needs teacher.path (or --teacher DIR)`);
    teacher = stage.teacher.kind === 'colbert'
      ? ColbertTeacher.load(stage.teacher.path, { queryMaxLength: stage.queryMaxLength, passageMaxLength: stage.teacher.maxLength, device: ctx.device })
      : DenseTeacher.load(stage.teacher.path, { queryMaxLength: stage.queryMaxLength, passageMaxLength: stage.teacher.maxLength, device: ctx.device });
  }

  const state = (): TrainerState => ({
    format: 'densekit-trainer-state', version: 1, stage: name, step, architecture: model.config.modelType,
    optimizer: {}, sampler: data.sampler.getState(), best, stopped, job,
  });
  const bestDir = join(stageDir, 'best');
  let stopped = resume?.state.stopped ?? false;
  let firstLoss: number | undefined;
  let lastLoss: number | undefined;
  let stepsThisRun = 0;
  let window = { loss: 0, parts: {} as Record<string, number>, n: 0, samples: 0, start: performance.now() };
  model.train(stage.dropout);
  try {
    while (step < stage.steps && !stopped) {
      if (stepsThisRun >= ctx.budget) return { summary: summarize(), completed: false, stepsThisRun };
      const batch = toTextBatch(data.sampler.next(), data);
      for (const p of params) p.param.zeroGrad();
      const result = forwardBackward(model, batch, {
        loss: stage.loss, logitScale: stage.logitScale, inBatchWeight: teacher ? stage.teacher.weight : 0, teacher,
        gradientAccumulation: stage.gradientAccumulation, gradCacheChunk: stage.gradCacheChunk,
        dropoutSeed: recipe.seed * 7919 + ctx.index * 104729 + step,
      });
      if (!Number.isFinite(result.loss)) throw new Error(`${label}: the loss became ${result.loss} at step ${step + 1}`);
      const gradNorm = stage.optimizer.maxGradNorm > 0 ? clipGradNorm(params, stage.optimizer.maxGradNorm) : undefined;
      const lr = stage.optimizer.lr * lrFactor(stage.schedule.kind, step, stage.schedule.warmupSteps, stage.steps);
      optimizer.step(lr);
      step++;
      stepsThisRun++;
      firstLoss ??= result.loss;
      lastLoss = result.loss;
      window.loss += result.loss;
      for (const [k, v] of Object.entries(result.parts)) window.parts[k] = (window.parts[k] ?? 0) + v;
      window.n++;
      window.samples += batch.queries.length;
      if (step % stage.logEvery === 0 || step === stage.steps) {
        const seconds = (performance.now() - window.start) / 1000;
        emit({
          kind: 'train', stage: name, step, loss: window.loss / window.n,
          ...Object.fromEntries(Object.entries(window.parts).map(([k, v]) => [k, v / window.n])), lr,
          ...(gradNorm !== undefined ? { grad_norm: gradNorm } : {}),
          samples_per_s: window.samples / seconds, live_tensors: liveTensorCount(),
        });
        window = { loss: 0, parts: {}, n: 0, samples: 0, start: performance.now() };
      }
      if (dev && (step % stage.eval.every === 0 || step === stage.steps)) {
        const value = dev.evaluate(model, stage.eval.metric, stage.dropout);
        const improved = best.metric === undefined || value > best.metric;
        if (improved) {
          best = { metric: value, step, evalsWithoutImprovement: 0 };
          saveModelAtomically(model, bestDir);
        } else best = { ...best, evalsWithoutImprovement: best.evalsWithoutImprovement + 1 };
        emit({ kind: 'eval', stage: name, step, metric: stage.eval.metric, value, best: best.metric });
        if (stage.eval.patience > 0 && best.evalsWithoutImprovement >= stage.eval.patience) {
          stopped = true;
          emit({ kind: 'stop', stage: name, step, reason: `no ${stage.eval.metric} improvement in ${stage.eval.patience} evaluations`, best_step: best.step });
        }
      }
      if (step % stage.checkpointEvery === 0 || step === stage.steps || stopped) {
        const dir = saveCheckpoint(stageDir, model, optimizer, state(), resume ? [basename(resume.dir)] : []);
        emit({ kind: 'checkpoint', stage: name, step, dir });
        writePlot(join(ctx.output, 'train-plot.html'), ctx.log.entries());
      }
    }
    saveModelAtomically(model, finalDir);
    const summary = summarize();
    const { writeFileAtomicSync } = await import('../util/fs.js');
    writeFileAtomicSync(doneFile, JSON.stringify(summary, null, 1) + '\n');
    return { summary, completed: true, stepsThisRun };
  } finally {
    teacher?.dispose();
    optimizer.dispose();
    model.dispose();
    pruneCheckpoints(stageDir);
  }

  function summarize(): StageSummary {
    return {
      stage: name, steps: step, finalDir, stoppedEarly: stopped,
      ...(best.metric !== undefined ? { bestDir, bestMetric: best.metric } : {}),
      ...(firstLoss !== undefined ? { firstLoss } : {}), ...(lastLoss !== undefined ? { lastLoss } : {}),
    };
  }
}

/**
 * A finished stage asked for more steps continues where it stopped when the schedule allows it: a constant
 * learning rate does; a decaying one already reached 0 at the old last step, and more steps would change the
 * rate of every step already taken. Returns false when the finished stage stands as it is.
 */
function canContinue(done: StageSummary, stage: StageRecipe, label: string, finalDir: string): boolean {
  if (stage.steps <= done.steps || done.stoppedEarly) return false;
  if (stage.schedule.kind !== 'constant') {
    throw new UsageError(
      `${label}: finished at step ${done.steps} with a ${stage.schedule.kind} schedule that decayed to 0 there; ${stage.steps} steps would change the ` +
        `learning rate of the steps already taken. Train a new stage from ${finalDir} (--model) or into another --output`,
    );
  }
  return true;
}

/**
 * What determines a stage's weights, flattened to `key.path -> value`: the seed and every stage setting and
 * data file (with its size: a file regenerated in place is another job), except the ones a rerun may
 * change without changing the steps already taken: the stage length, logging and checkpoint cadence.
 */
function jobSettings(stage: StageRecipe, seed: number): Record<string, unknown> {
  const out: Record<string, unknown> = { seed };
  const skip = new Set(['steps', 'logEvery', 'checkpointEvery', 'name', 'eval']);
  const walk = (v: unknown, path: string): void => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) if (!(path === '' && skip.has(k))) walk(x, path === '' ? k : `${path}.${k}`);
    } else out[path] = v;
  };
  walk(stage, '');
  for (const [k, path] of Object.entries(stage.data)) {
    if (typeof path !== 'string' || !existsSync(path)) continue;
    out[`data.${k}.bytes`] = statSync(path).size;
  }
  return out;
}

/** The first setting that differs, named as in the recipe; null when the same. */
function settingDifference(was: Record<string, unknown> | undefined, now: Record<string, unknown>): string | null {
  if (!was || typeof was !== 'object') return 'it records no settings (written by an older densekit)';
  for (const key of new Set([...Object.keys(was), ...Object.keys(now)])) {
    if (JSON.stringify(was[key]) !== JSON.stringify(now[key])) return `${key} was ${JSON.stringify(was[key])}, now ${JSON.stringify(now[key])}`;
  }
  return null;
}

/**
 * Loads the model a stage trains with the recipe's head (pooling, projection, similarity) and token limits.
 * A plain Hugging Face folder has no head of its own, so the recipe must state one; a limit beyond the
 * model's learned positions is cut to them with a warning (it would fail at the first step otherwise).
 */
function loadStageModel(from: string, stage: StageRecipe, ctx: StageContext, label: string, seed: number, randomWeights = false): SentenceEncoder {
  if (stage.pooling === undefined && isPlainModel(from)) {
    throw new UsageError(`${label}: ${from} is a plain Hugging Face model without pooling; state pooling (TAS-B: cls, GTR: mean), projection and similarity in the recipe (or --pooling)`);
  }
  const head = {
    ...(stage.pooling !== undefined ? { pooling: stage.pooling } : {}),
    ...(stage.projection !== undefined ? { projection: stage.projection } : {}),
    ...(stage.similarity !== undefined ? { similarity: stage.similarity } : {}),
    seed,
  };
  const lengths = { query: stage.queryMaxLength, passage: stage.passageMaxLength };
  const positions = maxPositionsOf(from);
  if (positions !== undefined) {
    for (const side of ['query', 'passage'] as const) {
      if (lengths[side] > positions) {
        ctx.emit({
          kind: 'warning', stage: ctx.name, step: 0,
          message: `${label}: ${side}MaxLength ${lengths[side]} exceeds the model's ${positions} positions (max_position_embeddings); using ${positions}`,
        });
        lengths[side] = positions;
      }
    }
  }
  // Training updates the weights in place: they stay float32 whatever the compute precision.
  return SentenceEncoder.load(from, {
    device: ctx.device, dtype: stage.precision, weightsDtype: 'fp32', queryMaxLength: lengths.query, passageMaxLength: lengths.passage, head, randomWeights,
  });
}

function isPlainModel(nameOrPath: string): boolean {
  try {
    return !existsSync(join(resolveModelPath(nameOrPath), 'modules.json'));
  } catch {
    // An unresolvable model fails with its own error when it is loaded.
    return false;
  }
}

/** Learned position embeddings of a BERT/DistilBERT folder; T5's relative positions have no limit. */
function maxPositionsOf(nameOrPath: string): number | undefined {
  try {
    const config = readHfConfig(resolveModelPath(nameOrPath));
    return 'maxPositionEmbeddings' in config ? config.maxPositionEmbeddings : undefined;
  } catch {
    // As in isPlainModel: loading reports an unreadable model.
    return undefined;
  }
}

/** The Hugging Face model_type of a model folder or name, read from its config.json (undefined if unreadable). */
function architectureOf(nameOrPath: string): string | undefined {
  try {
    return readHfConfig(resolveModelPath(nameOrPath)).modelType;
  } catch {
    // An unreadable start model fails later with its own error when it is loaded; nothing to compare here.
    return undefined;
  }
}

/** Writes the model to a sibling temp folder and swaps it in, so `dir` is always a complete model. */
function saveModelAtomically(model: SentenceEncoder, dir: string): void {
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  scope(() => model.save(tmp)); // save's detached copies are freed by the scope
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
}
