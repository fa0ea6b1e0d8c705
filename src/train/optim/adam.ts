/**
 * Adam and AdamW exactly as torch.optim (1.13, single-tensor path) computes them:
 *   Adam:  g += wd * p;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
 *          p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 *   AdamW: p *= 1 - lr * wd first (decoupled), then the same update without the L2 term.
 */
import { noGrad, scope, tensor, zeros, type Tensor } from '../../tensor/index.js';
import type { NamedParameter, Optimizer, OptimizerState } from './optimizer.js';

export interface AdamOptions {
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  /** true: AdamW's decoupled weight decay. */
  decoupled?: boolean;
}

interface Slot {
  step: number;
  expAvg: Tensor;
  expAvgSq: Tensor;
}

export class Adam implements Optimizer {
  readonly name: string;
  private readonly state = new Map<string, Slot>();
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;
  private readonly weightDecay: number;
  private readonly decoupled: boolean;

  constructor(private readonly params: readonly NamedParameter[], options: AdamOptions = {}) {
    [this.beta1, this.beta2] = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    this.decoupled = options.decoupled ?? false;
    this.name = this.decoupled ? 'adamw' : 'adam';
  }

  step(lr: number): void {
    noGrad(() => {
      for (const { name, param } of this.params) scope(() => {
        const grad0 = param.grad;
        if (!grad0) return;
        let slot = this.state.get(name);
        if (!slot) {
          slot = { step: 0, expAvg: zeros(param.shape, { dtype: 'float32', device: param.device }).keep(), expAvgSq: zeros(param.shape, { dtype: 'float32', device: param.device }).keep() };
          this.state.set(name, slot);
        }
        slot.step++;
        if (this.decoupled && this.weightDecay !== 0) param.mul_(1 - lr * this.weightDecay);
        const grad = !this.decoupled && this.weightDecay !== 0 ? grad0.add(param, this.weightDecay) : grad0;
        slot.expAvg.mul_(this.beta1).add_(grad, 1 - this.beta1);
        slot.expAvgSq.mul_(this.beta2).addcmul_(grad, grad, 1 - this.beta2);
        const biasCorrection1 = 1 - this.beta1 ** slot.step;
        const biasCorrection2 = 1 - this.beta2 ** slot.step;
        const stepSize = lr / biasCorrection1;
        const denom = slot.expAvgSq.sqrt().div(Math.sqrt(biasCorrection2)).add_(this.eps);
        param.addcdiv_(slot.expAvg, denom, -stepSize);
      });
    });
  }

  stateDict(): OptimizerState {
    const tensors = new Map<string, Float32Array>();
    const shapes = new Map<string, number[]>();
    const steps: Record<string, number> = {};
    for (const [name, slot] of this.state) {
      tensors.set(`${name}/exp_avg`, slot.expAvg.toFloat32Array());
      tensors.set(`${name}/exp_avg_sq`, slot.expAvgSq.toFloat32Array());
      shapes.set(`${name}/exp_avg`, [...slot.expAvg.shape]);
      shapes.set(`${name}/exp_avg_sq`, [...slot.expAvgSq.shape]);
      steps[name] = slot.step;
    }
    return { tensors, shapes, json: { kind: this.name, steps } };
  }

  loadStateDict(state: OptimizerState): void {
    if (state.json.kind !== this.name) throw new RangeError(`optimizer state is for ${String(state.json.kind)}, not ${this.name}`);
    const steps = state.json.steps as Record<string, number>;
    this.dispose();
    for (const { name, param } of this.params) {
      if (steps[name] === undefined) continue;
      const load = (slotName: string): Tensor => {
        const data = state.tensors.get(`${name}/${slotName}`);
        if (!data) throw new RangeError(`optimizer state lacks ${name}/${slotName}`);
        return fromHost(data, param);
      };
      this.state.set(name, { step: steps[name]!, expAvg: load('exp_avg'), expAvgSq: load('exp_avg_sq') });
    }
  }

  dispose(): void {
    for (const slot of this.state.values()) {
      slot.expAvg.dispose();
      slot.expAvgSq.dispose();
    }
    this.state.clear();
  }
}

/** A host copy back to the parameter's device, checked against its shape. */
export function fromHost(data: Float32Array, like: Tensor, shape: readonly number[] = like.shape): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new RangeError(`optimizer state has ${data.length} values, the parameter needs ${n}`);
  return tensor(data, { shape: [...shape], dtype: 'float32', device: like.device }).keep();
}
