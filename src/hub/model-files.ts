/**
 * Which files of a repository a sentence-transformers model needs: modules.json names the module folders
 * (Transformer, 1_Pooling, 2_Dense, ...); from each, its configs and tokenizer files, and ONE weights format:
 * safetensors when the repository has it (sharded: the index and the shards it names), else PyTorch .bin. ONNX,
 * TensorFlow, Flax, OpenVINO exports, READMEs and training scripts are never fetched. A repository without
 * modules.json is a plain Hugging Face model (densekit mean-pools it): its root folder is the Transformer.
 */
import { InputError } from '../errors.js';
import { safeRepoPath } from './client.js';

/** Files read from a module folder besides weights (configs, and every tokenizer format densekit reads). */
const MODULE_FILES = [
  'config.json', 'sentence_bert_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json',
  'added_tokens.json', 'vocab.txt', 'spiece.model',
];
/** At the root only. */
const ROOT_FILES = ['modules.json', 'config_sentence_transformers.json'];

export const SAFETENSORS_INDEX = 'model.safetensors.index.json';
export const BIN_INDEX = 'pytorch_model.bin.index.json';

export interface ModuleFolder {
  folder: string;
  /** The module's class, e.g. sentence_transformers.models.Transformer. */
  type: string;
}

/** The module folders modules.json lists ("" is the root). */
export function moduleFolders(modulesJson: string, file: string): ModuleFolder[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(modulesJson);
  } catch {
    throw new InputError(file, undefined, 'not valid JSON (expected a list of {"path": ..., "type": ...})');
  }
  if (!Array.isArray(parsed) || parsed.length > 100) throw new InputError(file, undefined, 'expected a list of at most 100 modules');
  return parsed.map((m, i) => {
    const { path, type } = (m ?? {}) as { path?: unknown; type?: unknown };
    if (typeof path !== 'string' || typeof type !== 'string') throw new InputError(file, undefined, `module ${i}: "path" and "type" must be strings`);
    const clean = path.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
    if (clean !== '' && !safeRepoPath(clean)) throw new InputError(file, undefined, `module ${i}: "path" ${JSON.stringify(path)} is not a relative folder`);
    return { folder: clean, type };
  });
}

export interface WeightsChoice {
  /** Files to fetch now (for a sharded checkpoint: its index; the shards come from shardsOf). */
  files: string[];
  /** Set when `files` holds an index whose shards are still to be read from it. */
  index?: string;
}

/** Per folder: the configs and tokenizer files present, and the weights to take (safetensors preferred). */
export function selectFromFolder(repoFiles: ReadonlySet<string>, folder: string): { files: string[]; weights: WeightsChoice | undefined } {
  const at = (name: string) => (folder ? `${folder}/${name}` : name);
  const files = MODULE_FILES.map(at).filter((f) => repoFiles.has(f));
  if (folder === '') files.push(...ROOT_FILES.filter((f) => repoFiles.has(f)));
  let weights: WeightsChoice | undefined;
  for (const [single, index] of [['model.safetensors', SAFETENSORS_INDEX], ['pytorch_model.bin', BIN_INDEX]] as const) {
    if (repoFiles.has(at(single))) weights = { files: [at(single)] };
    else if (repoFiles.has(at(index))) weights = { files: [at(index)], index: at(index) };
    if (weights) break;
  }
  return { files, weights };
}

/** The shard files a sharded checkpoint's index names (its weight_map values), relative to the repository root. */
export function shardsOf(indexJson: string, repoIndexPath: string, indexPath: string, repoFiles: ReadonlySet<string>): string[] {
  let map: unknown;
  try {
    map = (JSON.parse(indexJson) as { weight_map?: unknown }).weight_map;
  } catch {
    throw new InputError(indexPath, undefined, 'not valid JSON (expected {"weight_map": {tensor: shard file}})');
  }
  if (typeof map !== 'object' || map === null) throw new InputError(indexPath, undefined, 'no "weight_map" object');
  const folder = repoIndexPath.includes('/') ? repoIndexPath.slice(0, repoIndexPath.lastIndexOf('/') + 1) : '';
  const shards = new Set<string>();
  for (const shard of Object.values(map)) {
    if (typeof shard !== 'string' || !safeRepoPath(shard) || shard.includes('/')) throw new InputError(indexPath, undefined, `weight_map names ${JSON.stringify(shard)}, expected a file name beside the index`);
    const path = folder + shard;
    if (!repoFiles.has(path)) throw new InputError(indexPath, undefined, `weight_map names ${shard}, which the repository does not have`);
    shards.add(path);
  }
  if (shards.size === 0 || shards.size > 10_000) throw new InputError(indexPath, undefined, `weight_map names ${shards.size} shards (expected 1..10000)`);
  return [...shards].sort();
}
