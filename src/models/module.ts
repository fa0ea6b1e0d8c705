/**
 * The smallest useful nn.Module: named parameters and children, so that a model's parameter names are
 * exactly its checkpoint keys (as in PyTorch's state_dict) and loading is a walk over names.
 * Models hold only Tensors from src/tensor: they know nothing of the addon behind it.
 */
import { isDType, isFloatingDType, type DType } from '../tensor/dtype.js';
import { checkDevice, type Device } from '../tensor/device.js';
import type { Tensor } from '../tensor/index.js';

export abstract class Module {
  private readonly ownParams = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();
  protected training = false;

  protected registerParameter(name: string, t: Tensor): Tensor {
    this.ownParams.set(name, t);
    return t;
  }

  protected unregisterParameter(name: string): void {
    this.ownParams.delete(name);
  }

  /** This module and every module below it, depth first in registration order (nn.Module.modules()). */
  *modules(): Generator<Module> {
    yield this;
    for (const m of this.children.values()) yield* m.modules();
  }

  protected registerModule<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  /** Parameters by dotted path, children first visited in registration order (like state_dict()). */
  namedParameters(prefix = ''): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [n, t] of this.ownParams) out.set(prefix + n, t);
    for (const [n, m] of this.children) for (const [k, t] of m.namedParameters(`${prefix}${n}.`)) out.set(k, t);
    return out;
  }

  /** Switches dropout on (true) or off (false) everywhere below. */
  train(flag = true): this {
    this.training = flag;
    for (const m of this.children.values()) m.train(flag);
    return this;
  }

  get isTraining(): boolean {
    return this.training;
  }

  /**
   * nn.Module.to: moves every parameter to a device, or converts every floating parameter to a dtype, in place
   * (the parameters keep their identity, so optimizers built on them stay valid).
   */
  to(target: Device | DType): this {
    const isDevice = !isDType(target);
    for (const p of this.namedParameters().values()) {
      if (isDevice ? p.device === target : p.dtype === target || !isFloatingDType(p.dtype)) continue;
      const data = p.detach();
      const moved = data.to(isDevice ? checkDevice(target) : target);
      p.setData_(moved);
      moved.dispose();
      data.dispose();
    }
    return this;
  }

  /** Frees every parameter now. */
  dispose(): void {
    for (const t of this.namedParameters().values()) t.dispose();
  }
}
