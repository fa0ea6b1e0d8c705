/** Training: data readers, TAS-Balanced samplers, query clustering, recipes, losses, optimizers and the loop. */
export { train, type TrainOptions, type StageSummary } from './trainer.js';
export { loadRecipe, parseRecipe, describeRecipeSchema, BUILTIN_RECIPES, type Recipe, type StageRecipe, type RecipeOverrides } from './recipes/index.js';
export * from './data/index.js';
export * from './sampling/index.js';
export { sphericalKMeans, assignNearest, readClusterFile, writeClusterFile, type KMeansOptions, type KMeansResult } from './cluster/index.js';
export { tasbLoss, gtrLoss, duplicateMasks, type TasbLoss, type GtrLoss, type BatchIds } from './losses/index.js';
export { Adam, Adafactor, lrFactor, buildOptimizer, clipGradNorm, type Optimizer, type OptimizerState, type NamedParameter } from './optim/index.js';
export { ColbertTeacher, DenseTeacher, type InBatchTeacher } from './teachers/index.js';
export { forwardBackward, batchLoss, type TextBatch, type StepOptions, type StepResult } from './step.js';
export { DevSet, type DevMetric } from './dev-eval.js';
export { mineHardNegatives, type MineOptions } from './mine.js';
export { Rng, type RngState } from './rng.js';
