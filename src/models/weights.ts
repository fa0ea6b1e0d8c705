/**
 * Where a model's parameters come from: a checkpoint's state dict (validated key by key against the
 * shapes the config implies) or fresh random values (benchmarks, tests, training from scratch).
 */
import { fromHost, randn, zeros, ones, type Tensor } from '../tensor/index.js';
import type { HostTensor } from '../io/host-tensor.js';
import { DensekitError } from '../errors.js';

export type Init = 'normal' | 'zeros' | 'ones';

export interface WeightSource {
  /** The parameter stored under `key` (after the source's own renames), checked to have `shape`. */
  take(key: string, shape: number[], init?: Init): Tensor;
}

/** Old TF-converted BERT checkpoints name LayerNorm parameters gamma/beta. */
function legacyNames(key: string): string[] {
  return [key, key.replace(/\.weight$/, '.gamma'), key.replace(/\.bias$/, '.beta')].filter((k, i, a) => a.indexOf(k) === i);
}

export class StateDictWeights implements WeightSource {
  private readonly used = new Set<string>();

  /**
   * @param prefixes tried in order before each key (e.g. ['', 'bert.'] for BERT checkpoints saved from
   *   BertForX heads) so that bare and wrapped checkpoints load alike.
   */
  constructor(
    private readonly stateDict: Map<string, HostTensor>,
    private readonly file: string,
    private readonly prefixes: readonly string[] = [''],
    private readonly aliases: Readonly<Record<string, readonly string[]>> = {},
  ) {}

  has(key: string): boolean {
    return this.find(key) !== undefined;
  }

  private find(key: string): string | undefined {
    for (const k of [key, ...(this.aliases[key] ?? [])])
      for (const p of this.prefixes)
        for (const name of legacyNames(p + k)) if (this.stateDict.has(name)) return name;
    return undefined;
  }

  take(key: string, shape: number[]): Tensor {
    const name = this.find(key);
    if (name === undefined) throw new DensekitError(`${this.file}: missing weight ${key} (needed by the architecture in config.json)`);
    const h = this.stateDict.get(name)!;
    if (h.shape.length !== shape.length || h.shape.some((d, i) => d !== shape[i]))
      throw new DensekitError(`${this.file}: tensor ${name} has shape [${h.shape.join(', ')}], config.json implies [${shape.join(', ')}]`);
    this.used.add(name);
    return fromHost(h, { dtype: 'float32' });
  }

  /** Keys never taken (heads, poolers, decoders): for diagnostics. */
  unused(): string[] {
    return [...this.stateDict.keys()].filter((k) => !this.used.has(k));
  }
}

/** Random weights with BERT's initialisation (N(0, std)), LayerNorm at identity. */
export class RandomWeights implements WeightSource {
  constructor(private readonly std = 0.02) {}
  take(_key: string, shape: number[], init: Init = 'normal'): Tensor {
    if (init === 'zeros') return zeros(shape);
    if (init === 'ones') return ones(shape);
    const t = randn(shape);
    const scaled = t.mul(this.std);
    t.dispose();
    return scaled;
  }
}
