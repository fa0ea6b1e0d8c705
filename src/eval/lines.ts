/**
 * Streams a text file as lines with 1-based numbers. Decoding is strict UTF-8 so a bad byte is reported with
 * its line instead of silently turning into U+FFFD; files of any size are read without loading them whole.
 */
import { createReadStream } from 'node:fs';
import { InputError } from '../errors.js';

export interface NumberedLine {
  text: string;
  lineNo: number;
}

export async function* readNumberedLines(path: string): AsyncGenerator<NumberedLine> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let lineNo = 0;
  let pending: Buffer = Buffer.alloc(0);
  const decode = (bytes: Buffer): string => {
    try {
      return decoder.decode(bytes);
    } catch {
      throw new InputError(path, lineNo, 'not valid UTF-8');
    }
  };
  try {
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
      const buf = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let start = 0;
      for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
        lineNo++;
        const end = nl > start && buf[nl - 1] === 13 ? nl - 1 : nl;
        yield { text: decode(buf.subarray(start, end)), lineNo };
        start = nl + 1;
      }
      pending = Buffer.from(buf.subarray(start));
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError(path, undefined, 'no such file');
    if (code === 'EISDIR') throw new InputError(path, undefined, 'is a directory, expected a file');
    throw e;
  }
  if (pending.length) {
    lineNo++;
    yield { text: decode(pending[pending.length - 1] === 13 ? pending.subarray(0, -1) : pending), lineNo };
  }
}
