/**
 * Just enough of the protobuf wire format to read SentencePiece's ModelProto: varints, fixed32 floats and
 * length-delimited fields. Unknown fields are skipped, as protobuf requires, so newer model files still load.
 */

export const enum WireType {
  Varint = 0,
  Fixed64 = 1,
  LengthDelimited = 2,
  Fixed32 = 5,
}

export interface Field {
  number: number;
  wireType: WireType;
  /** Varint value (as a number: all fields we read fit in 53 bits) or the fixed32/fixed64 payload offset. */
  varint: number;
  /** Payload bytes for length-delimited and fixed-width fields. */
  bytes: Uint8Array;
}

export class ProtobufError extends Error {}

/** Iterates the fields of one message. Throws ProtobufError on truncated or malformed input. */
export function* readFields(buf: Uint8Array): Generator<Field> {
  let pos = 0;
  const readVarint = (): number => {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= buf.length) throw new ProtobufError('truncated varint');
      const b = buf[pos++]!;
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new ProtobufError('varint longer than 10 bytes');
  };
  while (pos < buf.length) {
    const key = readVarint();
    const number = Math.floor(key / 8);
    const wireType = (key & 7) as WireType;
    if (number === 0) throw new ProtobufError('field number 0');
    switch (wireType) {
      case WireType.Varint:
        yield { number, wireType, varint: readVarint(), bytes: EMPTY };
        break;
      case WireType.Fixed64:
        if (pos + 8 > buf.length) throw new ProtobufError('truncated fixed64');
        yield { number, wireType, varint: 0, bytes: buf.subarray(pos, pos + 8) };
        pos += 8;
        break;
      case WireType.LengthDelimited: {
        const len = readVarint();
        if (pos + len > buf.length) throw new ProtobufError('truncated length-delimited field');
        yield { number, wireType, varint: 0, bytes: buf.subarray(pos, pos + len) };
        pos += len;
        break;
      }
      case WireType.Fixed32:
        if (pos + 4 > buf.length) throw new ProtobufError('truncated fixed32');
        yield { number, wireType, varint: 0, bytes: buf.subarray(pos, pos + 4) };
        pos += 4;
        break;
      default:
        throw new ProtobufError(`unsupported wire type ${wireType as number}`);
    }
  }
}

const EMPTY = new Uint8Array(0);
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function fieldString(f: Field): string {
  return utf8.decode(f.bytes);
}

export function fieldFloat32(f: Field): number {
  return new DataView(f.bytes.buffer, f.bytes.byteOffset, 4).getFloat32(0, true);
}
