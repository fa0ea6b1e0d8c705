/** Independent reference arithmetic for the tensor tests (plain JS, no libtorch). Not a test file itself. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** ../shared resolved from the repository root (found by walking up from this file: test/ or dist/test/). */
export function sharedPath(relative: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return resolve(dir, '..', 'shared', relative);
}

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what = 'values'): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e)) {
      assert.ok(Number.isNaN(a), `${what}[${i}]: expected NaN, got ${a}`);
      continue;
    }
    const err = Math.abs(a - e);
    assert.ok(err <= tol * Math.max(1, Math.abs(e)), `${what}[${i}]: got ${a}, expected ${e} (tolerance ${tol})`);
  }
}

/** float32 -> bfloat16 bits, round to nearest even (the rule PyTorch's c10::BFloat16 applies). */
export function bf16Bits(x: number): number {
  const u = new Uint32Array(new Float32Array([x]).buffer)[0]!;
  if (Number.isNaN(x)) return 0x7fc0;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

export function bf16Round(x: number): number {
  return new Float32Array(new Uint32Array([bf16Bits(x) << 16]).buffer)[0]!;
}

function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** float32 value -> nearest IEEE half (as a number), round to nearest even, overflow to ±Infinity. */
export function f16Round(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const a = Math.abs(x);
  const e = Math.max(Math.floor(Math.log2(a)), -14);
  // log2 can be off by one near powers of two: fix the binade exactly.
  let exp = e;
  if (2 ** exp > a && exp > -14) exp -= 1;
  if (2 ** (exp + 1) <= a) exp += 1;
  const ulp = 2 ** (Math.max(exp, -14) - 10);
  const r = roundHalfEven(a / ulp) * ulp;
  const out = r >= 65520 ? Infinity : r;
  return x < 0 ? -out : out;
}

/** erf by its Maclaurin series (float64; accurate to ~1e-13 for |x| <= 3, which the tests stay within). */
export function erf(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (-x * x) / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-17) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

/** Deterministic pseudo-random floats in [-scale, scale) (mulberry32). */
export function randomValues(n: number, seed: number, scale = 1): number[] {
  let a = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out.push(((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * scale);
  }
  return out;
}
