/**
 * A TensorBackend that records an ONNX graph (opset 17) instead of computing: each op appends nodes and returns a
 * handle on the new value, whose shape and dtype the recorder infers itself (no arithmetic on values happens).
 * The model definitions (src/models) run unchanged under withBackend(recorder, ...):
 *
 * - Parameters become initializers: `empty(shape)` + `copyFromHost_` (the streaming checkpoint loader) and
 *   `fromHost` / `tensor(...)` write their values into initializer buffers (fp32, or fp16 storage for matrices
 *   when asked: the graph then casts them to float32 where they are used, so computation stays float32).
 *   `empty` on the meta device gives a shape-only value (sizing a model), which no op may use.
 * - Dynamic axes: graph inputs are declared with symbolic dims ('batch', 'sequence'). shape() reports them as
 *   sentinel numbers, SYMBOLIC_BATCH and SYMBOLIC_SEQUENCE, huge negative integers no model dimension can equal.
 *   Negative so that upper-bound guards in model code (DistilBERT: length > max_position_embeddings) pass, as
 *   they would for any real length; the graph itself fails at run time (Gather out of range) for a too-long input.
 *   Wherever a shape list or scalar comes back in (view/reshape/expand/arange/zeros/full/slice/narrow), a sentinel
 *   becomes a Shape -> Gather value of the graph input, so the graph follows the actual input's dims. Any other
 *   number of magnitude >= 2^44 is arithmetic on a symbolic dim (l - 1, b * l): a clear error, never a wrong graph.
 * - Ops the recorder does not support throw `recorder: OP is not supported`; ops that need values (item, toBytes,
 *   autograd) are among them.
 */
import { BYTES_PER_ELEMENT, hostToFloat32 } from '../../io/host-tensor.js';
import type { Handle } from '../../tensor/native.js';
import type { TensorBackend } from '../../tensor/backend.js';
import { dtypeCode, dtypeFromCode, isFloatingDType, type DType, type NativeDType } from '../../tensor/dtype.js';
import { ATTR, ONNX_DTYPE } from './schema.js';

export const SYMBOLIC_BATCH = -(2 ** 45 + 12345);
export const SYMBOLIC_SEQUENCE = -(2 ** 46 + 54321);
const SYMBOL_NAMES = new Map<number, string>([[SYMBOLIC_BATCH, 'batch'], [SYMBOLIC_SEQUENCE, 'sequence']]);
const SYMBOLIC_LIMIT = 2 ** 44;
const INT64_MAX = 2n ** 63n - 1n;

type H = Handle;
type Dims = number | number[] | undefined;

export interface Attribute {
  name: string;
  type: number;
  i?: number;
  f?: number;
  ints?: number[];
  floats?: number[];
  t?: { dims: number[]; data_type: number; raw_data: Uint8Array };
}

export interface GraphNode {
  op: string;
  inputs: string[];
  outputs: string[];
  attributes: Attribute[];
}

export interface Initializer {
  name: string;
  dtype: DType;
  shape: number[];
  data: Uint8Array;
}

interface Value {
  name: string;
  shape: number[];
  dtype: DType;
  /** Shape-only (meta device): no op may read it. */
  meta?: boolean;
  /** The initializer whose bytes copyFromHost_ fills (for fp16 storage, value.name is the Cast's output). */
  init?: Initializer;
}

export interface RecorderOptions {
  /** Storage of floating initializers with 2+ dims (weight matrices, embedding tables); vectors stay float32. */
  matrixStorage?: 'float32' | 'float16';
  /** Told the bytes of each weight piece as it streams into an initializer (progress while a large model loads). */
  onWeightBytes?: (bytes: number) => void;
}

export interface GraphIO {
  name: string;
  dtype: DType;
  /** Numbers, or the symbolic dim names 'batch' / 'sequence'. */
  shape: (number | string)[];
}

function unsupported(op: string): never {
  throw new Error(`recorder: ${op} is not supported`);
}

function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function isSymbol(d: number): boolean {
  return SYMBOL_NAMES.has(d);
}

/** A dim as the graph will see it: checks that no arithmetic happened on a sentinel. */
function checkDim(d: number, op: string): number {
  if (!isSymbol(d) && Math.abs(d) >= SYMBOLIC_LIMIT)
    throw new Error(`recorder: ${op} got ${d}, arithmetic on a symbolic (batch or sequence) dimension, which the graph cannot follow`);
  return d;
}

function normAxis(d: number, rank: number, op: string): number {
  const a = d < 0 ? d + rank : d;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new Error(`recorder: ${op}: dim ${d} out of range for rank ${rank}`);
  return a;
}

function broadcast(a: readonly number[], b: readonly number[], op: string): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x === y || y === 1) out[i] = x;
    else if (x === 1) out[i] = y;
    else throw new Error(`recorder: ${op}: shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`);
  }
  return out;
}

/** torch's promotion for the mixes the models produce: a floating operand wins over an integral one. */
function promote(a: DType, b: DType, op: string): DType {
  if (a === b) return a;
  if (isFloatingDType(a) && !isFloatingDType(b)) return a;
  if (isFloatingDType(b) && !isFloatingDType(a)) return b;
  if (a === 'bool') return b;
  if (b === 'bool') return a;
  throw new Error(`recorder: ${op}: mixed dtypes ${a} and ${b} are not supported`);
}

const HALF_SCRATCH_F32 = new Float32Array(1);
const HALF_SCRATCH_U32 = new Uint32Array(HALF_SCRATCH_F32.buffer);

