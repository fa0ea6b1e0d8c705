/**
 * tokenizer_config.json and special_tokens_map.json: casing, accent and CJK options, model_max_length and
 * the special tokens (plain strings or serialized AddedToken objects {"content": ...}).
 */
import { existsSync } from 'node:fs';
import { readJsonFileSync as readJsonFile } from '../util/lines.js';
import { join } from 'node:path';
import { InputError } from '../errors.js';

export interface TokenizerConfig {
  doLowerCase?: boolean;
  doBasicTokenize?: boolean;
  stripAccents?: boolean | null;
  tokenizeChineseChars?: boolean;
  neverSplit?: string[];
  modelMaxLength?: number;
  extraIds?: number;
  tokenizerClass?: string;
  specials: Partial<Record<'unk' | 'sep' | 'pad' | 'cls' | 'mask' | 'eos' | 'bos', string>>;
  additionalSpecialTokens?: string[];
  /** Whether tokenizer_config.json exists (its options override tokenizer.json's BERT normalizer). */
  present: boolean;
}


function tokenString(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return undefined;
}

function asObject(v: unknown, path: string): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new InputError(path, undefined, 'expected a JSON object');
  return v as Record<string, unknown>;
}

const SPECIAL_KEYS = ['unk', 'sep', 'pad', 'cls', 'mask', 'eos', 'bos'] as const;

export function readTokenizerConfig(dir: string): TokenizerConfig {
  const cfg: TokenizerConfig = { specials: {}, present: false };
  const configPath = join(dir, 'tokenizer_config.json');
  const mapPath = join(dir, 'special_tokens_map.json');
  const sources: [string, Record<string, unknown>][] = [];
  if (existsSync(configPath)) {
    cfg.present = true;
    sources.push([configPath, asObject(readJsonFile(configPath), configPath)]);
  }
  // special_tokens_map.json is applied after tokenizer_config.json, so it wins, as in transformers.
  if (existsSync(mapPath)) sources.push([mapPath, asObject(readJsonFile(mapPath), mapPath)]);
  for (const [path, o] of sources) {
    const bool = (key: string): boolean | undefined => {
      const v = o[key];
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'boolean') throw new InputError(path, undefined, `field "${key}" must be true or false`);
      return v;
    };
    cfg.doLowerCase = bool('do_lower_case') ?? cfg.doLowerCase;
    cfg.doBasicTokenize = bool('do_basic_tokenize') ?? cfg.doBasicTokenize;
    cfg.tokenizeChineseChars = bool('tokenize_chinese_chars') ?? cfg.tokenizeChineseChars;
    if ('strip_accents' in o) {
      const v = o['strip_accents'];
      if (v !== null && typeof v !== 'boolean') throw new InputError(path, undefined, 'field "strip_accents" must be true, false or null');
      cfg.stripAccents = v as boolean | null;
    }
    if (Array.isArray(o['never_split'])) cfg.neverSplit = (o['never_split'] as unknown[]).map((t) => String(t));
    if (typeof o['model_max_length'] === 'number') cfg.modelMaxLength = o['model_max_length'];
    if (typeof o['extra_ids'] === 'number') cfg.extraIds = o['extra_ids'];
    if (typeof o['tokenizer_class'] === 'string') cfg.tokenizerClass = o['tokenizer_class'];
    for (const k of SPECIAL_KEYS) {
      const v = tokenString(o[`${k}_token`]);
      if (v !== undefined) cfg.specials[k] = v;
    }
    if (Array.isArray(o['additional_special_tokens'])) {
      cfg.additionalSpecialTokens = (o['additional_special_tokens'] as unknown[]).map((t) => {
        const s = tokenString(t);
        if (s === undefined) throw new InputError(path, undefined, 'additional_special_tokens must hold strings');
        return s;
      });
    }
  }
  return cfg;
}
