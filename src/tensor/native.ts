/**
 * Loads the libtorch addon (build/Release/densekit.node) on first use, so modules that merely import
 * src/tensor (for types) work on machines where it is not built. DENSEKIT_ADDON overrides the path.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DensekitError } from '../errors.js';

/** A native tensor handle: a slot index in the addon's per-thread tensor table (-1 once disposed). */
export type Handle = number & { readonly __nativeTensor: unique symbol };
type H = Handle;
type Opt<T> = T | undefined;

/** The addon's functions; see native/densekit.cc for the semantics of each. dtypes travel as codes (dtype.ts). */
export interface NativeAddon {
  dispose(h: H): void; liveCount(): number; shape(h: H): number[]; dtype(h: H): number; device(h: H): string; numel(h: H): number;
  fromBytes(bytes: Uint8Array, srcDtype: number, shape: number[], dstDtype: number, device: string): H;
  toBytes(h: H, dtype: number): ArrayBuffer; copyBytes_(h: H, bytes: Uint8Array, srcDtype: number, elementOffset: number): void; item(h: H): number; toDType(h: H, dtype: number): H; toDevice(h: H, device: string): H; setData_(h: H, src: H): void;
  clone(h: H): H; contiguous(h: H): H;
  requiresGrad(h: H): boolean; setRequiresGrad(h: H, flag: boolean): void; grad(h: H): H | null; backward(h: H, gradient?: H): void;
  detach(h: H): H; zeroGrad(h: H): void;
  reshape(h: H, shape: number[]): H; view(h: H, shape: number[]): H; transpose(h: H, d0: number, d1: number): H;
  permute(h: H, dims: number[]): H; unsqueeze(h: H, d: number): H; squeeze(h: H, d?: number): H; expand(h: H, shape: number[]): H;
  slice(h: H, dim: number, start: number, end: Opt<number>, step: number): H; select(h: H, dim: number, index: number): H;
  narrow(h: H, dim: number, start: number, length: number): H; indexSelect(h: H, dim: number, index: H): H;
  gather(h: H, dim: number, index: H): H; flatten(h: H, startDim: number, endDim: number): H; repeat(h: H, times: number[]): H;
  add(h: H, o: H, alpha: number): H; addScalar(h: H, o: number, alpha: number): H;
  sub(h: H, o: H, alpha: number): H; subScalar(h: H, o: number, alpha: number): H;
  mul(h: H, o: H): H; mulScalar(h: H, o: number): H; div(h: H, o: H): H; divScalar(h: H, o: number): H;
  pow(h: H, e: H): H; powScalar(h: H, e: number): H; neg(h: H): H; sqrt(h: H): H; rsqrt(h: H): H; exp(h: H): H; log(h: H): H; abs(h: H): H; square(h: H): H;
  tanh(h: H): H; sigmoid(h: H): H; relu(h: H): H; gelu(h: H, approximate: string): H; erf(h: H): H; sign(h: H): H;
  reciprocal(h: H): H; floor(h: H): H; clamp(h: H, min: Opt<number>, max: Opt<number>): H;
  matmul(h: H, o: H): H; bmm(h: H, o: H): H; mm(h: H, o: H): H;
  eq(h: H, o: H): H; eqScalar(h: H, o: number): H; ne(h: H, o: H): H; neScalar(h: H, o: number): H;
  gt(h: H, o: H): H; gtScalar(h: H, o: number): H; ge(h: H, o: H): H; geScalar(h: H, o: number): H;
  lt(h: H, o: H): H; ltScalar(h: H, o: number): H; le(h: H, o: H): H; leScalar(h: H, o: number): H;
  logicalNot(h: H): H; logicalAnd(h: H, o: H): H; where(h: H, cond: H, other: H): H; whereScalar(h: H, cond: H, other: number): H; maskedFill(h: H, mask: H, value: number): H;
  cumsum(h: H, dim: number): H; triu(h: H, diagonal: number): H;
  sum(h: H, dims: Opt<number | number[]>, keepdim: boolean): H; mean(h: H, dims: Opt<number | number[]>, keepdim: boolean): H;
  amax(h: H, dims: Opt<number | number[]>, keepdim: boolean): H; amin(h: H, dims: Opt<number | number[]>, keepdim: boolean): H;
  max(h: H, dim: number, keepdim: boolean): [H, H]; argmax(h: H, dim: Opt<number>, keepdim: boolean): H;
  norm(h: H, p: number, dims: Opt<number | number[]>, keepdim: boolean): H;
  topk(h: H, k: number, dim: number, largest: boolean, sorted: boolean): [H, H];
  softmax(h: H, dim: number): H; logSoftmax(h: H, dim: number): H;
  add_(h: H, o: H, alpha: number): void; addScalar_(h: H, o: number, alpha: number): void;
  sub_(h: H, o: H, alpha: number): void; subScalar_(h: H, o: number, alpha: number): void;
  mul_(h: H, o: H): void; mulScalar_(h: H, o: number): void; div_(h: H, o: H): void; divScalar_(h: H, o: number): void; copy_(h: H, src: H): void; zero_(h: H): void; fill_(h: H, v: number): void;
  addcmul_(h: H, a: H, b: H, value: number): void; addcdiv_(h: H, a: H, b: H, value: number): void; sqrt_(h: H): void;
  clamp_(h: H, min: Opt<number>, max: Opt<number>): void; lerp_(h: H, end: H, weight: number): void;
  normal_(h: H, mean: number, std: number): void; uniform_(h: H, a: number, b: number): void;
  zeros(shape: number[], dtype: number, device: string): H; ones(shape: number[], dtype: number, device: string): H;
  empty(shape: number[], dtype: number, device: string): H; randn(shape: number[], dtype: number, device: string): H;
  rand(shape: number[], dtype: number, device: string): H; full(shape: number[], value: number, dtype: number, device: string): H;
  randint(low: number, high: number, shape: number[], dtype: number, device: string): H;
  arange(start: number, end: number, step: number, dtype: number, device: string): H; manualSeed(seed: number): void;
  cat(hs: H[], dim: number): H; stack(hs: H[], dim: number): H;
  /** The int8 codes [out, in] of `w`, packed for the quantized engine's dynamic int8 linear (bias inside). */
  linearInt8Pack(w: H, b: Opt<H>): H;
  linear(x: H, w: H, b: Opt<H>): H; layerNorm(x: H, shape: number[], w: Opt<H>, b: Opt<H>, eps: number): H;
  embedding(weight: H, ids: H): H; dropout(x: H, p: number, training: boolean): H;
  crossEntropy(logits: H, targets: H, reduction: string, labelSmoothing: number): H; mseLoss(a: H, b: H, reduction: string): H;
  normalize(x: H, p: number, dim: number, eps: number): H;
  scaledDotProductAttention?(q: H, k: H, v: H, mask: Opt<H>): H;
  setGradEnabled(flag: boolean): boolean; isGradEnabled(): boolean;
  autocastEnter(deviceType: 'cpu' | 'cuda', dtype: number): [boolean, number, boolean];
  autocastExit(deviceType: 'cpu' | 'cuda', prevEnabled: boolean, prevDtype: number, prevCacheEnabled: boolean): void;
  setNumThreads(n: number): void; getNumThreads(): number; cudaAvailable(): boolean; cudaDeviceCount(): number;
  libtorchVersion(): string; mmapFile(path: string): ArrayBuffer;
  /** libtorch's x86 int8 engine for linearInt8Pack: 'fbgemm', 'onednn', or '' (none). Optional: older addons lack it. */
  int8Engine?(): string;
  /**
   * Exact top-k inner-product scan (native/scan-kernel.h; libtorch-free): for each float32 query ([nq, dim]) the
   * min(k, count) best rows of `data` ([count, dim], read in place from its byteOffset), score descending then
   * row ascending. int8 rows decode as code * scales[j] when `scales` is given. threads < 1 = all cores.
   * Optional: addons built before it lack it.
   */
  scanTopK?(data: ArrayBufferView | ArrayBuffer, dtype: 'float32' | 'bfloat16' | 'int8', queries: Float32Array, dim: number, count: number,
    k: number, threads: number, scales?: Float32Array): { ids: Int32Array; scores: Float32Array; isa: 'avx512f' | 'avx2' | 'scalar' };
}