/** float32 -> IEEE half bits, round to nearest even (as PyTorch's .half()). */
export function floatToHalf(v: number): number {
  HALF_SCRATCH_F32[0] = v;
  const x = HALF_SCRATCH_U32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    const half = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rem > mid || (rem === mid && (half & 1)) ? 1 : 0));
  }
  const half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  return sign | (half + (rem > 0x1000 || (rem === 0x1000 && (half & 1)) ? 1 : 0));
}

/** Decodes little-endian host bytes of `dtype` to numbers (floats exactly as PyTorch widens them). */
function decode(bytes: Uint8Array, dtype: NativeDType): Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | Int8Array {
  const n = bytes.byteLength / BYTES_PER_ELEMENT[dtype];
  const copy = bytes.slice();
  switch (dtype) {
    case 'float32': case 'bfloat16': case 'float16':
      return hostToFloat32({ dtype, shape: [n], data: bytes });
    case 'float64': return new Float64Array(copy.buffer);
    case 'int64': return new BigInt64Array(copy.buffer);
    case 'int32': return new Int32Array(copy.buffer);
    case 'int16': return Int32Array.from(new Int16Array(copy.buffer));
    case 'int8': return new Int8Array(copy.buffer);
    case 'uint8': case 'bool': return copy;
  }
}

/** Writes `values` into `out` (storage `dtype`) from element `offset`, converting as PyTorch's copy_ does. */
function encodeInto(out: Uint8Array, dtype: DType, offset: number, values: ReturnType<typeof decode>): void {
  const n = values.length;
  const at = (size: number) => new DataView(out.buffer, out.byteOffset + offset * size, n * size);
  const num = (i: number) => Number(values[i]!);
  switch (dtype) {
    case 'float32': {
      const dv = at(4);
      for (let i = 0; i < n; i++) dv.setFloat32(4 * i, num(i), true);
      return;
    }
    case 'float16': {
      const dv = at(2);
      for (let i = 0; i < n; i++) dv.setUint16(2 * i, floatToHalf(num(i)), true);
      return;
    }
    case 'float64': {
      const dv = at(8);
      for (let i = 0; i < n; i++) dv.setFloat64(8 * i, num(i), true);
      return;
    }
    case 'int64': {
      const dv = at(8);
      for (let i = 0; i < n; i++) dv.setBigInt64(8 * i, typeof values[i] === 'bigint' ? (values[i] as bigint) : BigInt(Math.trunc(num(i))), true);
      return;
    }
    case 'int32': {
      const dv = at(4);
      for (let i = 0; i < n; i++) dv.setInt32(4 * i, Math.trunc(num(i)), true);
      return;
    }
    case 'int8': case 'uint8': case 'bool': {
      for (let i = 0; i < n; i++) out[offset + i] = dtype === 'bool' ? (num(i) !== 0 ? 1 : 0) : Math.trunc(num(i)) & 0xff;
      return;
    }
    case 'bfloat16':
      return unsupported('bfloat16 initializers');
  }
}

/** Host bytes into an initializer at element `offset`: a plain copy when the dtypes agree (the common case, GBs). */
function writeInto(init: Initializer, offset: number, bytes: Uint8Array, srcDtype: NativeDType): void {
  if (srcDtype === init.dtype) {
    init.data.set(bytes, offset * BYTES_PER_ELEMENT[init.dtype]);
    return;
  }
  if (init.dtype === 'float32' && (srcDtype === 'float16' || srcDtype === 'bfloat16' || srcDtype === 'float64')) {
    const f = srcDtype === 'float64' ? Float32Array.from(new Float64Array(bytes.slice().buffer)) : hostToFloat32({ dtype: srcDtype, shape: [bytes.byteLength / 2], data: bytes });
    init.data.set(new Uint8Array(f.buffer, f.byteOffset, f.byteLength), offset * 4);
    return;
  }
  encodeInto(init.data, init.dtype, offset, decode(bytes, srcDtype));
}

function scalarBytes(value: number | bigint, dtype: DType): Uint8Array {
  const out = new Uint8Array(BYTES_PER_ELEMENT[dtype]);
  encodeInto(out, dtype, 0, typeof value === 'bigint' ? BigInt64Array.of(value) : Float64Array.of(value));
  return out;
}

type Backend = Omit<TensorBackend, 'backendName'>;

/** The recorder. One instance records one graph; `build` (graph.ts) turns it into a ModelProto. */
export class OnnxRecorder {
  readonly backendName = 'onnx-recorder';
  readonly nodes: GraphNode[] = [];
  readonly initializers: Initializer[] = [];
  readonly inputs: GraphIO[] = [];
  readonly outputs: GraphIO[] = [];
  private readonly values: Value[] = [];
  private readonly names = new Set<string>();
  private readonly constants = new Map<string, string>();
  private readonly symbolSources = new Map<number, { input: string; axis: number }>();
  private readonly symbolValues = new Map<string, string>();
  private readonly matrixStorage: 'float32' | 'float16';
  private readonly onWeightBytes: ((bytes: number) => void) | undefined;

  constructor(opts: RecorderOptions = {}) {
    this.matrixStorage = opts.matrixStorage ?? 'float32';
    this.onWeightBytes = opts.onWeightBytes;
  }

