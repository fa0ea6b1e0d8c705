/**
 * What the model sees: the one place that turns a record (a text, or a title and a text) and a kind (query
 * or passage) into the model's token ids. The encoder batches exactly these encodings and `densekit tokenize`
 * prints them, so the two cannot drift.
 *
 * For a model folder (sentence-transformers layout or a bare Hugging Face model), as sentence-transformers
 * does: the kind's prompt from config_sentence_transformers.json, then title + " " + text (src/formats
 * recordText), Python's strip(), lowercasing when sentence_bert_config.json says do_lower_case, and truncation
 * to the kind's max length (default: the per-kind lengths densekit's save records, else max_seq_length, else
 * min(max_position_embeddings, model_max_length), else 512), keeping the final [SEP] / </s>. A tokenizer-only folder tokenizes the text as given and truncates
 * only to a max length asked for.
 */
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { recordText } from '../formats/beir.js';
import { isModelFolder, readHfConfig, readSentenceTransformerInput, type SentenceTransformerInput } from '../io/index.js';
import type { TextKind } from '../retrieval/types.js';
import { loadTokenizer, prepareText, readTokenizerConfig, tokenizerDir, type Encoding, type Tokenizer } from '../text/index.js';

// One definition of the two kinds: the retrieval seam's.
export type { TextKind } from '../retrieval/types.js';

/** A text to encode: a plain string, or a record whose title is joined before its text. */
export type ModelRecord = string | { title?: string; text: string };

export interface ModelInputOptions {
  /** Token limits per kind, special tokens included; default: the model's own (see above). */
  queryMaxLength?: number;
  passageMaxLength?: number;
}

/** sentence-transformers' prompt names per kind (SentenceTransformer.encode_query / encode_document). */
const PROMPT_NAMES: Record<TextKind, readonly string[]> = { query: ['query'], passage: ['document', 'passage', 'corpus'] };

export class ModelInput {
  /** Max tokens per kind; undefined (no truncation) only for a tokenizer-only folder without a limit asked for. */
  readonly maxLength: Readonly<Record<TextKind, number | undefined>>;
  /** The text put before every text of a kind ('' for none). */
  readonly prompts: Readonly<Record<TextKind, string>>;

  private constructor(
    readonly tokenizer: Tokenizer,
    /** True for a model folder: sentence-transformers' strip (and maybe lowercase) apply. */
    readonly modelFolder: boolean,
    readonly lowercase: boolean,
    maxLength: Record<TextKind, number | undefined>,
    prompts: Record<TextKind, string>,
  ) {
    for (const [kind, n] of Object.entries(maxLength)) {
      if (n !== undefined && (!Number.isInteger(n) || n < 2)) throw new UsageError(`${kind} max length must be an integer >= 2, got ${n}`);
    }
    this.maxLength = maxLength;
    this.prompts = prompts;
  }

  /**
   * A model or tokenizer folder (already resolved to a path); `st` is the folder's sentence-transformers
   * settings when the caller has read them already (the encoder has).
   */
  static load(dir: string, opts: ModelInputOptions = {}, st = isModelFolder(dir) ? readSentenceTransformerInput(dir) : undefined): ModelInput {
    const tokenizer = loadTokenizer(dir);
    if (!st) return new ModelInput(tokenizer, false, false, { query: opts.queryMaxLength, passage: opts.passageMaxLength }, { query: '', passage: '' });
    const base = st.maxSeqLength ?? inferredMaxLength(dir, st);
    // Lengths a model was trained with (recorded by densekit's save) come before the checkpoint's single max_seq_length.
    return new ModelInput(
      tokenizer, true, st.doLowerCase,
      { query: opts.queryMaxLength ?? st.trainedMaxLength?.query ?? base, passage: opts.passageMaxLength ?? st.trainedMaxLength?.passage ?? base },
      { query: promptFor(st, 'query'), passage: promptFor(st, 'passage') },
    );
  }

  /**
   * A model's input settings as another format records them (an ONNX export's densekit-onnx.json): the same
   * rules as a model folder (strip, maybe lowercase, prompts, per-kind limits), so both engines see the same ids.
   */
  static fromSettings(tokenizer: Tokenizer, s: { lowercase: boolean; maxLength: Record<TextKind, number>; prompts: Record<TextKind, string> }): ModelInput {
    return new ModelInput(tokenizer, true, s.lowercase, { ...s.maxLength }, { ...s.prompts });
  }

  /** The string the tokenizer gets for a record of this kind. */
  text(record: ModelRecord, kind: TextKind): string {
    const raw = this.prompts[kind] + (typeof record === 'string' ? record : recordText(record));
    return prepareText(raw, { strip: this.modelFolder, lowercase: this.lowercase });
  }

  /** Token ids of each record, truncated to the kind's max length, never padded. */
  encode(records: readonly ModelRecord[], kind: TextKind): Encoding[] {
    const limit = this.maxLength[kind];
    return this.tokenizer.encodeBatch(records.map((r) => this.text(r, kind)), limit === undefined ? {} : { maxLength: limit });
  }
}

/** The prompt of a kind: its named prompt, else the default prompt, else none (as SentenceTransformer.encode). */
function promptFor(st: SentenceTransformerInput, kind: TextKind): string {
  const prompts = st.prompts ?? {};
  const name = PROMPT_NAMES[kind].find((n) => n in prompts) ?? st.defaultPromptName;
  return (name !== undefined ? prompts[name] : undefined) ?? '';
}

/** sentence-transformers' rule without max_seq_length: min(max_position_embeddings, tokenizer model_max_length), else 512. */
function inferredMaxLength(dir: string, st: SentenceTransformerInput): number {
  const limits: number[] = [];
  const config = readHfConfig(join(dir, st.transformerPath));
  if ('maxPositionEmbeddings' in config && typeof config.maxPositionEmbeddings === 'number') limits.push(config.maxPositionEmbeddings);
  // transformers' VERY_LARGE_INTEGER (1e30) means "no limit".
  const m = readTokenizerConfig(tokenizerDir(dir)).modelMaxLength;
  if (m !== undefined && m < 1e9) limits.push(m);
  return limits.length ? Math.min(...limits) : 512;
}

/**
 * The batches every engine runs, as index lists into `encodings`: longest first (the first text of a batch sets
 * its padded length, so short texts cost little), `batchSize` texts each, or with `tokenBudget` as many as fit in
 * that many padded tokens (at most `batchSize`, at least one).
 */
export function lengthSortedBatches(encodings: readonly Encoding[], batchSize: number, tokenBudget?: number): number[][] {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new UsageError(`batch size must be a positive integer, got ${batchSize}`);
  if (tokenBudget !== undefined && (!Number.isInteger(tokenBudget) || tokenBudget < 1)) throw new UsageError(`token budget must be a positive integer, got ${tokenBudget}`);
  const order = encodings.map((_, i) => i).sort((a, b) => encodings[b]!.ids.length - encodings[a]!.ids.length || a - b);
  const batches: number[][] = [];
  for (let start = 0, size = 0; start < order.length; start += size) {
    size = tokenBudget === undefined ? batchSize : Math.max(1, Math.min(batchSize, Math.floor(tokenBudget / Math.max(1, encodings[order[start]!]!.ids.length))));
    batches.push(order.slice(start, start + size));
  }
  return batches;
}
