/**
 * Tensor: a JS handle on one libtorch tensor. Ops return new tensors (in-place ops, named with a trailing
 * underscore, return `this`). Memory is freed deterministically by dispose() (or by an enclosing scope());
 * a tensor that is merely dropped is freed when the garbage collector finalizes its handle.
 */
import type { HostTensor } from '../io/host-tensor.js';
import { dtypeCode, dtypeFromCode, isDType, type DType, type NativeDType } from './dtype.js';
import { checkDevice, type Device } from './device.js';
import type { Handle } from './native.js';
import { backendName, type TensorBackend } from './backend.js';
import { track, type Tracked } from './scope.js';

type Other = Tensor | number;
type Dims = number | number[];

const FLOAT32 = dtypeCode('float32');
const FLOAT64 = dtypeCode('float64');
const INT64 = dtypeCode('int64');
const INT32 = dtypeCode('int32');

/**
 * Shared between a Tensor and the finalization registry: id is the backend's handle, -1 once released; the
 * backend is the one that made the handle, so a late GC callback frees it there (never in another backend's table).
 */
interface Cell {
  id: Handle;
  readonly backend: TensorBackend;
}

const RELEASED = -1 as Handle;

// The safety net for tensors dropped without dispose(): their slot is freed when the JS object is collected.
// dispose() marks the cell released, so a late callback never frees a slot that was reused meanwhile.
// Tensors created inside scope() register only if they outlive it: a scope frees the rest deterministically,
// and skipping the registration saves about a microsecond per op in model code.
const collected = new FinalizationRegistry<Cell>((cell) => {
  if (cell.id === RELEASED) return;
  const id = cell.id;
  cell.id = RELEASED;
  cell.backend.dispose(id);
});

function mixed(expected: TensorBackend, got: TensorBackend): Error {
  return new Error(`tensors of two backends in one op: ${backendName(expected)} and ${backendName(got)} (move the tensor with toHost/fromHost)`);
}

export class Tensor implements Disposable, Tracked {
  readonly #cell: Cell;
  /** The backend that made this tensor: every method runs there (read once per op: a field, no lookup). */
  readonly #b: TensorBackend;
  #kept = false;
  #shape: readonly number[] | undefined;
  #dtype: DType | undefined;
  #device: Device | undefined;

