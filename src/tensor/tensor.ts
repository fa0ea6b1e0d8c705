/**
 * Tensor: a JS handle on one libtorch tensor. Ops return new tensors (in-place ops, named with a trailing
 * underscore, return `this`). Memory is freed deterministically by dispose() (or by an enclosing scope());
 * a tensor that is merely dropped is freed when the garbage collector finalizes its handle.
 */
import type { HostTensor } from '../io/host-tensor.js';
import { dtypeCode, dtypeFromCode, isDType, type DType, type NativeDType } from './dtype.js';
import { checkDevice, type Device } from './device.js';
import { native, type Handle } from './native.js';
import { track, type Tracked } from './scope.js';

type Other = Tensor | number;
type Dims = number | number[];

const FLOAT32 = dtypeCode('float32');
const FLOAT64 = dtypeCode('float64');
const INT64 = dtypeCode('int64');
const INT32 = dtypeCode('int32');

function wrap(h: Handle): Tensor {
  return new Tensor(h);
}

/** Shared between a Tensor and the finalization registry: id is the native handle, -1 once released. */
interface Cell {
  id: Handle;
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
  native().dispose(id);
});

export class Tensor implements Disposable, Tracked {
  readonly #cell: Cell;
  #kept = false;
  #shape: readonly number[] | undefined;
  #dtype: DType | undefined;
  #device: Device | undefined;