const ADDON_RELATIVE = join('build', 'Release', 'densekit.node');
let loaded: NativeAddon | undefined;

export function native(): NativeAddon {
  return loaded ?? (loaded = load());
}

/**
 * libgomp reads OMP_WAIT_POLICY once, when libtorch loads. Its default (spin, then sleep) is the fastest on a
 * machine the job has to itself (encoding 11.1 vs 7.9 passages/s with PASSIVE, DistilBERT-base, 2 cores), but
 * when cores are shared its spinning makes each parallel region wait on a descheduled thread (a small query:
 * 30 ms instead of 2 ms on 2 busy cores). Long-running services call this before the addon loads.
 */
export function preferPassiveWaits(): void {
  if (loaded) return;
  process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
}

function load(): NativeAddon {
  const path = findAddon();
  return createRequire(import.meta.url)(path) as NativeAddon;
}

/** Walks up from this file (src/tensor/ under tsx, dist/src/tensor/ when compiled) to the repository root. */
function findAddon(): string {
  const override = process.env.DENSEKIT_ADDON;
  if (override) {
    if (!existsSync(override)) throw new DensekitError(`DENSEKIT_ADDON=${override}: no such file`);
    return resolve(override);
  }
  const searched: string[] = [];
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, ADDON_RELATIVE);
    if (existsSync(candidate)) return candidate;
    searched.push(candidate);
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new DensekitError(
    `the libtorch addon is not built (looked for ${ADDON_RELATIVE} above ${searched[0]}): run \`npx node-gyp rebuild -j 2\` or scripts/setup.sh`,
  );
}
