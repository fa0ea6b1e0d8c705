/** Builds the recipe's optimizer; global gradient-norm clipping (torch.nn.utils.clip_grad_norm_). */
import { noGrad, scope } from '../../tensor/index.js';
import type { StageRecipe } from '../recipes/types.js';
import { Adam } from './adam.js';
import { Adafactor } from './adafactor.js';
import type { NamedParameter, Optimizer } from './optimizer.js';

export function buildOptimizer(params: readonly NamedParameter[], o: StageRecipe['optimizer']): Optimizer {
  switch (o.name) {
    case 'adam':
      return new Adam(params, { betas: o.betas, eps: o.eps, weightDecay: o.weightDecay });
    case 'adamw':
      return new Adam(params, { betas: o.betas, eps: o.eps, weightDecay: o.weightDecay, decoupled: true });
    case 'adafactor':
      return new Adafactor(params, { eps: o.adafactorEps, clipThreshold: o.clipThreshold, decayRate: o.decayRate, weightDecay: o.weightDecay });
  }
}

/** Scales all gradients so that their global L2 norm is at most maxNorm; returns the norm before clipping. */
export function clipGradNorm(params: readonly NamedParameter[], maxNorm: number): number {
  return noGrad(() => {
    const grads = params.map((p) => p.param.grad).filter((g) => g !== null);
    let sq = 0;
    for (const g of grads) sq += scope(() => g.norm().item()) ** 2; // the 0-d norm tensor is freed here, not leaked per step
    const total = Math.sqrt(sq);
    const coef = maxNorm / (total + 1e-6);
    if (coef < 1) for (const g of grads) g.mul_(coef);
    for (const g of grads) g.dispose();
    return total;
  });
}
