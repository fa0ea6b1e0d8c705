/**
 * id -> text maps for queries and passages: MS MARCO `id<TAB>text` TSV files and BEIR `corpus.jsonl` /
 * `queries.jsonl`. With `needed`, only those ids are kept, so a training run over a sample of MS MARCO does
 * not hold all 8.8M passages.
 */
import { InputError } from '../../errors.js';
import { readLines } from './lines.js';

export interface LoadTextsOptions {
  /** Keep only these ids (the rest are streamed past). */
  needed?: ReadonlySet<string>;
}

/** `id<TAB>text` per line (collection.tsv, queries.tsv). A line without a tab is an error; a repeated id too. */
export async function loadTsvTexts(file: string, options: LoadTextsOptions = {}): Promise<Map<string, string>> {
  const texts = new Map<string, string>();
  for await (const { text, lineNo } of readLines(file)) {
    if (text === '') continue;
    const tab = text.indexOf('\t');
    if (tab <= 0) throw new InputError(file, lineNo, 'expected "id<TAB>text"');
    const id = text.slice(0, tab);
    if (options.needed && !options.needed.has(id)) continue;
    if (texts.has(id)) throw new InputError(file, lineNo, `duplicate id ${JSON.stringify(id)}`);
    // Only the first two columns: MS MARCO's collection has none beyond, but some derived files append fields.
    const rest = text.slice(tab + 1);
    const nextTab = rest.indexOf('\t');
    texts.set(id, (nextTab >= 0 ? rest.slice(0, nextTab) : rest).trimEnd());
  }
  return texts;
}

/**
 * BEIR JSON lines (`{"_id", "title"?, "text"}`). A passage's text is `title + " " + text` when it has a
 * title, the concatenation sentence-transformers' BEIR evaluation uses.
 */
export async function loadJsonlTexts(file: string, options: LoadTextsOptions = {}): Promise<Map<string, string>> {
  const texts = new Map<string, string>();
  for await (const { text, lineNo } of readLines(file)) {
    if (text.trim() === '') continue;
    let row: unknown;
    try {
      row = JSON.parse(text);
    } catch {
      throw new InputError(file, lineNo, 'expected one JSON object per line');
    }
    if (typeof row !== 'object' || row === null) throw new InputError(file, lineNo, 'expected a JSON object');
    const { _id: id, title, text: body } = row as Record<string, unknown>;
    if (typeof id !== 'string' && typeof id !== 'number') throw new InputError(file, lineNo, '_id: expected a string');
    if (typeof body !== 'string') throw new InputError(file, lineNo, 'text: expected a string');
    const key = String(id);
    if (options.needed && !options.needed.has(key)) continue;
    if (texts.has(key)) throw new InputError(file, lineNo, `duplicate _id ${JSON.stringify(key)}`);
    texts.set(key, typeof title === 'string' && title !== '' ? `${title} ${body}` : body);
  }
  return texts;
}

/** Pick the reader by extension: `.jsonl` is BEIR, anything else `id<TAB>text`. */
export function loadTexts(file: string, options: LoadTextsOptions = {}): Promise<Map<string, string>> {
  return file.endsWith('.jsonl') ? loadJsonlTexts(file, options) : loadTsvTexts(file, options);
}
