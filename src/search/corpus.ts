/**
 * BEIR corpus reader: corpus.jsonl, one JSON object per line with `_id` and `text` (and optional `title`).
 * Streams line by line so collections larger than memory-friendly strings still load; every malformed
 * line is one InputError naming file and line.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { InputError } from '../errors.js';

export interface CorpusDoc {
  id: string;
  title: string;
  text: string;
  line: number;
}

export async function* readCorpus(path: string): AsyncGenerator<CorpusDoc> {
  const rl = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let line = 0;
  for await (const raw of rl) {
    line++;
    if (raw.trim() === '') continue;
    let o: unknown;
    try {
      o = JSON.parse(raw);
    } catch (e) {
      throw new InputError(path, line, `not valid JSON (${(e as Error).message})`);
    }
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new InputError(path, line, 'expected a JSON object with "_id" and "text"');
    const rec = o as Record<string, unknown>;
    const id = rec._id;
    if (typeof id !== 'string' && typeof id !== 'number') throw new InputError(path, line, 'missing "_id" (expected a string)');
    if (typeof rec.text !== 'string') throw new InputError(path, line, 'missing "text" (expected a string)');
    if (rec.title !== undefined && rec.title !== null && typeof rec.title !== 'string') throw new InputError(path, line, '"title" must be a string');
    const idText = String(id);
    if (idText === '' || /\s/.test(idText)) throw new InputError(path, line, `"_id" ${JSON.stringify(idText)} is empty or contains whitespace (run files cannot hold it)`);
    yield { id: idText, title: typeof rec.title === 'string' ? rec.title : '', text: rec.text, line };
  }
}