  /** @internal Tensors are made by the creation functions (tensor, zeros, ...) and by ops. */
  constructor(handle: Handle, backend: TensorBackend) {
    this.#b = backend;
    this.#cell = { id: handle, backend };
    if (!track(this)) collected.register(this, this.#cell);
  }

  /** @internal Called by scope() when this tensor outlives every open scope. */
  leaveScopes(): void {
    collected.register(this, this.#cell);
  }

  /** @internal The backend this tensor lives in (F ops and cat/stack dispatch on it). */
  get backend(): TensorBackend {
    return this.#b;
  }

  /** @internal The handle of `other` for an op run in this tensor's backend; tensors of two backends never mix. */
  handleIn(backend: TensorBackend): Handle {
    if (this.#b !== backend) throw mixed(backend, this.#b);
    return this.#cell.id;
  }

  #in(other: Tensor): Handle {
    return other.#b === this.#b ? other.#cell.id : other.handleIn(this.#b);
  }

  #wrap(h: Handle): Tensor {
    return new Tensor(h, this.#b);
  }

  /** @internal The native handle (-1 once disposed: the addon then reports "<op>: tensor is disposed"). */
  get handle(): Handle {
    return this.#cell.id;
  }

  // ---- metadata (cached: only setData_ changes a tensor's shape, dtype or device in place, and it clears these)
  get shape(): number[] {
    return (this.#shape ??= Object.freeze(this.#b.shape(this.handle))) as number[];
  }
  get dtype(): DType {
    return (this.#dtype ??= dtypeFromCode(this.#b.dtype(this.handle)));
  }
  get device(): Device {
    return (this.#device ??= this.#b.device(this.handle) as Device);
  }
  get ndim(): number {
    return this.shape.length;
  }
  numel(): number {
    let n = 1;
    for (const d of this.shape) n *= d;
    return n;
  }
  get isDisposed(): boolean {
    return this.#cell.id === RELEASED;
  }
  get isKept(): boolean {
    return this.#kept;
  }
  toString(): string {
    return this.isDisposed ? 'Tensor(disposed)' : `Tensor(shape=[${this.shape.join(', ')}], dtype=${this.dtype}, device=${this.device})`;
  }

  // ---- memory
  /** Frees the libtorch tensor now (its storage goes once no other tensor views it). Idempotent. */
  dispose(): void {
    const id = this.#cell.id;
    if (id === RELEASED) return;
    this.#cell.id = RELEASED;
    this.#b.dispose(id);
  }
  [Symbol.dispose](): void {
    this.dispose();
  }
  /** Excludes this tensor from the cleanup of every enclosing scope(). */
  keep(): this {
    this.#kept = true;
    return this;
  }

  // ---- host transfer (each is one copy, converting as PyTorch's .to(dtype) would)
  toFloat32Array(): Float32Array {
    return new Float32Array(this.#b.toBytes(this.handle, FLOAT32));
  }
  toFloat64Array(): Float64Array {
    return new Float64Array(this.#b.toBytes(this.handle, FLOAT64));
  }
  toBigInt64Array(): BigInt64Array {
    return new BigInt64Array(this.#b.toBytes(this.handle, INT64));
  }
  toInt32Array(): Int32Array {
    return new Int32Array(this.#b.toBytes(this.handle, INT32));
  }
  /** Flat values in C order. int64 values outside ±2^53 cannot be JS numbers and throw rather than round. */
  toArray(): number[] {
    if (this.dtype !== 'int64') return Array.from(this.toFloat64Array());
    const values = this.toBigInt64Array();
    const out = new Array<number>(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
        throw new RangeError(`toArray: element ${i} (${v}) is not exactly representable as a JS number; use toBigInt64Array()`);
      }
      out[i] = Number(v);
    }
    return out;
  }
  /**
   * Fills flat elements [elementOffset, ...) of this contiguous tensor from little-endian bytes of `dtype`,
   * converting as PyTorch's copy_ does (checkpoint loading streams each weight in through a small buffer).
   */
  copyFromHost_(bytes: Uint8Array, dtype: NativeDType, elementOffset = 0): this {
    this.#b.copyBytes_(this.handle, bytes, dtypeCode(dtype), elementOffset);
    return this;
  }
  /** The value of a one-element tensor. */
  item(): number {
    return this.#b.item(this.handle);
  }
  toHost(): HostTensor {
    const dtype = this.dtype;
    return { dtype, shape: [...this.shape], data: new Uint8Array(this.#b.toBytes(this.handle, dtypeCode(dtype))) };
  }
  to(target: DType | Device): Tensor {
    if (isDType(target)) return this.#wrap(this.#b.toDType(this.handle, dtypeCode(target)));
    return this.#wrap(this.#b.toDevice(this.handle, checkDevice(target)));
  }
  /**
   * PyTorch's `param.data = src`: this tensor (a leaf, e.g. a parameter) now holds src's data, device and dtype,
   * keeping requires_grad; references to it stay valid. src stays usable and is disposed by its owner.
   */
  setData_(src: Tensor): this {
    this.#b.setData_(this.handle, this.#in(src));
    this.#shape = undefined;
    this.#dtype = undefined;
    this.#device = undefined;
    return this;
  }
  clone(): Tensor {
    return this.#wrap(this.#b.clone(this.handle));
  }
  contiguous(): Tensor {
    return this.#wrap(this.#b.contiguous(this.handle));
  }

  // ---- autograd
  get requiresGrad(): boolean {
    return this.#b.requiresGrad(this.handle);
  }
  requiresGrad_(flag = true): this {
    this.#b.setRequiresGrad(this.handle, flag);
    return this;
  }
  /** A new handle on the accumulated gradient (the caller disposes it), or null. */
  get grad(): Tensor | null {
    const g = this.#b.grad(this.handle);
    return g === null ? null : this.#wrap(g);
  }
  backward(gradient?: Tensor): void {
    this.#b.backward(this.handle, (gradient && this.#in(gradient)));
  }
  detach(): Tensor {
    return this.#wrap(this.#b.detach(this.handle));
  }
  /** Drops the gradient (PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    this.#b.zeroGrad(this.handle);
  }

  // ---- shape
  reshape(shape: number[]): Tensor {
    return this.#wrap(this.#b.reshape(this.handle, shape));
  }
  view(shape: number[]): Tensor {
    return this.#wrap(this.#b.view(this.handle, shape));
  }
  transpose(d0: number, d1: number): Tensor {
    return this.#wrap(this.#b.transpose(this.handle, d0, d1));
  }
  permute(dims: number[]): Tensor {
    return this.#wrap(this.#b.permute(this.handle, dims));
  }
  unsqueeze(d: number): Tensor {
    return this.#wrap(this.#b.unsqueeze(this.handle, d));
  }
  squeeze(d?: number): Tensor {
    return this.#wrap(this.#b.squeeze(this.handle, d));
  }
  expand(shape: number[]): Tensor {
    return this.#wrap(this.#b.expand(this.handle, shape));
  }
  /** x[start:end:step] along dim (Python slice semantics: negative and out-of-range bounds are clamped). */
  slice(dim: number, start: number, end?: number, step = 1): Tensor {
    return this.#wrap(this.#b.slice(this.handle, dim, start, end, step));
  }
  select(dim: number, index: number): Tensor {
    return this.#wrap(this.#b.select(this.handle, dim, index));
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return this.#wrap(this.#b.narrow(this.handle, dim, start, length));
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return this.#wrap(this.#b.indexSelect(this.handle, dim, index.handle));
  }
  gather(dim: number, index: Tensor): Tensor {
    return this.#wrap(this.#b.gather(this.handle, dim, index.handle));
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    return this.#wrap(this.#b.flatten(this.handle, startDim, endDim));
  }
  repeat(times: number[]): Tensor {
    return this.#wrap(this.#b.repeat(this.handle, times));
  }

  // ---- elementwise (broadcasting and type promotion as in PyTorch; an integral JS number acts as a Python int)
  add(o: Other, alpha = 1): Tensor {
    return this.#wrap(typeof o === 'number' ? this.#b.addScalar(this.handle, o, alpha) : this.#b.add(this.handle, this.#in(o), alpha));
  }
  sub(o: Other, alpha = 1): Tensor {
    return this.#wrap(typeof o === 'number' ? this.#b.subScalar(this.handle, o, alpha) : this.#b.sub(this.handle, this.#in(o), alpha));
  }
  mul(o: Other): Tensor {
    return this.#wrap(typeof o === 'number' ? this.#b.mulScalar(this.handle, o) : this.#b.mul(this.handle, this.#in(o)));
  }
  div(o: Other): Tensor {
    return this.#wrap(typeof o === 'number' ? this.#b.divScalar(this.handle, o) : this.#b.div(this.handle, this.#in(o)));
  }
  neg(): Tensor {
    return this.#wrap(this.#b.neg(this.handle));
  }
  pow(e: Other): Tensor {
    return this.#wrap(typeof e === 'number' ? this.#b.powScalar(this.handle, e) : this.#b.pow(this.handle, e.handle));
  }
  sqrt(): Tensor {
    return this.#wrap(this.#b.sqrt(this.handle));
  }
  rsqrt(): Tensor {
    return this.#wrap(this.#b.rsqrt(this.handle));
  }
  exp(): Tensor {
    return this.#wrap(this.#b.exp(this.handle));
  }
  log(): Tensor {
    return this.#wrap(this.#b.log(this.handle));
  }
  abs(): Tensor {
    return this.#wrap(this.#b.abs(this.handle));
  }
  square(): Tensor {
    return this.#wrap(this.#b.square(this.handle));
  }
  tanh(): Tensor {
    return this.#wrap(this.#b.tanh(this.handle));
  }
  sigmoid(): Tensor {
    return this.#wrap(this.#b.sigmoid(this.handle));
  }
  relu(): Tensor {
    return this.#wrap(this.#b.relu(this.handle));
  }
  /** 'none' = exact erf form (BERT); 'tanh' = the tanh approximation (gelu_new, T5 v1.1). */
  gelu(approximate: 'none' | 'tanh' = 'none'): Tensor {
    return this.#wrap(this.#b.gelu(this.handle, approximate));
  }
  erf(): Tensor {
    return this.#wrap(this.#b.erf(this.handle));
  }
  sign(): Tensor {
    return this.#wrap(this.#b.sign(this.handle));
  }
  reciprocal(): Tensor {
    return this.#wrap(this.#b.reciprocal(this.handle));
  }
  floor(): Tensor {
    return this.#wrap(this.#b.floor(this.handle));
  }
  clamp(min?: number, max?: number): Tensor {
    return this.#wrap(this.#b.clamp(this.handle, min, max));
  }
  matmul(o: Tensor): Tensor {
    return this.#wrap(this.#b.matmul(this.handle, this.#in(o)));
  }
  bmm(o: Tensor): Tensor {
    return this.#wrap(this.#b.bmm(this.handle, this.#in(o)));
  }
  mm(o: Tensor): Tensor {
    return this.#wrap(this.#b.mm(this.handle, this.#in(o)));
  }

  // ---- reductions (dims omitted = all dimensions)
  sum(dims?: Dims, keepdim = false): Tensor {
    return this.#wrap(this.#b.sum(this.handle, dims, keepdim));
  }
  mean(dims?: Dims, keepdim = false): Tensor {
    return this.#wrap(this.#b.mean(this.handle, dims, keepdim));
  }
  amax(dims?: Dims, keepdim = false): Tensor {
    return this.#wrap(this.#b.amax(this.handle, dims, keepdim));
  }
  amin(dims?: Dims, keepdim = false): Tensor {
    return this.#wrap(this.#b.amin(this.handle, dims, keepdim));
  }
  max(dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
    const [values, indices] = this.#b.max(this.handle, dim, keepdim);
    return { values: this.#wrap(values), indices: this.#wrap(indices) };
  }
  argmax(dim?: number, keepdim = false): Tensor {
    return this.#wrap(this.#b.argmax(this.handle, dim, keepdim));
  }
  norm(p = 2, dims?: Dims, keepdim = false): Tensor {
    return this.#wrap(this.#b.norm(this.handle, p, dims, keepdim));
  }
  topk(k: number, dim = -1, largest = true, sorted = true): { values: Tensor; indices: Tensor } {
    const [values, indices] = this.#b.topk(this.handle, k, dim, largest, sorted);
    return { values: this.#wrap(values), indices: this.#wrap(indices) };
  }
  softmax(dim: number): Tensor {
    return this.#wrap(this.#b.softmax(this.handle, dim));
  }
  logSoftmax(dim: number): Tensor {
    return this.#wrap(this.#b.logSoftmax(this.handle, dim));
  }

  // ---- comparison and selection
  eq(o: Other): Tensor {
    return this.#wrap(typeof o === 'number' ? this.#b.eqScalar(this.handle, o) : this.#b.eq(this.handle, this.#in(o)));
  }
  ne(o: Other): Tensor {
    return this.#wrap(typeof o === 'number' ? this.#b.neScalar(this.handle, o) : this.#b.ne(this.handle, this.#in(o)));
  }
  gt(o: Other): Tensor {
    return this.#wrap(typeof o === 'number' ? this.#b.gtScalar(this.handle, o) : this.#b.gt(this.handle, this.#in(o)));
  }
  ge(o: Other): Tensor {
    return this.#wrap(typeof o === 'number' ? this.#b.geScalar(this.handle, o) : this.#b.ge(this.handle, this.#in(o)));
  }
  lt(o: Other): Tensor {
    return this.#wrap(typeof o === 'number' ? this.#b.ltScalar(this.handle, o) : this.#b.lt(this.handle, this.#in(o)));
  }
  le(o: Other): Tensor {
    return this.#wrap(typeof o === 'number' ? this.#b.leScalar(this.handle, o) : this.#b.le(this.handle, this.#in(o)));
  }
  logicalNot(): Tensor {
    return this.#wrap(this.#b.logicalNot(this.handle));
  }
  logicalAnd(o: Tensor): Tensor {
    return this.#wrap(this.#b.logicalAnd(this.handle, this.#in(o)));
  }
  /** torch.where(cond, this, other). */
  where(cond: Tensor, o: Other): Tensor {
    return this.#wrap(typeof o === 'number' ? this.#b.whereScalar(this.handle, this.#in(cond), o) : this.#b.where(this.handle, this.#in(cond), this.#in(o)));
  }
  maskedFill(mask: Tensor, value: number): Tensor {
    return this.#wrap(this.#b.maskedFill(this.handle, this.#in(mask), value));
  }
  cumsum(dim: number): Tensor {
    return this.#wrap(this.#b.cumsum(this.handle, dim));
  }
  triu(diagonal = 0): Tensor {
    return this.#wrap(this.#b.triu(this.handle, diagonal));
  }

  // ---- in-place (for optimizers and initialisation; run them inside noGrad on parameters)
  add_(o: Other, alpha = 1): this {
    if (typeof o === 'number') this.#b.addScalar_(this.handle, o, alpha);
    else this.#b.add_(this.handle, this.#in(o), alpha);
    return this;
  }
  sub_(o: Other, alpha = 1): this {
    if (typeof o === 'number') this.#b.subScalar_(this.handle, o, alpha);
    else this.#b.sub_(this.handle, this.#in(o), alpha);
    return this;
  }
  mul_(o: Other): this {
    if (typeof o === 'number') this.#b.mulScalar_(this.handle, o);
    else this.#b.mul_(this.handle, this.#in(o));
    return this;
  }
  div_(o: Other): this {
    if (typeof o === 'number') this.#b.divScalar_(this.handle, o);
    else this.#b.div_(this.handle, this.#in(o));
    return this;
  }
  copy_(src: Tensor): this {
    this.#b.copy_(this.handle, this.#in(src));
    return this;
  }
  zero_(): this {
    this.#b.zero_(this.handle);
    return this;
  }
  fill_(v: number): this {
    this.#b.fill_(this.handle, v);
    return this;
  }
  addcmul_(a: Tensor, b: Tensor, value = 1): this {
    this.#b.addcmul_(this.handle, this.#in(a), this.#in(b), value);
    return this;
  }
  addcdiv_(a: Tensor, b: Tensor, value = 1): this {
    this.#b.addcdiv_(this.handle, this.#in(a), this.#in(b), value);
    return this;
  }
  sqrt_(): this {
    this.#b.sqrt_(this.handle);
    return this;
  }
  clamp_(min?: number, max?: number): this {
    this.#b.clamp_(this.handle, min, max);
    return this;
  }
  lerp_(end: Tensor, weight: number): this {
    this.#b.lerp_(this.handle, this.#in(end), weight);
    return this;
  }
  normal_(mean = 0, std = 1): this {
    this.#b.normal_(this.handle, mean, std);
    return this;
  }
  uniform_(a = 0, b = 1): this {
    this.#b.uniform_(this.handle, a, b);
    return this;
  }
}
