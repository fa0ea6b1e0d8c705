/**
 * Checks a usearch graph file against index.json before usearch sees it. usearch trusts the sizes in a
 * file's header (a false row count sends its `view` past the end of the mapping: a segfault, nothing
 * printed), so every size, count and slot it will follow is checked here first. Hand-written because no
 * library validates usearch's format; the layout (usearch 2.x, `index_dense_gt::save` with 32-bit matrix
 * dimensions, f32 vectors, u64 keys, u32 slots) is:
 *
 *   u32 rows, u32 bytes-per-row, rows x bytes-per-row vector bytes
 *   64-byte head: "usearch", u16 major/minor/patch, u8 metric/scalar/key/slot kinds,
 *                 u64 count_present, u64 count_deleted, u64 dimensions, u8 multi
 *   graph header: u64 size, connectivity, connectivity_base, max_level, entry_slot
 *   i16 level per node, then per node: u64 key, i16 level, then for each level 0..level
 *                 u32 neighbour count + capacity x u32 slots (capacity connectivity_base at level 0)
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { InputError } from '../errors.js';

const MAGIC = 'usearch';
const HEAD_BYTES = 64;
const GRAPH_HEADER_BYTES = 40;
const METRIC_IP = 'i'.charCodeAt(0);
const SCALAR_F32 = 11;
const KEY_U64 = 14;
const SLOT_U32 = 15;
/** usearch draws levels geometrically (1/ln M); even 2^32 nodes stay far below this. */
const MAX_LEVEL = 64;

export interface GraphExpectation {
  count: number;
  dim: number;
  M: number;
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let off = 0;
  while (off < length) {
    const n = readSync(fd, buf, off, length - off, position + off);
    if (n === 0) break;
    off += n;
  }
  return buf.subarray(0, off);
}

/** Throws an InputError naming the first thing in the file that disagrees with `want` or with itself. */
export function checkGraphFile(path: string, want: GraphExpectation): void {
  const bad = (problem: string): never => {
    throw new InputError(path, undefined, `${problem}; the graph is corrupt or belongs to another index (rebuild it with \`densekit index --type hnsw\`)`);
  };
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new InputError(path, undefined, `cannot open the HNSW graph (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const size = fstatSync(fd).size;
    const dims = readAt(fd, 0, 8);
    if (dims.length < 8) bad(`${size} bytes, too short for a usearch file`);
    const rows = dims.readUInt32LE(0);
    const rowBytes = dims.readUInt32LE(4);
    if (rows !== want.count || rowBytes !== want.dim * 4) bad(`header says ${rows} vectors of ${rowBytes} bytes, index.json says ${want.count} of ${want.dim * 4}`);
    const headAt = 8 + rows * rowBytes;
    const head = readAt(fd, headAt, HEAD_BYTES + GRAPH_HEADER_BYTES);
    if (head.length < HEAD_BYTES + GRAPH_HEADER_BYTES) bad(`${size} bytes, too short for ${rows} vectors and the graph header`);
    if (head.toString('latin1', 0, MAGIC.length) !== MAGIC) bad('no usearch header after the vectors');
    if (head.readUInt16LE(7) !== 2) bad(`usearch format version ${head.readUInt16LE(7)}, expected 2`);
    if (head[13] !== METRIC_IP || head[14] !== SCALAR_F32 || head[15] !== KEY_U64 || head[16] !== SLOT_U32)
      bad('metric, scalar, key or slot kind differs from the inner-product f32 graphs densekit builds');
    const present = Number(head.readBigUInt64LE(17));
    const deleted = Number(head.readBigUInt64LE(25));
    const dimensions = Number(head.readBigUInt64LE(33));
    if (present !== want.count || deleted !== 0 || dimensions !== want.dim || head[41] !== 0)
      bad(`head says ${present} vectors (${deleted} deleted) of dimension ${dimensions}, index.json says ${want.count} of ${want.dim}`);
    const g = HEAD_BYTES;
    const nodes = Number(head.readBigUInt64LE(g));
    const connectivity = Number(head.readBigUInt64LE(g + 8));
    const connectivityBase = Number(head.readBigUInt64LE(g + 16));
    const maxLevel = Number(head.readBigUInt64LE(g + 24));
    const entry = Number(head.readBigUInt64LE(g + 32));
    if (nodes !== want.count) bad(`graph holds ${nodes} nodes, index.json says ${want.count}`);
    if (connectivity !== want.M || connectivityBase < connectivity || connectivityBase > 4 * connectivity)
      bad(`graph degree ${connectivity}/${connectivityBase}, index.json says M ${want.M}`);
    const graphAt = headAt + HEAD_BYTES + GRAPH_HEADER_BYTES;
    if (nodes === 0) {
      if (size !== graphAt) bad(`${size} bytes, expected ${graphAt} for an empty graph`);
      return;
    }
    if (maxLevel > MAX_LEVEL || entry >= nodes) bad(`max level ${maxLevel} or entry slot ${entry} out of range`);
    const baseBytes = 4 + 4 * connectivityBase;
    const levelBytes = 4 + 4 * connectivity;
    const rest = size - graphAt;
    if (rest < nodes * 2) bad(`${size} bytes, too short for ${nodes} node levels`);
    // The graph part (levels and neighbour lists) is small next to the vectors: read it whole.
    const buf = readAt(fd, graphAt, rest);
    const levels = new Int16Array(nodes);
    let expected = nodes * 2;
    let top = 0;
    for (let i = 0; i < nodes; i++) {
      const level = buf.readInt16LE(i * 2);
      if (level < 0 || level > maxLevel) bad(`node ${i} has level ${level}, outside 0..${maxLevel}`);
      levels[i] = level;
      top = Math.max(top, level);
      expected += 10 + baseBytes + level * levelBytes;
    }
    if (top !== maxLevel || levels[entry] !== maxLevel) bad(`max level ${maxLevel} disagrees with the node levels`);
    if (expected !== rest) bad(`${size} bytes, expected ${graphAt + expected} for ${nodes} nodes`);
    const seen = new Uint8Array(nodes);
    let at = nodes * 2;
    for (let i = 0; i < nodes; i++) {
      const key = buf.readBigUInt64LE(at);
      if (key >= BigInt(nodes) || seen[Number(key)]) bad(`node ${i} has key ${key}: not a distinct row number below ${nodes}`);
      seen[Number(key)] = 1;
      if (buf.readInt16LE(at + 8) !== levels[i]) bad(`node ${i} level disagrees with the level table`);
      at += 10;
      for (let l = 0; l <= levels[i]!; l++) {
        const capacity = l === 0 ? connectivityBase : connectivity;
        const count = buf.readUInt32LE(at);
        if (count > capacity) bad(`node ${i} lists ${count} neighbours at level ${l}, at most ${capacity} fit`);
        for (let c = 0; c < count; c++) {
          const slot = buf.readUInt32LE(at + 4 + 4 * c);
          if (slot >= nodes) bad(`node ${i} links to slot ${slot}, beyond ${nodes} nodes`);
        }
        at += 4 + 4 * capacity;
      }
    }
  } finally {
    closeSync(fd);
  }
}
