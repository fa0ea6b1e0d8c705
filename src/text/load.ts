/**
 * Picks the tokenizer of a folder the way sentence-transformers (AutoTokenizer, use_fast) does:
 * tokenizer.json when present (Rust `tokenizers` semantics), else vocab.txt (BERT WordPiece) or
 * spiece.model (T5 SentencePiece) with the slow tokenizers' semantics, which is what the reference oracles
 * record and what transformers' slow->fast conversion reproduces on stripped text.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { pathInside } from '../util/paths.js';
import { loadBertVocabTokenizer } from './bert-vocab.js';
import { readTokenizerConfig } from './config.js';
import type { PipelineTokenizer } from './pipeline-tokenizer.js';
import { loadT5SpieceTokenizer } from './t5-spiece.js';
import { loadTokenizerJson, type PrecompiledRule } from './tokenizer-json.js';

export type TokenizerFormat = 'tokenizer.json' | 'vocab.txt' | 'spiece.model';

const FILES: TokenizerFormat[] = ['tokenizer.json', 'vocab.txt', 'spiece.model'];

/**
 * The folder holding the tokenizer files: `dir` itself, or the Transformer module's subfolder named in a
 * sentence-transformers modules.json (older models keep it under 0_Transformer/).
 */
export function tokenizerDir(dir: string): string {
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new InputError(dir, undefined, 'no such folder');
  }
  if (!st.isDirectory()) throw new InputError(dir, undefined, 'is not a folder (expected a model or tokenizer folder)');
  if (FILES.some((f) => existsSync(join(dir, f)))) return dir;
  const modulesPath = join(dir, 'modules.json');
  if (existsSync(modulesPath)) {
    try {
      const modules = JSON.parse(readFileSync(modulesPath, 'utf8')) as { type?: string; path?: string }[];
      const t = modules.find((m) => typeof m.type === 'string' && m.type.endsWith('models.Transformer'));
      if (t?.path && FILES.some((f) => existsSync(join(pathInside(dir, t.path!, modulesPath, 'Transformer path'), f)))) return join(dir, t.path);
    } catch (e) {
      if (e instanceof InputError) throw e;
      // unreadable JSON: fall through to the "no tokenizer files" error naming the folder
    }
  }
  throw new InputError(dir, undefined, `no tokenizer files (expected one of ${FILES.join(', ')})`);
}

/** Which format loadTokenizer(dir) will use. */
export function tokenizerFormat(dir: string): TokenizerFormat {
  const d = tokenizerDir(dir);
  return FILES.find((f) => existsSync(join(d, f)))!;
}

export function loadTokenizer(dir: string): PipelineTokenizer {
  return loadTokenizerAs(dir, tokenizerFormat(dir));
}

/** Loads a specific file format from the folder (for comparing tokenizer.json with the slow files). */
export function loadTokenizerAs(dir: string, format: TokenizerFormat, opts: { precompiledRule?: PrecompiledRule } = {}): PipelineTokenizer {
  const d = tokenizerDir(dir);
  if (!existsSync(join(d, format))) throw new InputError(join(d, format), undefined, 'no such file');
  const cfg = readTokenizerConfig(d);
  switch (format) {
    case 'tokenizer.json': return loadTokenizerJson(d, cfg, opts);
    case 'vocab.txt': return loadBertVocabTokenizer(d, cfg);
    case 'spiece.model': return loadT5SpieceTokenizer(d, cfg);
  }
}
