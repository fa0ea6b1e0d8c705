/**
 * Adafactor as transformers 4.19 implements it (transformers.optimization.Adafactor), without relative step
 * sizes (GTR: lr 1e-3, scale_parameter=False, relative_step=False, warmup_init=False, beta1=None):
 *   beta2_t = 1 - t^decay_rate                          (decay_rate -0.8)
 *   g2 = g^2 + eps1
 *   2-D+ params: R = b2t R + (1-b2t) mean_last(g2); C = b2t C + (1-b2t) mean_second_last(g2)
 *                u = g * rsqrt(R / mean(R))[..., None] * rsqrt(C)[..., None, :]
 *   1-D params:  V = b2t V + (1-b2t) g2;  u = g * rsqrt(V)
 *   u /= max(RMS(u) / clip_threshold, 1);  u *= lr (times max(eps2, RMS(p)) with parameter scaling)
 *   p += -wd * lr * p (when weight decay);  p -= u
 */
import { noGrad, scope, zeros, type Tensor } from '../../tensor/index.js';
import type { NamedParameter, Optimizer, OptimizerState } from './optimizer.js';
import { fromHost } from './adam.js';

export interface AdafactorOptions {
  eps?: [number, number];
  clipThreshold?: number;
  decayRate?: number;
  weightDecay?: number;
  /** Multiply the lr by max(eps2, RMS(param)) (transformers' scale_parameter). GTR: false. */
  scaleParameter?: boolean;
}

interface Slot {
  step: number;
  row?: Tensor;
  col?: Tensor;
  full?: Tensor;
}

export class Adafactor implements Optimizer {
  readonly name = 'adafactor';
  private readonly state = new Map<string, Slot>();
  private readonly eps1: number;
  private readonly eps2: number;
  private readonly clipThreshold: number;
  private readonly decayRate: number;
  private readonly weightDecay: number;
  private readonly scaleParameter: boolean;

  constructor(private readonly params: readonly NamedParameter[], options: AdafactorOptions = {}) {
    [this.eps1, this.eps2] = options.eps ?? [1e-30, 1e-3];
    this.clipThreshold = options.clipThreshold ?? 1.0;
    this.decayRate = options.decayRate ?? -0.8;
    this.weightDecay = options.weightDecay ?? 0;
    this.scaleParameter = options.scaleParameter ?? false;
  }

  step(lr: number): void {
    noGrad(() => {
      for (const { name, param } of this.params) scope(() => {
        const grad = param.grad;
        if (!grad) return;
        const shape = param.shape;
        const factored = shape.length >= 2;
        let slot = this.state.get(name);
        if (!slot) {
          const opts = { dtype: 'float32' as const, device: param.device };
          slot = factored
            ? { step: 0, row: zeros(shape.slice(0, -1), opts).keep(), col: zeros([...shape.slice(0, -2), shape.at(-1)!], opts).keep() }
            : { step: 0, full: zeros(shape, opts).keep() };
          this.state.set(name, slot);
        }
        slot.step++;
        const stepLr = this.scaleParameter ? Math.max(this.eps2, rms(param)) * lr : lr;
        const beta2t = 1.0 - Math.pow(slot.step, this.decayRate);
        const g2 = grad.square().add_(this.eps1);
        let update: Tensor;
        if (factored) {
          slot.row!.mul_(beta2t).add_(g2.mean([-1]), 1.0 - beta2t);
          slot.col!.mul_(beta2t).add_(g2.mean([-2]), 1.0 - beta2t);
          const rFactor = slot.row!.div(slot.row!.mean([-1], true)).rsqrt().unsqueeze(-1);
          const cFactor = slot.col!.unsqueeze(-2).rsqrt();
          update = rFactor.mul(cFactor).mul_(grad);
        } else {
          slot.full!.mul_(beta2t).add_(g2, 1.0 - beta2t);
          update = slot.full!.rsqrt().mul_(grad);
        }
        update.div_(Math.max(rms(update) / this.clipThreshold, 1.0));
        update.mul_(stepLr);
        if (this.weightDecay !== 0) param.add_(param, -this.weightDecay * stepLr);
        param.sub_(update);
      });
    });
  }

  stateDict(): OptimizerState {
    const tensors = new Map<string, Float32Array>();
    const shapes = new Map<string, number[]>();
    const steps: Record<string, number> = {};
    for (const [name, slot] of this.state) {
      for (const [key, t] of [['row', slot.row], ['col', slot.col], ['full', slot.full]] as const) {
        if (!t) continue;
        tensors.set(`${name}/${key}`, t.toFloat32Array());
        shapes.set(`${name}/${key}`, [...t.shape]);
      }
      steps[name] = slot.step;
    }
    return { tensors, shapes, json: { kind: this.name, steps } };
  }

  loadStateDict(state: OptimizerState): void {
    if (state.json.kind !== this.name) throw new RangeError(`optimizer state is for ${String(state.json.kind)}, not adafactor`);
    const steps = state.json.steps as Record<string, number>;
    this.dispose();
    for (const { name, param } of this.params) {
      if (steps[name] === undefined) continue;
      const slot: Slot = { step: steps[name]! };
      for (const key of ['row', 'col', 'full'] as const) {
        const data = state.tensors.get(`${name}/${key}`);
        if (data) slot[key] = fromHost(data, param, state.shapes.get(`${name}/${key}`));
      }
      this.state.set(name, slot);
    }
  }

  dispose(): void {
    for (const slot of this.state.values()) for (const t of [slot.row, slot.col, slot.full]) t?.dispose();
    this.state.clear();
  }
}

/** transformers' _rms: ||t||_2 / sqrt(numel), as a host number. */
function rms(t: Tensor): number {
  const n = t.shape.reduce((a, b) => a * b, 1);
  return t.norm().item() / Math.sqrt(n);
}
