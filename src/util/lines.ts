/**
 * Streams a text file line by line with 1-based line numbers, decoding strictly as UTF-8 so that a bad byte
 * is reported with its line instead of silently becoming U+FFFD (as readline would do).
 *
 * The one BOM rule of every densekit reader: a UTF-8 byte order mark at the very start of the file is accepted
 * and dropped; anywhere else U+FEFF is text. (The decoder keeps BOMs, ignoreBOM, because each line is decoded
 * on its own and would otherwise lose a U+FEFF that starts any line.)
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { DensekitError, InputError } from '../errors.js';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

export interface Line {
  text: string;
  lineNo: number;
}

export async function* readLines(path: string): AsyncGenerator<Line> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let pending: Buffer = Buffer.alloc(0);
  let lineNo = 0;
  let atStart = true;
  const decode = (bytes: Buffer): string => {
    try {
      return decoder.decode(bytes);
    } catch {
      throw new InputError(path, lineNo, 'not valid UTF-8');
    }
  };
  let stream;
  try {
    stream = createReadStream(path);
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let buf = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let start = 0;
      if (atStart) {
        // A first chunk shorter than a BOM (a tiny file or stream) waits for more bytes; a partial BOM left
        // at the end of the file is then decoded, and refused, as the invalid UTF-8 it is.
        if (buf.length < BOM.length && BOM.subarray(0, buf.length).equals(buf)) {
          pending = Buffer.from(buf);
          continue;
        }
        atStart = false;
        if (buf.subarray(0, BOM.length).equals(BOM)) start = BOM.length;
      }
      for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
        lineNo++;
        const end = nl > start && buf[nl - 1] === 13 ? nl - 1 : nl;
        yield { text: decode(buf.subarray(start, end)), lineNo };
        start = nl + 1;
      }
      pending = Buffer.from(buf.subarray(start));
      buf = pending;
    }
  } catch (e) {
    throw openError(e, path);
  }
  if (pending.length) {
    lineNo++;
    yield { text: decode(pending[pending.length - 1] === 13 ? pending.subarray(0, -1) : pending), lineNo };
  }
}

/** A whole (small) text file under the same rules: strict UTF-8 with the line of a bad byte, a leading BOM dropped. */
export function readTextFileSync(path: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw openError(e, path);
  }
  const body = bytes.subarray(0, BOM.length).equals(BOM) ? bytes.subarray(BOM.length) : bytes;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    // Find the line of the first bad byte (the decoder does not say where it stopped).
    let line = 1;
    let start = 0;
    for (let nl = body.indexOf(10); ; nl = body.indexOf(10, start)) {
      const end = nl === -1 ? body.length : nl;
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(body.subarray(start, end));
      } catch {
        break;
      }
      if (nl === -1) break;
      line++;
      start = nl + 1;
    }
    throw new InputError(path, line, 'not valid UTF-8');
  }
}

/** A whole JSON file under the same rules; malformed JSON is one InputError naming the file. */
export function readJsonFileSync(path: string): unknown {
  const text = readTextFileSync(path);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputError(path, undefined, `not valid JSON: ${(e as Error).message}`);
  }
}

/**
 * A densekit folder's JSON descriptor (manifest.json, index.json): a JSON object whose "format" is `format`.
 * `missing` says what the folder should have been made with.
 */
export function readDescriptorSync(path: string, format: string, missing: string): Record<string, unknown> {
  if (!existsSync(path)) throw new InputError(path, undefined, `missing: ${missing}`);
  const v = readJsonFileSync(path);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InputError(path, undefined, 'expected a JSON object');
  const found = (v as Record<string, unknown>).format;
  if (found !== format) throw new InputError(path, undefined, `format is ${JSON.stringify(found)}, expected "${format}"`);
  return v as Record<string, unknown>;
}

/** The one-line error for a file that cannot be opened or read (errno); a densekit error passes through, anything else keeps its stack. */
function openError(e: unknown, path: string): unknown {
  if (e instanceof DensekitError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new InputError(path, undefined, 'no such file');
  if (code === 'EISDIR') return new InputError(path, undefined, 'is a directory, expected a file');
  if (typeof code === 'string') return new InputError(path, undefined, `cannot read (${code})`);
  return e;
}
