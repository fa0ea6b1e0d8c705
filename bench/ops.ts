/**
 * npm run bench:ops — where encoder time goes, op by op: each op of a DistilBERT-base / T5-base layer on the shapes
 * of a batch of 32 passages x BENCH_LENGTH tokens (default 128), timed alone through densekit's addon and through
 * PyTorch (Debian's python3-torch: the same libtorch 1.13 build, so the same kernels) in the same run, median of
 * BENCH_REPS (default 15); BENCH_THREADS threads (default: 1 and 2). A ratio far from 1 names the op whose cost
 * differs between the two front ends; ratios near 1 everywhere put the difference outside the kernels.
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { F, manualSeed, ones, randn, setNumThreads, zeros, type Tensor } from '../src/tensor/index.js';

const L = Number(process.env.BENCH_LENGTH ?? 128);
const REPS = Number(process.env.BENCH_REPS ?? 15);
const THREADS = (process.env.BENCH_THREADS ?? '1,2').split(',').map(Number);
const repo = new URL('..', import.meta.url).pathname.replace(/dist\/$/, '');
const B = 32, D = 768, H = 12, FF = 3072;

function scaled(shape: number[], s: number): Tensor {
  const t = randn(shape);
  const out = t.mul(s);
  t.dispose();
  return out;
}

manualSeed(0);
const x = randn([B, L, D]), h = randn([B, L, FF]);
const wdd = scaled([D, D], 0.02), bd = scaled([D], 0.02), wfd = scaled([FF, D], 0.02), bf = scaled([FF], 0.02), wdf = scaled([D, FF], 0.02);
const q = randn([B, H, L, 64]), k = randn([B, H, 64, L]), s = randn([B, H, L, L]);
const mask = zeros([B, 1, 1, L], { dtype: 'bool' });
const tail = mask.narrow(3, L - 5, 5);
tail.fill_(1);
tail.dispose();
const lnW = ones([D]), lnB = zeros([D]);

const ops: Record<string, () => Tensor> = {
  'linear 768->768 +bias': () => F.linear(x, wdd, bd),
  'linear 768->3072 +bias': () => F.linear(x, wfd, bf),
  'linear 3072->768 +bias': () => F.linear(h, wdf, bd),
  'linear 768->768 no bias': () => F.linear(x, wdd),
  'matmul q@k^T': () => q.matmul(k),
  'matmul p@v': () => s.matmul(q),
  softmax: () => s.softmax(-1),
  masked_fill: () => s.maskedFill(mask, -Infinity),
  layer_norm: () => F.layerNorm(x, [D], lnW, lnB, 1e-12),
  gelu: () => h.gelu(),
  relu: () => h.relu(),
  add: () => x.add(x),
  'transpose+reshape': () => {
    const v = x.view([B, L, H, 64]);
    const t = v.transpose(1, 2);
    const r = t.reshape([B, H * L, 64]);
    v.dispose();
    t.dispose();
    return r;
  },
  'rms (T5 LayerNorm)': () => {
    const sq = x.pow(2), m = sq.mean(-1, true), e = m.add(1e-6), r = e.rsqrt(), n = x.mul(r), out = lnW.mul(n);
    for (const t of [sq, m, e, r, n]) t.dispose();
    return out;
  },
};

function densekitTimes(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, fn] of Object.entries(ops)) {
    for (let i = 0; i < 2; i++) fn().dispose();
    const ts: number[] = [];
    for (let i = 0; i < REPS; i++) {
      const t0 = performance.now();
      const r = fn();
      ts.push(performance.now() - t0);
      r.dispose();
    }
    ts.sort((a, b) => a - b);
    out[name] = ts[Math.floor(ts.length / 2)]!;
  }
  return out;
}

for (const threads of THREADS) {
  setNumThreads(threads);
  const ours = densekitTimes();
  const py = spawnSync('/usr/bin/python3', [join(repo, 'bench/reference/torch_ops.py'), String(threads), String(L), String(REPS)], { encoding: 'utf8' });
  const theirs = py.status === 0 ? (JSON.parse(py.stdout) as Record<string, number>) : undefined;
  console.log(`\n${threads} thread(s), batch ${B} x ${L} tokens, median of ${REPS} (ms)${theirs ? '' : `; PyTorch: ${py.stderr.trim().split('\n').at(-1) ?? 'not installed (apt-get install python3-torch)'}`}`);
  console.log(`${'op'.padEnd(26)} ${'densekit'.padStart(9)} ${'PyTorch'.padStart(9)} ${'ratio'.padStart(7)}`);
  let sumOurs = 0, sumTheirs = 0;
  for (const name of Object.keys(ops)) {
    const a = ours[name]!, b = theirs?.[name];
    sumOurs += a;
    sumTheirs += b ?? 0;
    console.log(`${name.padEnd(26)} ${a.toFixed(2).padStart(9)} ${b === undefined ? '-'.padStart(9) : b.toFixed(2).padStart(9)} ${b === undefined ? '' : (a / b).toFixed(2).padStart(7)}`);
  }
  if (theirs) console.log(`${'sum'.padEnd(26)} ${sumOurs.toFixed(2).padStart(9)} ${sumTheirs.toFixed(2).padStart(9)} ${(sumOurs / sumTheirs).toFixed(2).padStart(7)}`);
}
console.log(`load average ${loadavg().map((v) => v.toFixed(1)).join(' ')}`);