  /** @internal Tensors are made by the creation functions (tensor, zeros, ...) and by ops. */
  constructor(handle: Handle) {
    this.#cell = { id: handle };
    if (!track(this)) collected.register(this, this.#cell);
  }

  /** @internal Called by scope() when this tensor outlives every open scope. */
  leaveScopes(): void {
    collected.register(this, this.#cell);
  }

  /** @internal The native handle (-1 once disposed: the addon then reports "<op>: tensor is disposed"). */
  get handle(): Handle {
    return this.#cell.id;
  }

  // ---- metadata (cached: only setData_ changes a tensor's shape, dtype or device in place, and it clears these)
  get shape(): number[] {
    return (this.#shape ??= Object.freeze(native().shape(this.handle))) as number[];
  }
  get dtype(): DType {
    return (this.#dtype ??= dtypeFromCode(native().dtype(this.handle)));
  }
  get device(): Device {
    return (this.#device ??= native().device(this.handle) as Device);
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
    native().dispose(id);
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
    return new Float32Array(native().toBytes(this.handle, FLOAT32));
  }
  toFloat64Array(): Float64Array {
    return new Float64Array(native().toBytes(this.handle, FLOAT64));
  }
  toBigInt64Array(): BigInt64Array {
    return new BigInt64Array(native().toBytes(this.handle, INT64));
  }
  toInt32Array(): Int32Array {
    return new Int32Array(native().toBytes(this.handle, INT32));
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
    native().copyBytes_(this.handle, bytes, dtypeCode(dtype), elementOffset);
    return this;
  }
  /** The value of a one-element tensor. */
  item(): number {
    return native().item(this.handle);
  }
  toHost(): HostTensor {
    const dtype = this.dtype;
    return { dtype, shape: [...this.shape], data: new Uint8Array(native().toBytes(this.handle, dtypeCode(dtype))) };
  }
  to(target: DType | Device): Tensor {
    if (isDType(target)) return wrap(native().toDType(this.handle, dtypeCode(target)));
    return wrap(native().toDevice(this.handle, checkDevice(target)));
  }
  /**
   * PyTorch's `param.data = src`: this tensor (a leaf, e.g. a parameter) now holds src's data, device and dtype,
   * keeping requires_grad; references to it stay valid. src stays usable and is disposed by its owner.
   */
  setData_(src: Tensor): this {
    native().setData_(this.handle, src.handle);
    this.#shape = undefined;
    this.#dtype = undefined;
    this.#device = undefined;
    return this;
  }
  clone(): Tensor {
    return wrap(native().clone(this.handle));
  }
  contiguous(): Tensor {
    return wrap(native().contiguous(this.handle));
  }

  // ---- autograd
  get requiresGrad(): boolean {
    return native().requiresGrad(this.handle);
  }
  requiresGrad_(flag = true): this {
    native().setRequiresGrad(this.handle, flag);
    return this;
  }
  /** A new handle on the accumulated gradient (the caller disposes it), or null. */
  get grad(): Tensor | null {
    const g = native().grad(this.handle);
    return g === null ? null : wrap(g);
  }
  backward(gradient?: Tensor): void {
    native().backward(this.handle, gradient?.handle);
  }
  detach(): Tensor {
    return wrap(native().detach(this.handle));
  }
  /** Drops the gradient (PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    native().zeroGrad(this.handle);
  }

  // ---- shape
  reshape(shape: number[]): Tensor {
    return wrap(native().reshape(this.handle, shape));
  }
  view(shape: number[]): Tensor {
    return wrap(native().view(this.handle, shape));
  }
  transpose(d0: number, d1: number): Tensor {
    return wrap(native().transpose(this.handle, d0, d1));
  }
  permute(dims: number[]): Tensor {
    return wrap(native().permute(this.handle, dims));
  }
  unsqueeze(d: number): Tensor {
    return wrap(native().unsqueeze(this.handle, d));
  }
  squeeze(d?: number): Tensor {
    return wrap(native().squeeze(this.handle, d));
  }
  expand(shape: number[]): Tensor {
    return wrap(native().expand(this.handle, shape));
  }
  /** x[start:end:step] along dim (Python slice semantics: negative and out-of-range bounds are clamped). */
  slice(dim: number, start: number, end?: number, step = 1): Tensor {
    return wrap(native().slice(this.handle, dim, start, end, step));
  }
  select(dim: number, index: number): Tensor {
    return wrap(native().select(this.handle, dim, index));
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return wrap(native().narrow(this.handle, dim, start, length));
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return wrap(native().indexSelect(this.handle, dim, index.handle));
  }
  gather(dim: number, index: Tensor): Tensor {
    return wrap(native().gather(this.handle, dim, index.handle));
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    return wrap(native().flatten(this.handle, startDim, endDim));
  }
  repeat(times: number[]): Tensor {
    return wrap(native().repeat(this.handle, times));
  }

  // ---- elementwise (broadcasting and type promotion as in PyTorch; an integral JS number acts as a Python int)
  add(o: Other, alpha = 1): Tensor {
    return wrap(typeof o === 'number' ? native().addScalar(this.handle, o, alpha) : native().add(this.handle, o.handle, alpha));
  }
  sub(o: Other, alpha = 1): Tensor {
    return wrap(typeof o === 'number' ? native().subScalar(this.handle, o, alpha) : native().sub(this.handle, o.handle, alpha));
  }
  mul(o: Other): Tensor {
    return wrap(typeof o === 'number' ? native().mulScalar(this.handle, o) : native().mul(this.handle, o.handle));
  }
  div(o: Other): Tensor {
    return wrap(typeof o === 'number' ? native().divScalar(this.handle, o) : native().div(this.handle, o.handle));
  }
  neg(): Tensor {
    return wrap(native().neg(this.handle));
  }
  pow(e: Other): Tensor {
    return wrap(typeof e === 'number' ? native().powScalar(this.handle, e) : native().pow(this.handle, e.handle));
  }
  sqrt(): Tensor {
    return wrap(native().sqrt(this.handle));
  }
  rsqrt(): Tensor {
    return wrap(native().rsqrt(this.handle));
  }
  exp(): Tensor {
    return wrap(native().exp(this.handle));
  }
  log(): Tensor {
    return wrap(native().log(this.handle));
  }
  abs(): Tensor {
    return wrap(native().abs(this.handle));
  }
  square(): Tensor {
    return wrap(native().square(this.handle));
  }
  tanh(): Tensor {
    return wrap(native().tanh(this.handle));
  }
  sigmoid(): Tensor {
    return wrap(native().sigmoid(this.handle));
  }
  relu(): Tensor {
    return wrap(native().relu(this.handle));
  }
  /** 'none' = exact erf form (BERT); 'tanh' = the tanh approximation (gelu_new, T5 v1.1). */
  gelu(approximate: 'none' | 'tanh' = 'none'): Tensor {
    return wrap(native().gelu(this.handle, approximate));
  }
  erf(): Tensor {
    return wrap(native().erf(this.handle));
  }
  sign(): Tensor {
    return wrap(native().sign(this.handle));
  }
  reciprocal(): Tensor {
    return wrap(native().reciprocal(this.handle));
  }
  floor(): Tensor {
    return wrap(native().floor(this.handle));
  }
  clamp(min?: number, max?: number): Tensor {
    return wrap(native().clamp(this.handle, min, max));
  }
  matmul(o: Tensor): Tensor {
    return wrap(native().matmul(this.handle, o.handle));
  }
  bmm(o: Tensor): Tensor {
    return wrap(native().bmm(this.handle, o.handle));
  }
  mm(o: Tensor): Tensor {
    return wrap(native().mm(this.handle, o.handle));
  }

  // ---- reductions (dims omitted = all dimensions)
  sum(dims?: Dims, keepdim = false): Tensor {
    return wrap(native().sum(this.handle, dims, keepdim));
  }
  mean(dims?: Dims, keepdim = false): Tensor {
    return wrap(native().mean(this.handle, dims, keepdim));
  }
  amax(dims?: Dims, keepdim = false): Tensor {
    return wrap(native().amax(this.handle, dims, keepdim));
  }
  amin(dims?: Dims, keepdim = false): Tensor {
    return wrap(native().amin(this.handle, dims, keepdim));
  }
  max(dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
    const [values, indices] = native().max(this.handle, dim, keepdim);
    return { values: wrap(values), indices: wrap(indices) };
  }
  argmax(dim?: number, keepdim = false): Tensor {
    return wrap(native().argmax(this.handle, dim, keepdim));
  }
  norm(p = 2, dims?: Dims, keepdim = false): Tensor {
    return wrap(native().norm(this.handle, p, dims, keepdim));
  }
  topk(k: number, dim = -1, largest = true, sorted = true): { values: Tensor; indices: Tensor } {
    const [values, indices] = native().topk(this.handle, k, dim, largest, sorted);
    return { values: wrap(values), indices: wrap(indices) };
  }
  softmax(dim: number): Tensor {
    return wrap(native().softmax(this.handle, dim));
  }
  logSoftmax(dim: number): Tensor {
    return wrap(native().logSoftmax(this.handle, dim));
  }

  // ---- comparison and selection
  eq(o: Other): Tensor {
    return wrap(typeof o === 'number' ? native().eqScalar(this.handle, o) : native().eq(this.handle, o.handle));
  }
  ne(o: Other): Tensor {
    return wrap(typeof o === 'number' ? native().neScalar(this.handle, o) : native().ne(this.handle, o.handle));
  }
  gt(o: Other): Tensor {
    return wrap(typeof o === 'number' ? native().gtScalar(this.handle, o) : native().gt(this.handle, o.handle));
  }
  ge(o: Other): Tensor {
    return wrap(typeof o === 'number' ? native().geScalar(this.handle, o) : native().ge(this.handle, o.handle));
  }
  lt(o: Other): Tensor {
    return wrap(typeof o === 'number' ? native().ltScalar(this.handle, o) : native().lt(this.handle, o.handle));
  }
  le(o: Other): Tensor {
    return wrap(typeof o === 'number' ? native().leScalar(this.handle, o) : native().le(this.handle, o.handle));
  }
  logicalNot(): Tensor {
    return wrap(native().logicalNot(this.handle));
  }
  logicalAnd(o: Tensor): Tensor {
    return wrap(native().logicalAnd(this.handle, o.handle));
  }
  /** torch.where(cond, this, other). */
  where(cond: Tensor, o: Other): Tensor {
    return wrap(typeof o === 'number' ? native().whereScalar(this.handle, cond.handle, o) : native().where(this.handle, cond.handle, o.handle));
  }
  maskedFill(mask: Tensor, value: number): Tensor {
    return wrap(native().maskedFill(this.handle, mask.handle, value));
  }
  cumsum(dim: number): Tensor {
    return wrap(native().cumsum(this.handle, dim));
  }
  triu(diagonal = 0): Tensor {
    return wrap(native().triu(this.handle, diagonal));
  }

  // ---- in-place (for optimizers and initialisation; run them inside noGrad on parameters)
  add_(o: Other, alpha = 1): this {
    if (typeof o === 'number') native().addScalar_(this.handle, o, alpha);
    else native().add_(this.handle, o.handle, alpha);
    return this;
  }
  sub_(o: Other, alpha = 1): this {
    if (typeof o === 'number') native().subScalar_(this.handle, o, alpha);
    else native().sub_(this.handle, o.handle, alpha);
    return this;
  }
  mul_(o: Other): this {
    if (typeof o === 'number') native().mulScalar_(this.handle, o);
    else native().mul_(this.handle, o.handle);
    return this;
  }
  div_(o: Other): this {
    if (typeof o === 'number') native().divScalar_(this.handle, o);
    else native().div_(this.handle, o.handle);
    return this;
  }
  copy_(src: Tensor): this {
    native().copy_(this.handle, src.handle);
    return this;
  }
  zero_(): this {
    native().zero_(this.handle);
    return this;
  }
  fill_(v: number): this {
    native().fill_(this.handle, v);
    return this;
  }
  addcmul_(a: Tensor, b: Tensor, value = 1): this {
    native().addcmul_(this.handle, a.handle, b.handle, value);
    return this;
  }
  addcdiv_(a: Tensor, b: Tensor, value = 1): this {
    native().addcdiv_(this.handle, a.handle, b.handle, value);
    return this;
  }
  sqrt_(): this {
    native().sqrt_(this.handle);
    return this;
  }
  clamp_(min?: number, max?: number): this {
    native().clamp_(this.handle, min, max);
    return this;
  }
  lerp_(end: Tensor, weight: number): this {
    native().lerp_(this.handle, end.handle, weight);
    return this;
  }
  normal_(mean = 0, std = 1): this {
    native().normal_(this.handle, mean, std);
    return this;
  }
  uniform_(a = 0, b = 1): this {
    native().uniform_(this.handle, a, b);
    return this;
  }
}
