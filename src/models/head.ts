/**
 * The sentence head a recipe states (pooling, projection, similarity) applied to the model a stage starts from.
 *
 * A plain Hugging Face folder has no head: sentence-transformers gives it mean pooling, which silently turns the
 * TAS-B recipe (CLS + dot product) into a different model. So a stated head is built onto a plain folder (the
 * projection initialised as torch.nn.Linear initialises, seeded), and checked against a sentence-transformers
 * folder's own modules: a disagreement is an error, never a quiet choice of one side.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import type { HostTensor } from '../io/index.js';
import type { ModuleSpec, PoolingMode, SentenceTransformerSpec } from '../io/sentence-transformers.js';
import { seededRandom } from '../util/random.js';

export type PoolingName = 'cls' | 'mean' | 'max' | 'mean_sqrt_len';
export const POOLING_NAMES: readonly PoolingName[] = ['cls', 'mean', 'max', 'mean_sqrt_len'];

export interface SentenceHead {
  pooling?: PoolingName;
  /** Output width of a bias-free linear projection after pooling (GTR: 768); 0 = no projection. */
  projection?: number;
  /** `cosine` adds (or requires) a Normalize module; `dot` forbids one. */
  similarity?: 'dot' | 'cosine';
  /** Seed of the projection's initialisation. */
  seed?: number;
}

function poolingMode(name: PoolingName): PoolingMode {
  return { cls: name === 'cls', max: name === 'max', mean: name === 'mean', meanSqrtLen: name === 'mean_sqrt_len' };
}

function poolingName(mode: PoolingMode): string {
  const names = POOLING_NAMES.filter((n) => mode[n === 'mean_sqrt_len' ? 'meanSqrtLen' : n]);
  return names.join('+');
}

/** torch.nn.Linear's default init (kaiming_uniform with a=sqrt(5)): U(-1/sqrt(in), 1/sqrt(in)). */
function linearWeight(outFeatures: number, inFeatures: number, seed: number): HostTensor {
  const rand = seededRandom(seed);
  const bound = 1 / Math.sqrt(inFeatures);
  const values = new Float32Array(outFeatures * inFeatures);
  for (let i = 0; i < values.length; i++) values[i] = (rand() * 2 - 1) * bound;
  return { dtype: 'float32', shape: [outFeatures, inFeatures], data: new Uint8Array(values.buffer) };
}

/** The spec with `head` applied (plain folders) or checked (sentence-transformers folders). */
export function applyHead(spec: SentenceTransformerSpec, head: SentenceHead | undefined): SentenceTransformerSpec {
  if (!head || (head.pooling === undefined && head.projection === undefined && head.similarity === undefined)) return spec;
  const plain = !existsSync(join(spec.dir, 'modules.json'));
  const pooling = spec.modules.find((m): m is Extract<ModuleSpec, { kind: 'Pooling' }> => m.kind === 'Pooling');
  if (!pooling) throw new UsageError(`${spec.dir}: the model has no Pooling module to apply pooling "${head.pooling}" to`);
  if (plain) {
    const modules: ModuleSpec[] = [spec.modules[0]!, { ...pooling, mode: poolingMode(head.pooling ?? 'mean') }];
    if (head.projection) {
      modules.push({
        kind: 'Dense', path: '', inFeatures: pooling.dim, outFeatures: head.projection, bias: false, activation: 'identity',
        weight: linearWeight(head.projection, pooling.dim, head.seed ?? 42),
      });
    }
    if (head.similarity === 'cosine') modules.push({ kind: 'Normalize', path: '' });
    return { ...spec, modules, similarity: head.similarity === 'cosine' ? 'cosine' : 'dot' };
  }
  const where = join(spec.dir, 'modules.json');
  if (head.pooling !== undefined && poolingName(pooling.mode) !== head.pooling)
    throw new UsageError(`${where}: the model pools with ${poolingName(pooling.mode)} but pooling "${head.pooling}" was asked for (start from a plain model to change the head)`);
  const dense = spec.modules.filter((m) => m.kind === 'Dense');
  const width = (dense.at(-1) as { outFeatures: number } | undefined)?.outFeatures;
  if (head.projection !== undefined && (head.projection === 0 ? dense.length > 0 : width !== head.projection))
    throw new UsageError(`${where}: the model ${dense.length ? `projects to ${width}` : 'has no projection'} but projection ${head.projection} was asked for`);
  const normalized = spec.modules.some((m) => m.kind === 'Normalize');
  if (head.similarity !== undefined && normalized !== (head.similarity === 'cosine'))
    throw new UsageError(`${where}: the model ${normalized ? 'L2-normalizes (cosine)' : 'does not normalize (dot product)'} but similarity "${head.similarity}" was asked for`);
  return spec;
}
