/**
 * Streams a text file line by line with 1-based line numbers, decoding strictly as UTF-8 so that a bad byte
 * is reported with its line instead of silently becoming U+FFFD (as readline would do).
 */
import { createReadStream } from 'node:fs';
import { InputError } from '../errors.js';

export interface Line {
  text: string;
  lineNo: number;
}

export async function* readLines(path: string): AsyncGenerator<Line> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let pending: Buffer = Buffer.alloc(0);
  let lineNo = 0;
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
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new InputError(path, undefined, 'no such file');
    if ((e as NodeJS.ErrnoException).code === 'EISDIR') throw new InputError(path, undefined, 'is a directory, expected a file');
    throw e;
  }
  if (pending.length) {
    lineNo++;
    yield { text: decode(pending[pending.length - 1] === 13 ? pending.subarray(0, -1) : pending), lineNo };
  }
}
