/**
 * Per-op overhead and large-matmul speed of the addon, in CPU time (steadier than wall time on a shared box).
 * Run: node --import tsx native/bench-overhead.ts   (a candidate for bench/tensor.ts)
 */
import { ones, randn, scope } from '../src/tensor/index.js';

function cpuMicros(fn: () => void): number {
  const start = process.cpuUsage();
  fn();
  const used = process.cpuUsage(start);
  return used.user + used.system;
}

const n = 200_000;
const a = ones([4]);
const b = ones([4]);
for (let round = 0; round < 3; round++) {
  const perOp = cpuMicros(() => {
    for (let i = 0; i < n; i++) a.add(b).dispose();
  }) / n;
  const inScope = cpuMicros(() => {
    for (let j = 0; j < n / 1000; j++) scope(() => {
      for (let i = 0; i < 1000; i++) a.add(b);
    });
  }) / n;
  console.log(`tiny add: ${perOp.toFixed(2)} us/op with dispose(), ${inScope.toFixed(2)} us/op inside scope()`);
}
for (const size of [256, 512, 1024]) {
  const x = randn([size, size]);
  const y = randn([size, size]);
  x.matmul(y).dispose();
  const reps = 3;
  const ms = cpuMicros(() => {
    for (let i = 0; i < reps; i++) x.matmul(y).dispose();
  }) / reps / 1000;
  console.log(`matmul ${size}x${size}: ${ms.toFixed(1)} ms CPU`);
}