  /** This recorder as a TensorBackend (for withBackend): the ops below, and `recorder: OP is not supported` for the rest. */
  get backend(): TensorBackend {
    return (this.#backend ??= this.makeBackend());
  }
  #backend: TensorBackend | undefined;

  // ---- graph building blocks
  private fresh(base: string): string {
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  private add(shape: number[], dtype: DType, name: string, extra: Partial<Value> = {}): H {
    this.values.push({ name, shape, dtype, ...extra });
    return (this.values.length - 1) as H;
  }

  private v(h: H, op: string): Value {
    const value = this.values[h];
    if (value === undefined) throw new Error(`${op}: tensor is disposed`);
    if (value.meta) throw new Error(`recorder: ${op}: a meta (shape-only) tensor has no value`);
    return value;
  }

  /** Appends a node with one output and returns its handle. */
  private node(op: string, inputs: string[], shape: number[], dtype: DType, attributes: Attribute[] = []): H {
    const out = this.fresh(`${op.toLowerCase()}_${this.nodes.length}`);
    this.nodes.push({ op, inputs, outputs: [out], attributes });
    return this.add(shape, dtype, out);
  }

  private nodeName(op: string, inputs: string[], attributes: Attribute[] = []): string {
    const out = this.fresh(`${op.toLowerCase()}_${this.nodes.length}`);
    this.nodes.push({ op, inputs, outputs: [out], attributes });
    return out;
  }

  private initializer(base: string, dtype: DType, shape: number[], data: Uint8Array): Initializer {
    const init: Initializer = { name: this.fresh(base), dtype, shape, data };
    this.initializers.push(init);
    return init;
  }

  /** A small constant (scalars, shape vectors, index lists), shared between uses. */
  private constant(dtype: DType, shape: number[], data: Uint8Array): string {
    const key = `${dtype}|${shape.join(',')}|${Buffer.from(data).toString('base64')}`;
    let name = this.constants.get(key);
    if (name === undefined) {
      name = this.initializer('const', dtype, shape, data).name;
      this.constants.set(key, name);
    }
    return name;
  }

  private scalar(value: number, dtype: DType): string {
    return this.constant(dtype, [], scalarBytes(value, dtype));
  }

  private ints(values: number[]): string {
    const data = new Uint8Array(8 * values.length);
    const dv = new DataView(data.buffer);
    values.forEach((x, i) => dv.setBigInt64(8 * i, BigInt(x), true));
    return this.constant('int64', [values.length], data);
  }

  /** A symbolic dim as a graph value: [1]-shaped (for shape vectors) or a scalar (for Range bounds). */
  private symbol(d: number, scalar: boolean): string {
    const key = `${d}|${scalar}`;
    const known = this.symbolValues.get(key);
    if (known !== undefined) return known;
    const src = this.symbolSources.get(d);
    if (src === undefined) throw new Error(`recorder: the ${SYMBOL_NAMES.get(d)} dimension is used before any graph input declares it`);
    const shape = this.nodeName('Shape', [src.input]);
    const name = this.nodeName('Gather', [shape, scalar ? this.scalar(src.axis, 'int64') : this.ints([src.axis])], [{ name: 'axis', type: ATTR.INT, i: 0 }]);
    this.symbolValues.set(key, name);
    return name;
  }

  /** A 1-D int64 shape value from a dim list whose entries may be sentinels. */
  private shapeValue(dims: readonly number[], op: string): string {
    dims.forEach((d) => checkDim(d, op));
    if (!dims.some(isSymbol)) return this.ints([...dims]);
    const parts: string[] = [];
    let run: number[] = [];
    for (const d of dims) {
      if (isSymbol(d)) {
        if (run.length) parts.push(this.ints(run));
        run = [];
        parts.push(this.symbol(d, false));
      } else run.push(d);
    }
    if (run.length) parts.push(this.ints(run));
    return parts.length === 1 ? parts[0]! : this.nodeName('Concat', parts, [{ name: 'axis', type: ATTR.INT, i: 0 }]);
  }

  /** A scalar int64 value of a number that may be a sentinel. */
  private scalarDim(d: number, op: string): string {
    checkDim(d, op);
    return isSymbol(d) ? this.symbol(d, true) : this.scalar(d, 'int64');
  }

  /** `h` converted to `dtype` (no node when it already is). */
  private cast(h: H, dtype: DType, op: string): string {
    const x = this.v(h, op);
    if (x.dtype === dtype) return x.name;
    return this.nodeName('Cast', [x.name], [{ name: 'to', type: ATTR.INT, i: ONNX_DTYPE[dtype as keyof typeof ONNX_DTYPE] }]);
  }

  // ---- the public recording surface (used by export.ts)
  /** Declares a graph input; symbolic dims are 'batch' or 'sequence'. Returns its handle. */
  input(name: string, dtype: DType, shape: ('batch' | 'sequence' | number)[]): H {
    if (this.names.has(name)) throw new Error(`recorder: input ${name} declared twice`);
    this.names.add(name);
    const dims = shape.map((d, axis) => {
      if (typeof d === 'number') return d;
      const sentinel = d === 'batch' ? SYMBOLIC_BATCH : SYMBOLIC_SEQUENCE;
      if (!this.symbolSources.has(sentinel)) this.symbolSources.set(sentinel, { input: name, axis });
      return sentinel;
    });
    this.inputs.push({ name, dtype, shape });
    return this.add(dims, dtype, name);
  }

  /** Names a value as a graph output (through Identity, so a value may be output and used alike). */
  output(name: string, h: H): void {
    const x = this.v(h, 'output');
    if (this.names.has(name)) throw new Error(`recorder: output name ${name} is taken`);
    this.names.add(name);
    this.nodes.push({ op: 'Identity', inputs: [x.name], outputs: [name], attributes: [] });
    this.outputs.push({ name, dtype: x.dtype, shape: x.shape.map((d) => SYMBOL_NAMES.get(d) ?? d) });
  }

  /** Gives parameters' initializers their model names (e.g. `0.auto_model.encoder.layer.0.attention.self.query.weight`). */
  nameInitializers(named: ReadonlyMap<string, { readonly handle: H }>): void {
    const renames = new Map<string, string>();
    for (const [name, t] of named) {
      const init = this.values[t.handle]?.init;
      if (!init || renames.has(init.name) || this.names.has(name)) continue;
      renames.set(init.name, name);
    }
    for (const init of this.initializers) {
      const to = renames.get(init.name);
      if (to !== undefined) init.name = to;
    }
    for (const node of this.nodes) node.inputs = node.inputs.map((n) => renames.get(n) ?? n);
  }

  // ---- op helpers
  private unary(op: string, h: H, attributes: Attribute[] = []): H {
    const x = this.v(h, op);
    return this.node(op, [x.name], [...x.shape], x.dtype, attributes);
  }

  private binary(op: string, h: H, o: H, outDtype?: DType): H {
    const a = this.v(h, op);
    const b = this.v(o, op);
    const dtype = promote(a.dtype, b.dtype, op);
    return this.node(op, [this.cast(h, dtype, op), this.cast(o, dtype, op)], broadcast(a.shape, b.shape, op), outDtype ?? dtype);
  }

  /** Tensor-scalar op; an integral tensor meets a fractional scalar in float32, as in PyTorch. */
  private withScalar(op: string, h: H, s: number, outDtype?: DType, scalarFirst = false): H {
    const a = this.v(h, op);
    const dtype = !isFloatingDType(a.dtype) && a.dtype !== 'bool' && Number.isInteger(s) ? a.dtype : isFloatingDType(a.dtype) ? a.dtype : 'float32';
    const x = this.cast(h, dtype, op);
    const c = this.scalar(s, dtype);
    return this.node(op, scalarFirst ? [c, x] : [x, c], [...a.shape], outDtype ?? dtype);
  }

  private reduce(op: string, h: H, dims: Dims, keepdim: boolean, axesAsInput = false): H {
    const x = this.v(h, op);
    const rank = x.shape.length;
    const axes = dims === undefined ? x.shape.map((_, i) => i) : (Array.isArray(dims) ? dims : [dims]).map((d) => normAxis(d, rank, op));
    const shape = keepdim ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
    const keep: Attribute = { name: 'keepdims', type: ATTR.INT, i: keepdim ? 1 : 0 };
    const dtype = op === 'ReduceSum' && !isFloatingDType(x.dtype) ? 'int64' : x.dtype;
    const input = op === 'ReduceSum' && dtype !== x.dtype ? this.cast(h, dtype, op) : x.name;
    if (axesAsInput) return this.node(op, [input, this.ints(axes)], shape, dtype, [keep]);
    return this.node(op, [input], shape, dtype, [keep, { name: 'axes', type: ATTR.INTS, ints: axes }]);
  }

  private reshapeTo(h: H, dims: number[], op: string): H {
    const x = this.v(h, op);
    dims.forEach((d) => checkDim(d, op));
    const shape = [...dims];
    const free = dims.indexOf(-1);
    if (free >= 0) {
      // Cancel symbolic dims between input and output; what is left must be a plain number (or one symbol).
      const left = x.shape.filter(isSymbol);
      for (const d of dims) if (isSymbol(d)) {
        const i = left.indexOf(d);
        if (i < 0) throw new Error(`recorder: ${op}: cannot infer -1 in [${dims.join(', ')}] from [${x.shape.join(', ')}]`);
        left.splice(i, 1);
      }
      const pin = product(x.shape.filter((d) => !isSymbol(d)));
      const pout = product(dims.filter((d, i) => i !== free && !isSymbol(d)));
      if (left.length === 0) shape[free] = pin / pout;
      else if (left.length === 1 && pin === pout) shape[free] = left[0]!;
      else throw new Error(`recorder: ${op}: cannot infer -1 in [${dims.join(', ')}] from [${x.shape.join(', ')}]`);
    }
    return this.node('Reshape', [x.name, this.shapeValue(dims, op)], shape, x.dtype);
  }

  private transposeTo(h: H, perm: number[], op: string): H {
    const x = this.v(h, op);
    return this.node('Transpose', [x.name], perm.map((p) => x.shape[p]!), x.dtype, [{ name: 'perm', type: ATTR.INTS, ints: perm }]);
  }

  private sliceTo(h: H, dim: number, start: number, end: number | undefined, step: number, op: string): H {
    const x = this.v(h, op);
    const axis = normAxis(dim, x.shape.length, op);
    const size = x.shape[axis]!;
    const shape = [...x.shape];
    checkDim(start, op);
    if (end !== undefined) checkDim(end, op);
    if (isSymbol(size) || isSymbol(start) || (end !== undefined && isSymbol(end))) {
      // The output length follows the input: only the whole symbolic axis is representable as a static shape.
      if (start === 0 && step === 1 && (end === undefined || end === size)) shape[axis] = size;
      else unsupported(`${op} of a symbolic dimension other than the whole axis`);
    } else {
      const clampTo = (i: number) => Math.min(Math.max(i < 0 ? i + size : i, 0), size);
      const s = clampTo(start);
      const e = end === undefined ? size : clampTo(end);
      shape[axis] = Math.max(0, Math.ceil((e - s) / step));
    }
    const endValue = end === undefined ? this.constant('int64', [1], scalarBytesBig(INT64_MAX)) : this.shapeValue([end], op);
    return this.node('Slice', [x.name, this.shapeValue([start], op), endValue, this.ints([axis]), this.ints([step])], shape, x.dtype);
  }

  private makeTensor(shape: number[], dtype: DType, device: string, op: string, data?: { bytes: Uint8Array; dtype: NativeDType }): H {
    shape.forEach((d) => checkDim(d, op));
    if (shape.some(isSymbol)) unsupported(`${op} with a symbolic shape`);
    if (device === 'meta') return this.add([...shape], dtype, '<meta>', { meta: true });
    const storage: DType = this.matrixStorage === 'float16' && dtype === 'float32' && shape.length >= 2 ? 'float16' : dtype;
    const init = this.initializer('param', storage, [...shape], new Uint8Array(product(shape) * BYTES_PER_ELEMENT[storage]));
    if (data) {
      writeInto(init, 0, data.bytes, data.dtype);
      this.onWeightBytes?.(data.bytes.byteLength);
    }
    const name = storage === dtype ? init.name : this.nodeName('Cast', [init.name], [{ name: 'to', type: ATTR.INT, i: ONNX_DTYPE.float32 }]);
    return this.add([...shape], dtype, name, { init });
  }

  private fullOf(shape: number[], value: number, dtype: DType, op: string): H {
    const t = { dims: [1], data_type: ONNX_DTYPE[dtype as keyof typeof ONNX_DTYPE], raw_data: scalarBytes(value, dtype) };
    return this.node('ConstantOfShape', [this.shapeValue(shape, op)], [...shape], dtype, [{ name: 'value', type: ATTR.TENSOR, t }]);
  }

  private gelu(h: H, approximate: string): H {
    const x = this.v(h, 'gelu');
    const dt = x.dtype;
    const mul = (a: string, b: string) => this.nodeName('Mul', [a, b]);
    const add = (a: string, b: string) => this.nodeName('Add', [a, b]);
    let inner: string;
    if (approximate === 'tanh') {
      // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), as torch's tanh approximation
      const cube = mul(mul(x.name, x.name), x.name);
      const arg = mul(add(x.name, mul(cube, this.scalar(0.044715, dt))), this.scalar(Math.sqrt(2 / Math.PI), dt));
      inner = add(this.nodeName('Tanh', [arg]), this.scalar(1, dt));
    } else if (approximate === 'none') {
      // x * 0.5 * (1 + erf(x / sqrt 2)), torch's exact form (opset 17 has no Gelu; opset 20 does)
      inner = add(this.nodeName('Erf', [mul(x.name, this.scalar(Math.SQRT1_2, dt))]), this.scalar(1, dt));
    } else unsupported(`gelu(approximate='${approximate}')`);
    return this.node('Mul', [mul(x.name, this.scalar(0.5, dt)), inner], [...x.shape], dt);
  }

  private makeBackend(): TensorBackend {
    const r = this;
    const impl: Partial<Backend> = {
      dispose: () => undefined, // graph values live as long as the graph
      shape: (h) => [...r.values[h]!.shape],
      dtype: (h) => dtypeCode(r.values[h]!.dtype),
      device: (h) => (r.values[h]!.meta ? 'meta' : 'cpu'),
      numel: (h) => product(r.values[h]!.shape),
      requiresGrad: () => false,
      grad: () => null,
      fromBytes: (bytes, srcDtype, shape, dstDtype, device) =>
        r.makeTensor(shape, dtypeFromCode(dstDtype), device, 'fromBytes', { bytes, dtype: dtypeFromCodeAny(srcDtype) }),
      empty: (shape, dtype, device) => r.makeTensor(shape, dtypeFromCode(dtype), device, 'empty'),
      copyBytes_: (h, bytes, srcDtype, offset) => {
        const init = r.values[h]?.init;
        if (!init) unsupported('copyFromHost_ into a computed value');
        writeInto(init, offset, bytes, dtypeFromCodeAny(srcDtype));
        r.onWeightBytes?.(bytes.byteLength);
      },
      zeros: (shape, dtype) => r.fullOf(shape, 0, dtypeFromCode(dtype), 'zeros'),
      ones: (shape, dtype) => r.fullOf(shape, 1, dtypeFromCode(dtype), 'ones'),
      full: (shape, value, dtype) => r.fullOf(shape, value, dtypeFromCode(dtype), 'full'),
      arange: (start, end, step, dtype) => {
        const dt = dtypeFromCode(dtype);
        checkDim(start, 'arange');
        checkDim(end, 'arange');
        const length = isSymbol(end) && start === 0 && step === 1 ? end : isSymbol(start) || isSymbol(end) ? unsupported('arange with a symbolic bound other than arange(0, dim)') : Math.max(0, Math.ceil((end - start) / step));
        const range = r.node('Range', [r.scalarDim(start, 'arange'), r.scalarDim(end, 'arange'), r.scalar(step, 'int64')], [length], 'int64');
        return dt === 'int64' ? range : r.node('Cast', [r.values[range]!.name], [length], dt, [{ name: 'to', type: ATTR.INT, i: ONNX_DTYPE[dt as keyof typeof ONNX_DTYPE] }]);
      },
      toDType: (h, dtype) => {
        const dt = dtypeFromCode(dtype);
        const x = r.v(h, 'to');
        if (x.dtype === dt) return h;
        return r.node('Cast', [x.name], [...x.shape], dt, [{ name: 'to', type: ATTR.INT, i: ONNX_DTYPE[dt as keyof typeof ONNX_DTYPE] }]);
      },
      toDevice: (h, device) => (device === 'cpu' ? h : unsupported(`to('${device}')`)),
      clone: (h) => h,
      contiguous: (h) => h,
      detach: (h) => h,
      reshape: (h, shape) => r.reshapeTo(h, shape, 'reshape'),
      view: (h, shape) => r.reshapeTo(h, shape, 'view'),
      flatten: (h, startDim, endDim) => {
        const x = r.v(h, 'flatten');
        const rank = x.shape.length;
        if (rank === 0) return r.reshapeTo(h, [1], 'flatten');
        const s = normAxis(startDim, rank, 'flatten');
        const e = normAxis(endDim, rank, 'flatten');
        return r.reshapeTo(h, [...x.shape.slice(0, s), -1, ...x.shape.slice(e + 1)], 'flatten');
      },
      transpose: (h, d0, d1) => {
        const rank = r.v(h, 'transpose').shape.length;
        const perm = [...Array(rank).keys()];
        const a = normAxis(d0, rank, 'transpose');
        const b = normAxis(d1, rank, 'transpose');
        [perm[a], perm[b]] = [perm[b]!, perm[a]!];
        return r.transposeTo(h, perm, 'transpose');
      },
      permute: (h, dims) => r.transposeTo(h, dims.map((d) => normAxis(d, dims.length, 'permute')), 'permute'),
      unsqueeze: (h, d) => {
        const x = r.v(h, 'unsqueeze');
        const axis = normAxis(d, x.shape.length + 1, 'unsqueeze');
        const shape = [...x.shape];
        shape.splice(axis, 0, 1);
        return r.node('Unsqueeze', [x.name, r.ints([axis])], shape, x.dtype);
      },
      squeeze: (h, d) => {
        const x = r.v(h, 'squeeze');
        const axes = d === undefined ? x.shape.flatMap((s, i) => (s === 1 ? [i] : [])) : [normAxis(d, x.shape.length, 'squeeze')].filter((a) => x.shape[a] === 1);
        if (axes.length === 0) return h;
        return r.node('Squeeze', [x.name, r.ints(axes)], x.shape.filter((_, i) => !axes.includes(i)), x.dtype);
      },
      expand: (h, shape) => {
        const x = r.v(h, 'expand');
        const off = shape.length - x.shape.length;
        const dims = shape.map((d, i) => (d === -1 ? x.shape[i - off]! : d));
        return r.node('Expand', [x.name, r.shapeValue(dims, 'expand')], broadcast(x.shape, dims, 'expand'), x.dtype);
      },
      slice: (h, dim, start, end, step) => r.sliceTo(h, dim, start, end, step, 'slice'),
      narrow: (h, dim, start, length) => {
        checkDim(start, 'narrow');
        checkDim(length, 'narrow');
        const x = r.v(h, 'narrow');
        if (isSymbol(length) && start === 0) return r.sliceTo(h, dim, 0, x.shape[normAxis(dim, x.shape.length, 'narrow')] === length ? undefined : unsupported('narrow to another symbolic length'), 1, 'narrow');
        return r.sliceTo(h, dim, start, start + length, 1, 'narrow');
      },
      select: (h, dim, index) => {
        const x = r.v(h, 'select');
        const axis = normAxis(dim, x.shape.length, 'select');
        return r.node('Gather', [x.name, r.scalar(index, 'int64')], x.shape.filter((_, i) => i !== axis), x.dtype, [{ name: 'axis', type: ATTR.INT, i: axis }]);
      },
      indexSelect: (h, dim, index) => {
        const x = r.v(h, 'indexSelect');
        const idx = r.v(index, 'indexSelect');
        const axis = normAxis(dim, x.shape.length, 'indexSelect');
        const shape = [...x.shape];
        shape[axis] = idx.shape[0]!;
        return r.node('Gather', [x.name, idx.name], shape, x.dtype, [{ name: 'axis', type: ATTR.INT, i: axis }]);
      },
      gather: (h, dim, index) => {
        const x = r.v(h, 'gather');
        const idx = r.v(index, 'gather');
        return r.node('GatherElements', [x.name, r.cast(index, 'int64', 'gather')], [...idx.shape], x.dtype, [{ name: 'axis', type: ATTR.INT, i: normAxis(dim, x.shape.length, 'gather') }]);
      },
      add: (h, o, alpha) => (alpha === 1 ? r.binary('Add', h, o) : r.binary('Add', h, r.withScalar('Mul', o, alpha))),
      addScalar: (h, o, alpha) => r.withScalar('Add', h, o * alpha),
      sub: (h, o, alpha) => (alpha === 1 ? r.binary('Sub', h, o) : r.binary('Sub', h, r.withScalar('Mul', o, alpha))),
      subScalar: (h, o, alpha) => r.withScalar('Sub', h, o * alpha),
      mul: (h, o) => r.binary('Mul', h, o),
      mulScalar: (h, o) => r.withScalar('Mul', h, o),
      div: (h, o) => {
        // torch's true division: integral operands divide in float32
        const a = r.v(h, 'div');
        const b = r.v(o, 'div');
        if (isFloatingDType(a.dtype) || isFloatingDType(b.dtype)) return r.binary('Div', h, o);
        return r.binary('Div', r.impl.toDType!(h, dtypeCode('float32')), r.impl.toDType!(o, dtypeCode('float32')));
      },
      divScalar: (h, o) => {
        const a = r.v(h, 'div');
        return r.withScalar('Div', isFloatingDType(a.dtype) ? h : r.impl.toDType!(h, dtypeCode('float32')), o);
      },
      pow: (h, e) => r.binary('Pow', h, e),
      powScalar: (h, e) => r.withScalar('Pow', h, e),
      neg: (h) => r.unary('Neg', h),
      sqrt: (h) => r.unary('Sqrt', h),
      rsqrt: (h) => r.unary('Reciprocal', r.unary('Sqrt', h)),
      exp: (h) => r.unary('Exp', h),
      log: (h) => r.unary('Log', h),
      abs: (h) => r.unary('Abs', h),
      square: (h) => r.binary('Mul', h, h),
      tanh: (h) => r.unary('Tanh', h),
      sigmoid: (h) => r.unary('Sigmoid', h),
      relu: (h) => r.unary('Relu', h),
      gelu: (h, approximate) => r.gelu(h, approximate),
      erf: (h) => r.unary('Erf', h),
      sign: (h) => r.unary('Sign', h),
      reciprocal: (h) => r.unary('Reciprocal', h),
      floor: (h) => r.unary('Floor', h),
      clamp: (h, min, max) => {
        let out = h;
        if (min !== undefined) out = r.withScalar('Max', out, min);
        if (max !== undefined) out = r.withScalar('Min', out, max);
        return out === h ? r.unary('Identity', h) : out;
      },
      matmul: (h, o) => r.matmul(h, o, 'matmul'),
      bmm: (h, o) => r.matmul(h, o, 'bmm'),
      mm: (h, o) => r.matmul(h, o, 'mm'),
      eq: (h, o) => r.binary('Equal', h, o, 'bool'),
      eqScalar: (h, o) => r.withScalar('Equal', h, o, 'bool'),
      ne: (h, o) => r.unary('Not', r.binary('Equal', h, o, 'bool')),
      neScalar: (h, o) => r.unary('Not', r.withScalar('Equal', h, o, 'bool')),
      gt: (h, o) => r.binary('Greater', h, o, 'bool'),
      gtScalar: (h, o) => r.withScalar('Greater', h, o, 'bool'),
      ge: (h, o) => r.binary('GreaterOrEqual', h, o, 'bool'),
      geScalar: (h, o) => r.withScalar('GreaterOrEqual', h, o, 'bool'),
      lt: (h, o) => r.binary('Less', h, o, 'bool'),
      ltScalar: (h, o) => r.withScalar('Less', h, o, 'bool'),
      le: (h, o) => r.binary('LessOrEqual', h, o, 'bool'),
      leScalar: (h, o) => r.withScalar('LessOrEqual', h, o, 'bool'),
      logicalNot: (h) => r.unary('Not', h),
      logicalAnd: (h, o) => r.binary('And', h, o, 'bool'),
      where: (h, cond, other) => r.where(cond, h, other),
      whereScalar: (h, cond, other) => r.where(cond, h, undefined, other),
      maskedFill: (h, mask, value) => r.where(mask, undefined, h, value),
      cumsum: (h, dim) => {
        const x = r.v(h, 'cumsum');
        return r.node('CumSum', [x.name, r.scalar(normAxis(dim, x.shape.length, 'cumsum'), 'int64')], [...x.shape], x.dtype);
      },
      triu: (h, diagonal) => {
        const x = r.v(h, 'triu');
        return r.node('Trilu', [x.name, r.scalar(diagonal, 'int64')], [...x.shape], x.dtype, [{ name: 'upper', type: ATTR.INT, i: 1 }]);
      },
      sum: (h, dims, keepdim) => r.reduce('ReduceSum', h, dims, keepdim, true),
      mean: (h, dims, keepdim) => r.reduce('ReduceMean', h, dims, keepdim),
      amax: (h, dims, keepdim) => r.reduce('ReduceMax', h, dims, keepdim),
      amin: (h, dims, keepdim) => r.reduce('ReduceMin', h, dims, keepdim),
      norm: (h, p, dims, keepdim) => (p === 2 ? r.reduce('ReduceL2', h, dims, keepdim) : p === 1 ? r.reduce('ReduceL1', h, dims, keepdim) : unsupported(`norm(p=${p})`)),
      softmax: (h, dim) => r.unary('Softmax', h, [{ name: 'axis', type: ATTR.INT, i: dim }]),
      logSoftmax: (h, dim) => r.unary('LogSoftmax', h, [{ name: 'axis', type: ATTR.INT, i: dim }]),
      cat: (hs, dim) => {
        const xs = hs.map((h) => r.v(h, 'cat'));
        if (xs.length === 0) unsupported('cat of no tensors');
        const axis = normAxis(dim, xs[0]!.shape.length, 'cat');
        const shape = [...xs[0]!.shape];
        if (xs.some((x) => isSymbol(x.shape[axis]!))) unsupported('cat along a symbolic dimension');
        shape[axis] = xs.reduce((n, x) => n + x.shape[axis]!, 0);
        return r.node('Concat', xs.map((x) => x.name), shape, xs[0]!.dtype, [{ name: 'axis', type: ATTR.INT, i: axis }]);
      },
      stack: (hs, dim) => {
        const xs = hs.map((h) => r.v(h, 'stack'));
        if (xs.length === 0) unsupported('stack of no tensors');
        const axis = normAxis(dim, xs[0]!.shape.length + 1, 'stack');
        const parts = hs.map((h) => r.impl.unsqueeze!(h, axis));
        const shape = [...xs[0]!.shape];
        shape.splice(axis, 0, xs.length);
        return r.node('Concat', parts.map((p) => r.values[p]!.name), shape, xs[0]!.dtype, [{ name: 'axis', type: ATTR.INT, i: axis }]);
      },
      linear: (x, w, b) => {
        const wt = r.transposeTo(w, [1, 0], 'linear');
        const y = r.matmul(x, wt, 'linear');
        return b === undefined ? y : r.binary('Add', y, b);
      },
      layerNorm: (x, shape, w, b, eps) => {
        const xv = r.v(x, 'layerNorm');
        const dims = shape.length;
        const scale = w !== undefined ? r.v(w, 'layerNorm').name : r.values[r.fullOf(shape, 1, xv.dtype, 'layerNorm')]!.name;
        const inputs = [xv.name, scale, ...(b !== undefined ? [r.v(b, 'layerNorm').name] : [])];
        return r.node('LayerNormalization', inputs, [...xv.shape], xv.dtype, [
          { name: 'axis', type: ATTR.INT, i: -dims }, { name: 'epsilon', type: ATTR.FLOAT, f: eps },
        ]);
      },
      embedding: (weight, ids) => {
        const w = r.v(weight, 'embedding');
        const i = r.v(ids, 'embedding');
        return r.node('Gather', [w.name, i.name], [...i.shape, ...w.shape.slice(1)], w.dtype, [{ name: 'axis', type: ATTR.INT, i: 0 }]);
      },
      dropout: (x, p, training) => (training && p > 0 ? unsupported('dropout in training mode') : x),
      normalize: (x, p, dim, eps) => {
        // torch: x / max(||x||_p, eps) along dim
        if (p !== 2) unsupported(`normalize(p=${p})`);
        const n = r.reduce('ReduceL2', x, dim, true);
        return r.binary('Div', x, r.withScalar('Max', n, eps));
      },
    };
    this.impl = impl;
    const backend: Record<string, unknown> = { backendName: this.backendName };
    for (const op of OPS) backend[op] = impl[op] ?? (() => unsupported(op));
    return backend as unknown as TensorBackend;
  }

  private impl: Partial<Backend> = {};

  private matmul(h: H, o: H, op: string): H {
    const a = this.v(h, op);
    const b = this.v(o, op);
    if (a.shape.length < 2 || b.shape.length < 2) unsupported(`${op} of a vector`);
    const batch = broadcast(a.shape.slice(0, -2), b.shape.slice(0, -2), op);
    const dtype = promote(a.dtype, b.dtype, op);
    return this.node('MatMul', [this.cast(h, dtype, op), this.cast(o, dtype, op)], [...batch, a.shape.at(-2)!, b.shape.at(-1)!], dtype);
  }

  /** torch.where(cond, a, b) with either side possibly a scalar. */
  private where(cond: H, a: H | undefined, b: H | undefined, scalar?: number): H {
    const c = this.v(cond, 'where');
    const ref = this.v((a ?? b)!, 'where');
    const dtype = a !== undefined && b !== undefined ? promote(this.v(a, 'where').dtype, this.v(b, 'where').dtype, 'where') : ref.dtype;
    const side = (x: H | undefined) => (x === undefined ? this.scalar(scalar!, dtype) : this.cast(x, dtype, 'where'));
    const shapeA = a === undefined ? [] : this.v(a, 'where').shape;
    const shapeB = b === undefined ? [] : this.v(b, 'where').shape;
    return this.node('Where', [this.cast(cond, 'bool', 'where'), side(a), side(b)], broadcast(c.shape, broadcast(shapeA, shapeB, 'where'), 'where'), dtype);
  }
}

function scalarBytesBig(v: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, v, true);
  return out;
}

/** Host dtype codes include int16 (reading only), which dtypeFromCode refuses. */
function dtypeFromCodeAny(code: number): NativeDType {
  return code === 9 ? 'int16' : dtypeFromCode(code);
}

/** Every op of the backend interface: those the recorder lacks are filled with `not supported` stubs. */
const OPS: readonly (keyof Backend)[] = [
  'dispose', 'shape', 'dtype', 'device', 'numel', 'fromBytes', 'toBytes', 'copyBytes_', 'item', 'toDType', 'toDevice', 'setData_',
  'clone', 'contiguous', 'requiresGrad', 'setRequiresGrad', 'grad', 'backward', 'detach', 'zeroGrad', 'reshape', 'view', 'transpose',
  'permute', 'unsqueeze', 'squeeze', 'expand', 'slice', 'select', 'narrow', 'indexSelect', 'gather', 'flatten', 'repeat', 'add',
  'addScalar', 'sub', 'subScalar', 'mul', 'mulScalar', 'div', 'divScalar', 'pow', 'powScalar', 'neg', 'sqrt', 'rsqrt', 'exp', 'log',
  'abs', 'square', 'tanh', 'sigmoid', 'relu', 'gelu', 'erf', 'sign', 'reciprocal', 'floor', 'clamp', 'matmul', 'bmm', 'mm', 'eq',
  'eqScalar', 'ne', 'neScalar', 'gt', 'gtScalar', 'ge', 'geScalar', 'lt', 'ltScalar', 'le', 'leScalar', 'logicalNot', 'logicalAnd',
  'where', 'whereScalar', 'maskedFill', 'cumsum', 'triu', 'sum', 'mean', 'amax', 'amin', 'max', 'argmax', 'norm', 'topk', 'softmax',
  'logSoftmax', 'add_', 'addScalar_', 'sub_', 'subScalar_', 'mul_', 'mulScalar_', 'div_', 'divScalar_', 'copy_', 'zero_', 'fill_',
  'addcmul_', 'addcdiv_', 'sqrt_', 'clamp_', 'lerp_', 'normal_', 'uniform_', 'zeros', 'ones', 'empty', 'randn', 'rand', 'full',
  'randint', 'arange', 'cat', 'stack', 'linear', 'linearInt8Pack', 'layerNorm', 'embedding', 'dropout', 'crossEntropy', 'mseLoss', 'normalize',
];

// Compile-time check that OPS names every op of the interface (a new addon op must be listed, or stubbed).
type Missing = Exclude<keyof Backend, (typeof OPS)[number] | 'scaledDotProductAttention'>;
const _allListed: Missing extends never ? true : Missing = true;
void _allListed;
