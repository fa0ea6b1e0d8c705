/**
 * Paired significance tests over per-query scores: Student's paired t-test, a sign-flip randomization test
 * and a bootstrap confidence interval of the mean difference (both with a seeded generator, so results are
 * reproducible), and Holm-Bonferroni adjustment across several comparisons.
 */

import { seededRandom } from '../util/random.js';

export { seededRandom };

function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return xs.length ? s / xs.length : 0;
}

function differences(a: readonly number[], b: readonly number[]): number[] {
  if (a.length !== b.length) throw new RangeError(`paired samples differ in length (${a.length} vs ${b.length})`);
  return a.map((x, i) => b[i]! - x);
}

export interface TTestResult {
  t: number;
  df: number;
  p: number;
}

/** Two-sided paired t-test of b against a. */
export function pairedTTest(a: readonly number[], b: readonly number[]): TTestResult {
  const d = differences(a, b);
  const n = d.length;
  if (n < 2) return { t: NaN, df: n - 1, p: 1 };
  const m = mean(d);
  let ss = 0;
  for (const x of d) ss += (x - m) * (x - m);
  const sd = Math.sqrt(ss / (n - 1));
  const df = n - 1;
  if (sd === 0) return { t: m === 0 ? 0 : Math.sign(m) * Infinity, df, p: m === 0 ? 1 : 0 };
  const t = m / (sd / Math.sqrt(n));
  return { t, df, p: regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5) };
}

export interface RandomizationOptions {
  permutations?: number;
  seed?: number;
}

/**
 * Two-sided paired randomization test: randomly swaps each query's pair (flips the sign of its difference)
 * and counts permutations whose |mean difference| reaches the observed one; p = (count + 1) / (permutations + 1).
 */
export function randomizationTest(a: readonly number[], b: readonly number[], options: RandomizationOptions = {}): number {
  const permutations = options.permutations ?? 10_000;
  const random = seededRandom(options.seed ?? 42);
  const d = differences(a, b);
  const n = d.length;
  if (n === 0) return 1;
  const observed = Math.abs(mean(d));
  // Compare sums with a relative tolerance so permutations equal to the observed value up to rounding count.
  const threshold = observed * n - 1e-12 * Math.max(1, observed * n);
  let atLeast = 0;
  for (let p = 0; p < permutations; p++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += random() < 0.5 ? -d[i]! : d[i]!;
    if (Math.abs(s) >= threshold) atLeast++;
  }
  return (atLeast + 1) / (permutations + 1);
}

export interface BootstrapOptions {
  samples?: number;
  seed?: number;
  confidence?: number;
}

/** Percentile bootstrap confidence interval of the mean of b - a (resampling queries). */
export function bootstrapInterval(a: readonly number[], b: readonly number[], options: BootstrapOptions = {}): [number, number] {
  const samples = options.samples ?? 10_000;
  const confidence = options.confidence ?? 0.95;
  const random = seededRandom(options.seed ?? 42);
  const d = differences(a, b);
  const n = d.length;
  if (n === 0) return [NaN, NaN];
  const means = new Float64Array(samples);
  for (let s = 0; s < samples; s++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += d[Math.floor(random() * n)]!;
    means[s] = sum / n;
  }
  means.sort();
  const alpha = (1 - confidence) / 2;
  const at = (q: number) => means[Math.min(samples - 1, Math.max(0, Math.floor(q * samples)))]!;
  return [at(alpha), at(1 - alpha)];
}

/** Holm-Bonferroni adjusted p-values (same order as given). */
export function holmBonferroni(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => ({ p, i })).sort((x, y) => x.p - y.p);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}

/** I_x(a, b) by Lentz's continued fraction (Numerical Recipes' betacf). */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(x, a, b)) / a;
  return 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return h;
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9): ~15 significant digits. */
export function logGamma(x: number): number {
  const g = 7;
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  x -= 1;
  let s = c[0]!;
  for (let i = 1; i < g + 2; i++) s += c[i]! / (x + i);
  const t = x + g + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(s);
}
