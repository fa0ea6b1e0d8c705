/**
 * Learning-rate multipliers as transformers' get_{constant,linear,cosine}_schedule_with_warmup define them
 * (LambdaLR): step s (0-based, the number of optimizer steps already taken) uses lr * factor(s), so with
 * warm-up the very first step runs at lr 0, as in PyTorch.
 */
export type ScheduleKind = 'constant' | 'linear' | 'cosine';

export function lrFactor(kind: ScheduleKind, step: number, warmupSteps: number, totalSteps: number): number {
  if (step < warmupSteps) return step / Math.max(1, warmupSteps);
  switch (kind) {
    case 'constant':
      return 1;
    case 'linear':
      return Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
    case 'cosine': {
      const progress = (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
      return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * 2 * 0.5 * progress)));
    }
  }
}
