/**
 * A restricted Python unpickler. Pickle is a program for a stack machine, and a malicious one can call any Python
 * callable; this interpreter only knows plain data (None, bools, ints, floats, str, bytes, tuples, lists, dicts)
 * and calls nothing by itself: every GLOBAL/STACK_GLOBAL is resolved by the caller's `findClass`, which must allow
 * an explicit short list, and every REDUCE goes to the caller's `reduce`. Anything else is rejected with an error.
 * It implements the opcodes `pickle` emits at protocols 2-5 for such data (torch.save uses protocol 2).
 *
 * Python values map to: None -> null, bool -> boolean, int -> number (bigint beyond 2^53), float -> number,
 * str -> string, bytes -> Uint8Array, list -> array, tuple -> frozen array, dict -> Map.
 */
import { InputError } from '../errors.js';

/** A resolved global (class or function) that the caller allowed. */
export class PyGlobal {
  constructor(readonly module: string, readonly name: string) {}
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

export interface UnpicklerHooks {
  /** Return a PyGlobal for allowed globals; throw (or return undefined) otherwise. */
  findClass(module: string, name: string): PyGlobal | undefined;
  /** `callable(*args)` for an allowed global. */
  reduce(callable: PyGlobal, args: readonly unknown[]): unknown;
  /** Resolves a persistent id (BINPERSID). */
  persistentLoad?(pid: unknown): unknown;
  /** `obj.__setstate__(state)` / BUILD; default: reject. */
  build?(obj: unknown, state: unknown): unknown;
}

const MARK = Symbol('mark');

export interface UnpickleResult {
  value: unknown;
  /** Offset just past the STOP opcode (legacy torch files hold several pickles back to back). */
  end: number;
}

/** Runs one pickle starting at `start`; `file` names the source in errors. */
export function unpickle(bytes: Uint8Array, hooks: UnpicklerHooks, file: string, start = 0): UnpickleResult {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let pos = start;

  const fail = (problem: string): never => {
    throw new InputError(file, undefined, `pickle at byte ${pos}: ${problem}`);
  };
  const need = (n: number): void => {
    if (pos + n > buf.byteLength) fail(`data ends inside an opcode argument (truncated)`);
  };
  const u8 = (): number => (need(1), buf[pos++]!);
  const u16 = (): number => (need(2), (pos += 2), buf.readUInt16LE(pos - 2));
  const u32 = (): number => (need(4), (pos += 4), buf.readUInt32LE(pos - 4));
  const i32 = (): number => (need(4), (pos += 4), buf.readInt32LE(pos - 4));
  const u64 = (): number => {
    need(8);
    const v = buf.readBigUInt64LE(pos);
    pos += 8;
    if (v > BigInt(buf.byteLength)) fail(`length ${v} exceeds the data`);
    return Number(v);
  };
  const bytesN = (n: number): Buffer => (need(n), (pos += n), buf.subarray(pos - n, pos));
  const line = (): string => {
    const nl = buf.indexOf(0x0a, pos);
    if (nl < 0) fail('unterminated text argument');
    const s = buf.toString('utf8', pos, nl);
    pos = nl + 1;
    return s;
  };
  const pop = (): unknown => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1]!)) fail('stack underflow');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) fail('no MARK on the stack');
    return stack.splice(m!);
  };
  const resolve = (module: string, name: string): PyGlobal => {
    const g = hooks.findClass(module, name);
    if (!g) fail(`refusing to load global ${module}.${name} (not on the allowed list)`);
    return g!;
  };
  const decodeUtf8 = (b: Buffer): string => {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(b);
    } catch {
      return fail('invalid UTF-8 in a str');
    }
  };
  const setItems = (target: unknown, items: unknown[]): void => {
    if (!(target instanceof Map)) fail('SETITEM(S) on something that is not a dict');
    if (items.length % 2 !== 0) fail('SETITEMS with an odd number of items');
    for (let i = 0; i < items.length; i += 2) (target as Map<unknown, unknown>).set(items[i], items[i + 1]);
  };
  const appendItems = (target: unknown, items: unknown[]): void => {
    if (!Array.isArray(target) || Object.isFrozen(target)) fail('APPEND(S) on something that is not a list');
    (target as unknown[]).push(...items);
  };
  const tuple = (items: unknown[]): readonly unknown[] => Object.freeze(items);

  for (;;) {
    const opPos = pos;
    if (pos >= buf.byteLength) fail('data ends before the STOP opcode (truncated)');
    const op = buf[pos++]!;
    switch (op) {
      case 0x80: { // PROTO
        const v = u8();
        if (v > 5) fail(`unsupported pickle protocol ${v}`);
        break;
      }
      case 0x95: // FRAME (protocol 4): a length prefix we can ignore, the data is already in memory
        u64();
        break;
      case 0x2e: { // STOP
        const value = pop();
        return { value, end: pos };
      }
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4a: stack.push(i32()); break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: { // LONG1
        const n = u8();
        stack.push(decodeLong(bytesN(n)));
        break;
      }
      case 0x8b: { // LONG4
        const n = u32();
        stack.push(decodeLong(bytesN(n)));
        break;
      }
      case 0x47: { // BINFLOAT: big-endian double
        need(8);
        stack.push(buf.readDoubleBE(pos));
        pos += 8;
        break;
      }
      case 0x58: stack.push(decodeUtf8(bytesN(u32()))); break; // BINUNICODE
      case 0x8c: stack.push(decodeUtf8(bytesN(u8()))); break; // SHORT_BINUNICODE
      case 0x8d: stack.push(decodeUtf8(bytesN(u64()))); break; // BINUNICODE8
      case 0x42: stack.push(new Uint8Array(bytesN(u32()))); break; // BINBYTES
      case 0x43: stack.push(new Uint8Array(bytesN(u8()))); break; // SHORT_BINBYTES
      case 0x8e: stack.push(new Uint8Array(bytesN(u64()))); break; // BINBYTES8
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push(tuple([])); break; // EMPTY_TUPLE
      case 0x74: stack.push(tuple(popMark())); break; // TUPLE
      case 0x85: stack.push(tuple([pop()])); break; // TUPLE1
      case 0x86: { // TUPLE2
        const b = pop();
        const a = pop();
        stack.push(tuple([a, b]));
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(tuple([a, b, c]));
        break;
      }
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x64: { // DICT
        const m = new Map();
        setItems(m, popMark());
        stack.push(m);
        break;
      }
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: case 0x6a: { // BINGET, LONG_BINGET
        const idx = op === 0x68 ? u8() : u32();
        if (!memo.has(idx)) fail(`memo key ${idx} was never stored`);
        stack.push(memo.get(idx));
        break;
      }
      case 0x73: { // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x61: { // APPEND
        const v = pop();
        appendItems(top(), [v]);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x63: { // GLOBAL "module\nname\n"
        const module = line();
        const name = line();
        stack.push(resolve(module, name));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(resolve(module as string, name as string));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        const callable = pop();
        if (!(callable instanceof PyGlobal)) fail('REDUCE on something that is not an allowed global');
        if (!Array.isArray(args)) fail('REDUCE arguments are not a tuple');
        stack.push(hooks.reduce(callable as PyGlobal, args as unknown[]));
        break;
      }
      case 0x62: { // BUILD
        const state = pop();
        const obj = pop();
        if (!hooks.build) fail('BUILD (object state) is not allowed here');
        stack.push(hooks.build!(obj, state));
        break;
      }
      case 0x51: { // BINPERSID
        const pid = pop();
        if (!hooks.persistentLoad) fail('persistent ids are not allowed here');
        stack.push(hooks.persistentLoad!(pid));
        break;
      }
      case 0x30: pop(); break; // POP
      case 0x32: stack.push(top()); break; // DUP
      case 0x31: popMark(); break; // POP_MARK
      default:
        pos = opPos;
        fail(`opcode 0x${op.toString(16).padStart(2, '0')} is not supported by this restricted unpickler`);
    }
  }
}

/** Two's-complement little-endian integer of any length, as Python's LONG1/LONG4. */
function decodeLong(b: Buffer): number | bigint {
  if (b.byteLength === 0) return 0;
  let v = 0n;
  for (let i = b.byteLength - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  if (b[b.byteLength - 1]! & 0x80) v -= 1n << BigInt(8 * b.byteLength);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}
