/**
 * `densekit tokenize`: shows exactly what the encoder feeds the model, one JSON line per text:
 * {"id":...,"ids":[...],"tokens":[...]} from the very code the encoder batches (src/models/model-input.ts),
 * never padded.
 */
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { guessKind, readTextRecords } from '../formats/index.js';
import { ensureModel } from '../hub/index.js';
import { ModelInput, type ModelRecord, type TextKind } from '../models/model-input.js';
import { oneOf, positiveInt } from './options.js';
import { VERB_SUMMARIES } from './verbs.js';

interface TokenizeFlags {
  model: string;
  text?: string;
  input?: string;
  kind?: TextKind;
  maxLength?: number;
}

const HELP = `
Input: --text for one string, or --input FILE as \`densekit encode\` reads it: BEIR JSON lines ({"_id",
"title", "text"}, title optional: a corpus title is joined before the text, as the encoder does) or
"id<TAB>text" lines. Each output line carries the record's "id".

A model folder (sentence-transformers layout or a Hugging Face model) applies what the encoder applies:
the kind's prompt (config_sentence_transformers.json), Python-style strip(), lowercasing when
sentence_bert_config.json says do_lower_case, and truncation to the kind's max length (--max-length, else
max_seq_length) keeping the final [SEP] or </s>. A tokenizer-only folder (tokenizer.json, vocab.txt or
spiece.model) tokenizes the text as given and truncates only with --max-length. --kind defaults as in
encode: query when the file name says so, else passage.`;

export function register(program: Command): void {
  program
    .command('tokenize')
    .description(VERB_SUMMARIES['tokenize'])
    .requiredOption('--model <dir|id>', 'model or tokenizer folder, or a Hugging Face id found in the local caches')
    .option('--text <text>', 'one text to tokenize')
    .option('--input <file>', 'corpus.jsonl / queries.jsonl / id<TAB>text tsv')
    .option('--kind <kind>', 'query|passage', oneOf('--kind', ['query', 'passage'] as const))
    .option('--max-length <n>', 'maximum tokens including special tokens (default: the model\'s max_seq_length)', positiveInt('--max-length'))
    .addHelpText('after', HELP)
    .action(async (flags: TokenizeFlags) => {
      if ((flags.text === undefined) === (flags.input === undefined)) throw new UsageError('tokenize needs exactly one of --text or --input');
      const kind = flags.kind ?? (flags.input !== undefined ? guessKind(flags.input) : 'passage');
      const limit = flags.maxLength;
      const input = ModelInput.load(await ensureModel(flags.model), limit === undefined ? {} : kind === 'query' ? { queryMaxLength: limit } : { passageMaxLength: limit });
      const out = new LineWriter();
      try {
        if (flags.text !== undefined) out.write(formatLine(input, flags.text, kind));
        else for await (const r of readTextRecords(flags.input!)) out.write(formatLine(input, r, kind, r.id));
      } finally {
        // Lines before a bad input line are still printed, then the error.
        await out.close();
      }
    });
}

function formatLine(input: ModelInput, record: ModelRecord, kind: TextKind, id?: string): string {
  const [e] = input.encode([record], kind);
  return `${JSON.stringify({ ...(id !== undefined ? { id } : {}), ids: e!.ids, tokens: e!.tokens })}\n`;
}

/** Buffers stdout writes and honours backpressure so large inputs stream in constant memory. */
class LineWriter {
  private buffer = '';
  private pending: Promise<void> = Promise.resolve();

  write(line: string): void {
    this.buffer += line;
    if (this.buffer.length > 1 << 16) this.flush();
  }

  private flush(): void {
    const chunk = this.buffer;
    this.buffer = '';
    this.pending = this.pending.then(() => new Promise<void>((resolve, reject) => {
      process.stdout.write(chunk, (err) => (err ? reject(err) : resolve()));
    }));
  }

  async close(): Promise<void> {
    if (this.buffer) this.flush();
    await this.pending;
  }
}
