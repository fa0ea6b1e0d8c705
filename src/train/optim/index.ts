export type { Optimizer, OptimizerState, NamedParameter } from './optimizer.js';
export { Adam, type AdamOptions } from './adam.js';
export { Adafactor, type AdafactorOptions } from './adafactor.js';
export { lrFactor, type ScheduleKind } from './schedule.js';
export { buildOptimizer, clipGradNorm } from './build.js';
