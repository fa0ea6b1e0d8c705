/**
 * `densekit tokenize`: shows exactly what the encoder feeds the model, one JSON line per text:
 * {"ids":[...],"tokens":[...]} after the model folder's own preprocessing and truncation, never padded.
 */
import type { Command } from 'commander';
import { InputError, UsageError } from '../errors.js';
import { ensureModel } from '../hub/index.js';
import { encodeForModel, loadModelText, type ModelText } from '../text/index.js';
import { readLines } from '../util/lines.js';
import { oneOf, positiveInt } from './options.js';

interface TokenizeFlags {
  model: string;
  text?: string;
  input?: string;
  kind?: 'query' | 'passage';
  maxLength?: number;
}

const HELP = `
Input: --text for one string, or --input FILE of JSON lines, each with a "text" string field (BEIR
queries.jsonl and corpus.jsonl qualify). Only the "text" field is tokenized: a BEIR corpus title is NOT
prepended here. Blank lines are skipped.

A sentence-transformers folder (modules.json / sentence_bert_config.json) applies its preprocessing:
Python-style strip(), lowercasing when its do_lower_case is set, and truncation to max_seq_length keeping
the final [SEP] or </s>. A tokenizer-only folder (tokenizer.json, vocab.txt or spiece.model) tokenizes
the text as given and truncates only with --max-length. --kind is accepted for symmetry with encode; both
kinds use the model's max_seq_length unless --max-length is given.`;

export function register(program: Command): void {
  program
    .command('tokenize')
    .description('print the token ids and tokens the model sees for each text (JSON lines)')
    .requiredOption('--model <dir|id>', 'model or tokenizer folder, or a Hugging Face id found in the local caches')
    .option('--text <text>', 'one text to tokenize')
    .option('--input <file>', 'JSON lines with a "text" field')
    .option('--kind <kind>', 'query|passage', oneOf('--kind', ['query', 'passage'] as const))
    .option('--max-length <n>', 'maximum tokens including special tokens (default: the model\'s max_seq_length)', positiveInt('--max-length'))
    .addHelpText('after', HELP)
    .action(async (flags: TokenizeFlags) => {
      if ((flags.text === undefined) === (flags.input === undefined)) throw new UsageError('tokenize needs exactly one of --text or --input');
      const model = loadModelText(await ensureModel(flags.model));
      const out = new LineWriter();
      try {
        if (flags.text !== undefined) out.write(formatLine(model, flags.text, flags.maxLength));
        else for await (const text of readTexts(flags.input!)) out.write(formatLine(model, text, flags.maxLength));
      } finally {
        // Lines before a bad input line are still printed, then the error.
        await out.close();
      }
    });
}

function formatLine(model: ModelText, text: string, maxLength: number | undefined): string {
  const e = encodeForModel(model, text, maxLength);
  return `${JSON.stringify({ ids: e.ids, tokens: e.tokens })}\n`;
}

async function* readTexts(path: string): AsyncGenerator<string> {
  for await (const { text: line, lineNo } of readLines(path)) {
    if (line.trim() === '') continue;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (e) {
      throw new InputError(path, lineNo, `not valid JSON (${(e as Error).message})`);
    }
    if (!record || typeof record !== 'object' || Array.isArray(record)) throw new InputError(path, lineNo, 'expected a JSON object with a "text" field');
    const text = (record as { text?: unknown }).text;
    if (typeof text !== 'string') throw new InputError(path, lineNo, `field "text" must be a string, got ${text === undefined ? 'nothing' : typeof text}`);
    yield text;
  }
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
