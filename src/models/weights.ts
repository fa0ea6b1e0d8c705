/**
 * Where a model's parameters come from: a checkpoint's state dict (validated key by key against the
 * shapes the config implies) or fresh random values (benchmarks, tests, training from scratch).
 */
import { empty, fromHost, randn, zeros, ones, type Device, type Tensor } from '../tensor/index.js';
import { BYTES_PER_ELEMENT, type StoredTensor } from '../io/host-tensor.js';
import { checkFinite } from '../io/state-dict.js';
import { DensekitError } from '../errors.js';

/** Pieces in which a checkpoint tensor is read into its parameter: small against any model, large enough for speed. */
const STREAM_BYTES = 4 * 2 ** 20;

export type Init = 'normal' | 'zeros' | 'ones';

export interface WeightSource {
  /** The parameter stored under `key` (after the source's own renames), checked to have `shape`. */
  take(key: string, shape: number[], init?: Init): Tensor;
}

/** Old TF-converted BERT checkpoints name LayerNorm parameters gamma/beta. */
function legacyNames(key: string): string[] {
  return [key, key.replace(/\.weight$/, '.gamma'), key.replace(/\.bias$/, '.beta')].filter((k, i, a) => a.indexOf(k) === i);
}

export interface StateDictOptions {
  /** Tried in order before each key (e.g. ['', 'bert.'] for BERT checkpoints saved from BertForX heads). */
  prefixes?: readonly string[];
  /** Other names a key may be stored under. */
  aliases?: Readonly<Record<string, readonly string[]>>;
  /** Where the parameters are created: each weight goes from the file straight onto this device. */
  device?: Device;
  /** Storage of matrices (Linear weights, embedding tables); vectors (norm scales, biases) stay float32. */
  matrixDtype?: 'float32' | 'bfloat16';
}

/**
 * Parameters from a checkpoint, taken one at a time: each tensor is read in pieces through one small reused buffer
 * and converted into its parameter on the device, so loading holds the final weights and 4 MiB, never a second
 * copy of the model (sources that cannot stream, e.g. deflated .bin entries, go through a buffer of the tensor's
 * size).
 */
export class StateDictWeights implements WeightSource {
  private readonly prefixes: readonly string[];
  private readonly aliases: Readonly<Record<string, readonly string[]>>;
  private readonly device: Device;
  private readonly matrixDtype: 'float32' | 'bfloat16';
  private scratch: Uint8Array | undefined;

  constructor(private readonly stateDict: ReadonlyMap<string, StoredTensor>, private readonly file: string, opts: StateDictOptions = {}) {
    this.prefixes = opts.prefixes ?? [''];
    this.aliases = opts.aliases ?? {};
    this.device = opts.device ?? 'cpu';
    this.matrixDtype = opts.matrixDtype ?? 'float32';
  }

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
    const stored = this.stateDict.get(name)!;
    if (stored.shape.length !== shape.length || stored.shape.some((d, i) => d !== shape[i]))
      throw new DensekitError(`${this.file}: tensor ${name} has shape [${stored.shape.join(', ')}], config.json implies [${shape.join(', ')}]`);
    const dtype = shape.length >= 2 ? this.matrixDtype : 'float32';
    if (stored.stream) {
      const t = empty(shape, { dtype, device: this.device });
      const size = BYTES_PER_ELEMENT[stored.dtype];
      const file = stored.file ?? this.file;
      try {
        stored.stream(this.scratchFor(Math.min(STREAM_BYTES, stored.byteLength)), (piece, off) => {
          checkFinite({ dtype: stored.dtype, shape: [piece.byteLength / size], data: piece }, name, file, off / size);
          t.copyFromHost_(piece, stored.dtype, off / size);
        });
      } catch (e) {
        t.dispose();
        throw e;
      }
      return t;
    }
    const h = checkFinite(stored.read(stored.byteLength > 0 ? this.scratchFor(stored.byteLength) : undefined), name, stored.file ?? this.file);
    return fromHost(h, { dtype, device: this.device });
  }

  /** One reused buffer, grown to the largest request (STREAM_BYTES when every tensor streams). */
  private scratchFor(bytes: number): Uint8Array {
    if (!this.scratch || this.scratch.byteLength < bytes) this.scratch = new Uint8Array(bytes);
    return this.scratch;
  }

  /** Drops the scratch buffer once the model is built. */
  release(): void {
    this.scratch = undefined;
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

/** Parameters with a shape and no storage (the meta device): sizes a model exactly before any weight is read. */
export class MetaWeights implements WeightSource {
  take(_key: string, shape: number[]): Tensor {
    return empty(shape, { device: 'meta' });
  }
}
