/**
 * A minimal read-only zip reader over a file descriptor, enough for PyTorch's zip checkpoints: central directory,
 * zip64 sizes and offsets, stored and deflated entries. Entries are read on demand with positioned reads, so the
 * archive is never loaded whole. Hand-written because the maintained npm readers are either async-only (yauzl) or
 * read the whole archive into memory (adm-zip).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { crc32, inflateRawSync } from 'node:zlib';
import { InputError } from '../errors.js';

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  uncompressedSize: number;
  crc32: number;
  localHeaderOffset: number;
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;

export class ZipReader {
  private readonly fd: number;
  private readonly size: number;
  readonly entries: Map<string, ZipEntry>;

  private constructor(readonly path: string) {
    try {
      this.fd = openSync(path, 'r');
    } catch (e) {
      throw new InputError(path, undefined, `cannot open: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    try {
      this.size = fstatSync(this.fd).size;
      this.entries = this.readCentralDirectory();
    } catch (e) {
      closeSync(this.fd);
      throw e;
    }
  }

  static open(path: string): ZipReader {
    return new ZipReader(path);
  }

  close(): void {
    closeSync(this.fd);
  }

  /**
   * The entry's uncompressed bytes, checked against its CRC-32. A stored entry lands in `into` when that holds
   * it (the result is then a view of `into`); otherwise, and for deflated entries, in fresh memory.
   */
  read(name: string, into?: Uint8Array): Uint8Array {
    const { e, dataStart } = this.locate(name);
    const raw = this.readAt(dataStart, e.compressedSize, `entry '${name}'`, e.method === 0 ? into : undefined);
    let data: Uint8Array;
    if (e.method === 0) {
      data = raw;
    } else if (e.method === 8) {
      try {
        // Capped at the size the directory promises: a deflate bomb stops there instead of filling memory.
        data = inflateRawSync(raw, { maxOutputLength: Math.max(1, e.uncompressedSize) });
      } catch (err) {
        throw this.error(`entry '${name}': corrupt deflate data (${(err as Error).message})`);
      }
    } else {
      throw this.error(`entry '${name}': unsupported compression method ${e.method} (only stored and deflate)`);
    }
    if (data.byteLength !== e.uncompressedSize) {
      throw this.error(`entry '${name}': ${data.byteLength} bytes after decompression, the directory says ${e.uncompressedSize}`);
    }
    if (crc32(data) !== e.crc32) throw this.error(`entry '${name}': CRC-32 mismatch (corrupt archive)`);
    return data;
  }

  /** True when the entry is stored uncompressed, so stream() can read it. */
  isStored(name: string): boolean {
    return this.entries.get(name)?.method === 0;
  }

  /**
   * A stored entry's bytes, a buffer-full at a time, to `sink` (offset within the entry). The CRC-32 covers the
   * whole entry, so it is checked after the last piece: a corrupt entry throws then, and the caller discards what
   * it built.
   */
  stream(name: string, buffer: Uint8Array, sink: (piece: Uint8Array, offset: number) => void): void {
    const { e, dataStart } = this.locate(name);
    if (e.method !== 0) throw this.error(`entry '${name}': only stored entries stream`);
    let crc = 0;
    for (let off = 0; off < e.uncompressedSize; off += buffer.byteLength) {
      const piece = this.readAt(dataStart + off, Math.min(buffer.byteLength, e.uncompressedSize - off), `entry '${name}'`, buffer);
      crc = crc32(piece, crc);
      sink(piece, off);
    }
    if (crc !== e.crc32) throw this.error(`entry '${name}': CRC-32 mismatch (corrupt archive)`);
  }

  private locate(name: string): { e: ZipEntry; dataStart: number } {
    const e = this.entries.get(name);
    if (!e) throw this.error(`no entry '${name}' in the archive`);
    const local = this.readAt(e.localHeaderOffset, 30, `local header of '${name}'`);
    if (local.readUInt32LE(0) !== LOCAL_SIG) throw this.error(`entry '${name}': bad local header signature at offset ${e.localHeaderOffset}`);
    return { e, dataStart: e.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28) };
  }

  private error(problem: string): InputError {
    return new InputError(this.path, undefined, problem);
  }

  private readAt(position: number, length: number, what: string, into?: Uint8Array): Buffer {
    if (position + length > this.size) {
      throw this.error(`${what} (bytes ${position}..${position + length}) lies beyond the end of the ${this.size}-byte file (truncated?)`);
    }
    const buf = into && into.byteLength >= length ? Buffer.from(into.buffer, into.byteOffset, length) : Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, buf, done, length - done, position + done);
      if (n === 0) throw this.error(`file ended while reading ${what} (truncated?)`);
      done += n;
    }
    return buf;
  }

  private readCentralDirectory(): Map<string, ZipEntry> {
    // The end-of-central-directory record is 22 bytes plus a comment of at most 65535 bytes.
    const tailLen = Math.min(this.size, 22 + 0xffff);
    const tailStart = this.size - tailLen;
    const tail = this.readAt(tailStart, tailLen, 'end of archive');
    let eocd = -1;
    for (let i = tailLen - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD_SIG) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw this.error('not a zip archive, or truncated (no end-of-central-directory record)');
    let count = tail.readUInt16LE(eocd + 10);
    let cdSize = tail.readUInt32LE(eocd + 12);
    let cdOffset = tail.readUInt32LE(eocd + 16);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      const locAt = tailStart + eocd - 20;
      const loc = this.readAt(locAt, 20, 'zip64 locator');
      if (loc.readUInt32LE(0) !== ZIP64_LOCATOR_SIG) throw this.error('zip64 fields present but no zip64 locator');
      const z = this.readAt(toSafe(loc.readBigUInt64LE(8), this), 56, 'zip64 end record');
      if (z.readUInt32LE(0) !== ZIP64_EOCD_SIG) throw this.error('bad zip64 end-of-central-directory signature');
      count = toSafe(z.readBigUInt64LE(32), this);
      cdSize = toSafe(z.readBigUInt64LE(40), this);
      cdOffset = toSafe(z.readBigUInt64LE(48), this);
    }
    const cd = this.readAt(cdOffset, cdSize, 'central directory');
    const entries = new Map<string, ZipEntry>();
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + 46 > cd.byteLength || cd.readUInt32LE(p) !== CENTRAL_SIG) throw this.error(`central directory entry ${i} is malformed`);
      const method = cd.readUInt16LE(p + 10);
      const crc32 = cd.readUInt32LE(p + 16);
      let compressedSize = cd.readUInt32LE(p + 20);
      let uncompressedSize = cd.readUInt32LE(p + 24);
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      let localHeaderOffset = cd.readUInt32LE(p + 42);
      if (p + 46 + nameLen + extraLen + commentLen > cd.byteLength) throw this.error(`central directory entry ${i} runs past the directory's end`);
      const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
      // Zip64 extended information: only the fields saturated in the fixed record are present, in this order.
      let x = p + 46 + nameLen;
      const extraEnd = x + extraLen;
      while (x + 4 <= extraEnd) {
        const id = cd.readUInt16LE(x);
        const len = cd.readUInt16LE(x + 2);
        if (x + 4 + len > extraEnd) throw this.error(`central directory entry ${i}: extra field runs past its record`);
        if (id === 0x0001) {
          let q = x + 4;
          const need = 8 * [uncompressedSize, compressedSize, localHeaderOffset].filter((v) => v === 0xffffffff).length;
          if (need > len) throw this.error(`central directory entry ${i}: zip64 field holds ${len} bytes, ${need} needed`);
          if (uncompressedSize === 0xffffffff) (uncompressedSize = toSafe(cd.readBigUInt64LE(q), this)), (q += 8);
          if (compressedSize === 0xffffffff) (compressedSize = toSafe(cd.readBigUInt64LE(q), this)), (q += 8);
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = toSafe(cd.readBigUInt64LE(q), this);
        }
        x += 4 + len;
      }
      entries.set(name, { name, method, compressedSize, uncompressedSize, crc32, localHeaderOffset });
      p = extraEnd + commentLen;
    }
    return entries;
  }
}

function toSafe(v: bigint, zip: { path: string }): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new InputError(zip.path, undefined, `zip64 value ${v} is out of range`);
  return Number(v);
}

/** True when the file starts with a zip local-file-header signature. */
export function looksLikeZip(head: Uint8Array): boolean {
  return head.byteLength >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
}
