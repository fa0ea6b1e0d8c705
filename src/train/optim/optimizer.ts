/**
 * The optimizer interface the training loop drives, and the parameter list it works on. Optimizers update
 * parameters in place with tensor ops, mirroring torch.optim's single-tensor (non-foreach) code so that one
 * step matches PyTorch to float32 rounding. State is exported as named tensors (saved as safetensors in a
 * checkpoint) plus a small JSON part, so a resumed run continues exactly.
 */
import type { Tensor } from '../../tensor/index.js';

export interface NamedParameter {
  name: string;
  param: Tensor;
}

export interface OptimizerState {
  /** Tensor state by `<parameter name>/<slot>`, e.g. `0.auto_model.shared.weight/exp_avg`. */
  tensors: Map<string, Float32Array>;
  /** Scalars (step counts) as JSON. */
  json: Record<string, unknown>;
  /** Shapes of `tensors`. */
  shapes: Map<string, number[]>;
}

export interface Optimizer {
  readonly name: string;
  /** One update of every parameter that has a gradient, at learning rate `lr` (the scheduled value). */
  step(lr: number): void;
  stateDict(): OptimizerState;
  loadStateDict(state: OptimizerState): void;
  /** Frees the state tensors. */
  dispose(): void;
}
