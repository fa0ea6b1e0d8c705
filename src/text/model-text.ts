/**
 * What a model folder does to a text before the encoder sees it: sentence-transformers folders (modules.json
 * or sentence_bert_config.json) strip, maybe lowercase, and cut to max_seq_length; a tokenizer-only folder
 * does none of that unless a max length is asked for.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { readJsonFile } from './config.js';
import { loadTokenizer } from './load.js';
import { prepareText } from './prepare.js';
import type { Encoding, Tokenizer } from './types.js';

export interface ModelText {
  tokenizer: Tokenizer;
  /** True for a sentence-transformers folder. */
  sentenceTransformers: boolean;
  strip: boolean;
  lowercase: boolean;
  /** The model's own limit (max_seq_length), undefined for a tokenizer-only folder. */
  maxLength: number | undefined;
}

function readSentenceBertConfig(dir: string): { maxSeqLength?: number; doLowerCase: boolean } {
  const path = join(dir, 'sentence_bert_config.json');
  if (!existsSync(path)) return { doLowerCase: false };
  const o = readJsonFile(path) as Record<string, unknown>;
  const max = o?.['max_seq_length'];
  if (max !== undefined && max !== null && (typeof max !== 'number' || !Number.isInteger(max) || max < 1))
    throw new InputError(path, undefined, 'field "max_seq_length" must be a positive integer');
  const lower = o?.['do_lower_case'];
  if (lower !== undefined && typeof lower !== 'boolean') throw new InputError(path, undefined, 'field "do_lower_case" must be true or false');
  return { maxSeqLength: (max as number | undefined | null) ?? undefined, doLowerCase: lower === true };
}

/** sentence-transformers' fallback when max_seq_length is unset: min(max_position_embeddings, model_max_length). */
function inferredMaxLength(dir: string): number | undefined {
  const limits: number[] = [];
  for (const [file, key] of [['config.json', 'max_position_embeddings'], ['tokenizer_config.json', 'model_max_length']] as const) {
    const path = join(dir, file);
    if (!existsSync(path)) continue;
    const v = (readJsonFile(path) as Record<string, unknown>)?.[key];
    if (typeof v === 'number' && Number.isInteger(v) && v > 0 && v < 1e9) limits.push(v);
  }
  return limits.length ? Math.min(...limits) : undefined;
}

export function loadModelText(dir: string): ModelText {
  const tokenizer = loadTokenizer(dir);
  const st = existsSync(join(dir, 'modules.json')) || existsSync(join(dir, 'sentence_bert_config.json'));
  if (!st) return { tokenizer, sentenceTransformers: false, strip: false, lowercase: false, maxLength: undefined };
  const cfg = readSentenceBertConfig(dir);
  return { tokenizer, sentenceTransformers: true, strip: true, lowercase: cfg.doLowerCase, maxLength: cfg.maxSeqLength ?? inferredMaxLength(dir) };
}

/** Tokenizes one text as the model would (maxLength overrides the model's own limit). */
export function encodeForModel(m: ModelText, text: string, maxLength?: number): Encoding {
  return m.tokenizer.encode(prepareText(text, { strip: m.strip, lowercase: m.lowercase }), { maxLength: maxLength ?? m.maxLength });
}
