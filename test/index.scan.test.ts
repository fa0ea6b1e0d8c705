import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeManifest, writeShard, type EmbeddingManifest } from '../src/formats/index.js';
import { buildFlatIndex, FlatIndex, recallAtK } from '../src/retrieval/index.js';
import { int8Scales, quantizeRows, toBfloat16 } from '../src/retrieval/quantize.js';
import { nativeScan, scanTopKJs, type ScanDType, type ScanResult } from '../src/retrieval/scan-kernel.js';
import { seededRandom } from '../src/util/random.js';

const tmp = mkdtempSync(join(tmpdir(), 'densekit-scan-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const scan = nativeScan();
const noAddon = scan ? false : 'the densekit addon (with scanTopK) is not built';

const rng = seededRandom;

/** Clustered unit vectors (as real embeddings are) plus exact duplicate rows, which create score ties. */
function clustered(n: number, dim: number, seed: number, duplicates = 0, centers = 20): Float32Array {
  const r = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const cs = Array.from({ length: centers }, () => Float64Array.from({ length: dim }, gauss));
  const v = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const c = cs[Math.floor(r() * cs.length)]!;
    const row = Array.from({ length: dim }, (_, j) => c[j]! + 0.6 * gauss());
    const norm = Math.sqrt(row.reduce((a, x) => a + x * x, 0));
    row.forEach((x, j) => (v[i * dim + j] = x / norm));
  }
  for (let d = 0; d < duplicates; d++) {
    const src = Math.floor(r() * n), dst = Math.floor(r() * n);
    v.copyWithin(dst * dim, src * dim, (src + 1) * dim);
  }
  return v;
}

/** Decoded value of element i (independent of src/retrieval: bf16 = high half of the float32 bits). */
function decoder(dtype: ScanDType, data: Float32Array | Uint16Array | Int8Array, dim: number, scales?: Float32Array): (i: number) => number {
  if (dtype === 'bfloat16') {
    const f = new Float32Array(1), u = new Uint32Array(f.buffer);
    return (i) => ((u[0] = data[i]! * 65536), f[0]!);
  }
  if (dtype === 'int8') return (i) => data[i]! * (scales ? scales[i % dim]! : 1);
  return (i) => data[i]!;
}

/** Reference: every score in double over decoded values; order score desc (as float32), then row asc. */
function bruteForce(dtype: ScanDType, data: Float32Array | Uint16Array | Int8Array, q: Float32Array, dim: number, k: number, scales?: Float32Array) {
  const value = decoder(dtype, data, dim, scales);
  const n = data.length / dim;
  return Array.from({ length: q.length / dim }, (_, qi) => {
    const scored = Array.from({ length: n }, (_, r) => {
      let s = 0;
      for (let j = 0; j < dim; j++) s += q[qi * dim + j]! * value(r * dim + j);
      return { row: r, exact: s, score: Number.isNaN(s) ? -Infinity : Math.fround(s) }; // NaN ranks last, as documented
    });
    scored.sort((a, b) => b.score - a.score || a.row - b.row);
    return { top: scored.slice(0, k), all: scored };
  });
}

function lists(r: ScanResult): { rows: number[]; scores: number[] }[] {
  const out = [];
  for (let i = 0; i < r.rows.length / r.perQuery; i++) {
    out.push({ rows: [...r.rows.subarray(i * r.perQuery, (i + 1) * r.perQuery)], scores: [...r.scores.subarray(i * r.perQuery, (i + 1) * r.perQuery)] });
  }
  return out;
}

/**
 * float32-accumulated kernels (bf16, int8) may round differently from the double reference: each returned score
 * must be within `tol` of the exact one, the list sorted by the kernel's scores, and no row left out may beat
 * the k-th returned row by more than 2 * tol.
 */
function assertTopKWithin(got: ScanResult, ref: ReturnType<typeof bruteForce>, tol: number, label: string): void {
  lists(got).forEach((l, qi) => {
    const exactOf = new Map(ref[qi]!.all.map((e) => [e.row, e.exact]));
    assert.equal(l.rows.length, ref[qi]!.top.length, label);
    for (let i = 0; i < l.rows.length; i++) {
      assert.ok(Math.abs(l.scores[i]! - exactOf.get(l.rows[i]!)!) <= tol, `${label}: query ${qi} row ${l.rows[i]} score ${l.scores[i]} vs ${exactOf.get(l.rows[i]!)}`);
      if (i > 0) assert.ok(l.scores[i - 1]! > l.scores[i]! || (l.scores[i - 1] === l.scores[i] && l.rows[i - 1]! < l.rows[i]!), `${label}: order`);
    }
    const kth = Math.min(...l.rows.map((r) => exactOf.get(r)!));
    const kept = new Set(l.rows);
    for (const e of ref[qi]!.all) if (!kept.has(e.row)) assert.ok(e.exact <= kth + 2 * tol, `${label}: query ${qi} missed row ${e.row} (${e.exact} > ${kth})`);
  });
}

const dim = 67; // not a multiple of any vector width: exercises every tail loop
const n = 9000; // > 2 x 4096 rows, so two threads really split the rows
const vectors = clustered(n, dim, 1, 400);
const queries = clustered(12, dim, 2);
queries.set(vectors.subarray(7 * dim, 8 * dim), 0); // a self-match
queries.fill(0, 11 * dim, 12 * dim); // every score ties at 0: rows 0..k-1 in order
const maxAbs = new Float32Array(dim);
for (let i = 0; i < vectors.length; i++) maxAbs[i % dim] = Math.max(maxAbs[i % dim]!, Math.abs(vectors[i]!));
const scales = int8Scales(maxAbs);
const codes8 = new Int8Array(vectors.length);
quantizeRows(vectors, scales, codes8);
const bf16 = new Uint16Array(vectors.length);
toBfloat16(vectors, bf16);
const ISAS = ['', 'avx2', 'scalar'];

function withIsa<T>(isa: string, fn: () => T): T {
  const before = process.env.DENSEKIT_SCAN_ISA;
  if (isa) process.env.DENSEKIT_SCAN_ISA = isa;
  else delete process.env.DENSEKIT_SCAN_ISA;
  try {
    return fn();
  } finally {
    if (before === undefined) delete process.env.DENSEKIT_SCAN_ISA;
    else process.env.DENSEKIT_SCAN_ISA = before;
  }
}

test('float32 scan equals a double-accumulated brute force exactly (rows, float32 scores, ties by row) on every SIMD path', { skip: noAddon }, () => {
  for (const k of [1, 10, 257]) {
    const ref = bruteForce('float32', vectors, queries, dim, k);
    const expected = ref.map((r) => ({ rows: r.top.map((e) => e.row), scores: r.top.map((e) => e.score) }));
    for (const isa of ISAS) assert.deepEqual(lists(withIsa(isa, () => scan!(vectors, 'float32', queries, dim, k, 2))), expected, `isa ${isa || 'best'}, k=${k}`);
  }
  const zero = lists(scan!(vectors, 'float32', queries.subarray(11 * dim), dim, 5, 2))[0]!;
  assert.deepEqual(zero.rows, [0, 1, 2, 3, 4]);
  // k beyond the collection: every row, once.
  const all = scan!(vectors.subarray(0, 50 * dim), 'float32', queries.subarray(dim, 2 * dim), dim, 80, 1);
  assert.equal(all.perQuery, 50);
  assert.deepEqual([...all.rows].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
});

test('bf16 and int8 scans rank decoded rows (int8 with per-dimension scales) like a brute force over decoded values', { skip: noAddon }, () => {
  const cases: [ScanDType, Uint16Array | Int8Array, Float32Array | undefined][] = [['bfloat16', bf16, undefined], ['int8', codes8, scales]];
  for (const [dtype, data, sc] of cases) {
    const ref = bruteForce(dtype, data, queries, dim, 20, sc);
    // float32 accumulation over 67 terms of magnitude <= |q_j x_j|: well under 1e-5 for unit vectors.
    for (const isa of ISAS) assertTopKWithin(withIsa(isa, () => scan!(data, dtype, queries, dim, 20, 2, sc)), ref, 1e-5, `${dtype} isa ${isa || 'best'}`);
    assertTopKWithin(scanTopKJs(data, dtype, queries, dim, 20, sc), ref, 1e-6, `${dtype} js fallback`);
    assert.deepEqual(lists(scan!(data, dtype, queries.subarray(11 * dim), dim, 4, 2, sc))[0]!.rows, [0, 1, 2, 3], `${dtype} all-tie query`);
  }
});

test('threads 1, 2 and 3 and one-query-at-a-time give identical results; byteOffset is honored', { skip: noAddon }, () => {
  const cases: [ScanDType, Float32Array | Uint16Array | Int8Array, Float32Array | undefined][] = [['float32', vectors, undefined], ['bfloat16', bf16, undefined], ['int8', codes8, scales]];
  for (const [dtype, data, sc] of cases) {
    const one = scan!(data, dtype, queries, dim, 15, 1, sc);
    for (const threads of [2, 3, 0]) assert.deepEqual(scan!(data, dtype, queries, dim, 15, threads, sc), one, `${dtype} threads ${threads}`);
    const single = Array.from({ length: queries.length / dim }, (_, qi) => lists(scan!(data, dtype, queries.subarray(qi * dim, (qi + 1) * dim), dim, 15, 2, sc))[0]);
    assert.deepEqual(single, lists(one), `${dtype} batch vs single`);
    // The same rows placed 64 bytes into a larger buffer (as a view into a mapped file would be).
    const pad = 64 / data.BYTES_PER_ELEMENT;
    const Ctor = data.constructor as new (b: ArrayBuffer, o: number, l: number) => typeof data;
    const shifted = new Ctor(new ArrayBuffer(data.byteLength + 128), 64, data.length);
    shifted.set(data as never);
    new Ctor(shifted.buffer as ArrayBuffer, 0, pad).fill(127 as never); // garbage before the view must not be read
    assert.deepEqual(scan!(shifted, dtype, queries, dim, 15, 2, sc), one, `${dtype} byteOffset`);
  }
  const q2 = queries.slice(0, 2 * dim);
  const shiftedQ = new Float32Array(new ArrayBuffer(q2.byteLength + 8), 8, q2.length);
  shiftedQ.set(q2);
  assert.deepEqual(scan!(vectors, 'float32', shiftedQ, dim, 5, 2), scan!(vectors, 'float32', q2, dim, 5, 2));
  assert.throws(() => scan!(vectors.subarray(0, 10 * dim), 'float32', queries, dim + 1, 5, 1), /multiple of dim|fewer than/);
});

test('batches (scored in float32 tiles with an error bound, then rescored) equal one query at a time: near-ties, overflow, tiny and NaN rows, every row type', { skip: noAddon }, () => {
  const d = 67, rows = 6000;
  const r = rng(11);
  const data = clustered(rows, d, 5, 0, 10);
  // Rows 0..599: permutations of one row's magnitudes, one coordinate lowered by 0-3 ulps. Against an all-ones
  // query their exact sums differ by less than float32 summation's rounding (which depends on the order), so
  // a float32 pass alone misranks them; many tie exactly.
  const base = Array.from(data.subarray(3000 * d, 3001 * d), Math.abs);
  for (let i = 0; i < 600; i++) {
    const perm = base.map((v) => [r(), v] as const).sort((a, b) => a[0] - b[0]).map((e) => e[1]);
    const j = Math.floor(r() * d);
    perm[j] = Math.fround(perm[j]! * (1 - Math.floor(r() * 4) * 2 ** -23));
    data.set(perm, i * d);
  }
  // Products that overflow float32 partial sums but not double: +/-3e37 pairs cancel in the exact sum.
  for (let j = 0; j < d; j++) data[700 * d + j] = j % 2 === 0 ? 3e37 : -3e37;
  for (let j = 0; j < d; j++) data[701 * d + j] = 3e37; // a sum that is +inf in float32 and in double rounded to float32
  for (let j = 0; j < d; j++) data[702 * d + j] = data[702 * d + j]! * 1e-30; // tiny: products underflow
  data[703 * d + 5] = NaN;
  data.fill(0, 704 * d, 705 * d);
  const qs = clustered(10, d, 6, 0, 10);
  qs.fill(1, 0, d); // all ones: the permuted rows near-tie; row 700 cancels to 0 exactly
  qs.fill(1, 4 * d, 6 * d);
  qs.set(base, d);
  for (let j = 0; j < d; j++) qs[d + j] = qs[d + j]! * 1e20; // huge query
  for (let j = 0; j < d; j++) qs[2 * d + j] = 1 + 2 ** -20 * (j % 3);
  qs.fill(0, 3 * d, 4 * d);
  for (const k of [1, 10, 50, 700]) {
    const batch = lists(scan!(data, 'float32', qs, d, k, 2));
    const single = Array.from({ length: 10 }, (_, qi) => lists(scan!(data, 'float32', qs.subarray(qi * d, (qi + 1) * d), d, k, 2))[0]);
    assert.deepEqual(batch, single, `k=${k}`);
    // And the exact reference: rows by (float32 of the double sum) desc, then row asc.
    const ref = bruteForce('float32', data, qs.subarray(0, 3 * d), d, k);
    ref.forEach((e, qi) => assert.deepEqual(batch[qi]!.rows, e.top.map((t) => t.row), `k=${k} query ${qi} vs brute force`));
  }
  // bf16 and int8 rows: the same near-ties (permuted rows: equal products summed in another order) and specials.
  const bf = new Uint16Array(data.length);
  toBfloat16(data, bf);
  const codes = Int8Array.from(data, (x) => (Number.isFinite(x) ? Math.max(-127, Math.min(127, Math.round(x * 300))) : 0));
  const codeScales = Float32Array.from({ length: d }, (_, j) => 1 + j / 7);
  for (const [dtype, rowsOf, sc] of [['bfloat16', bf, undefined], ['int8', codes, codeScales]] as const) {
    for (const k of [1, 10, 50, 700]) {
      const batch = lists(scan!(rowsOf, dtype, qs, d, k, 2, sc));
      const single = Array.from({ length: 10 }, (_, qi) => lists(scan!(rowsOf, dtype, qs.subarray(qi * d, (qi + 1) * d), d, k, 2, sc))[0]);
      assert.deepEqual(batch, single, `${dtype} k=${k}`);
    }
  }
});

function writeEncodeDir(name: string, ids: string[], v: Float32Array, d: number): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  const shardSize = 2500;
  const shards = [];
  for (let s = 0; s * shardSize < ids.length; s++) {
    const a = s * shardSize, b = Math.min(ids.length, a + shardSize);
    shards.push(writeShard(dir, s, ids.slice(a, b), v.slice(a * d, b * d), d));
  }
  const m: EmbeddingManifest = {
    format: 'densekit-embeddings', version: 1, model: 'test', kind: 'passage', dim: d, dtype: 'float32', similarity: 'cosine', input: 'test',
    total: ids.length, shardSize, shards, truncated: { count: 0, maxLength: 0 }, complete: true,
  };
  writeManifest(dir, m);
  return dir;
}

test('bf16 and int8 flat indexes: recall@10 >= 0.99 vs float32 after exact rescoring, with exact float32 scores', async () => {
  const d = 96, count = 6000;
  // Many tight clusters: neighbours are close in score, which is where compressed scans lose recall.
  const docs = clustered(count, d, 3, 0, 300);
  const q = clustered(100, d, 4, 0, 300);
  const ids = Array.from({ length: count }, (_, i) => `d${(i * 7919) % 10007}`);
  const enc = writeEncodeDir('enc', ids, docs, d);
  buildFlatIndex(enc, join(tmp, 'f32'));
  const exact = (await FlatIndex.open(join(tmp, 'f32'), { threads: 2 })).search(q, 10);
  for (const storage of ['bf16', 'int8'] as const) {
    const dir = join(tmp, storage);
    const meta = buildFlatIndex(enc, dir, { storage });
    assert.equal(meta.storage, storage);
    if (storage === 'bf16') assert.equal(statSync(join(dir, 'vectors.bf16')).size * 2, statSync(join(dir, 'vectors.f32')).size);
    const index = await FlatIndex.open(dir, { threads: 2 });
    assert.equal(index.compressedKernel, scan ? 'scan' : storage === 'int8' ? 'usearch' : 'js');
    const approx = index.search(q, 10);
    const recall = recallAtK(approx, exact);
    assert.ok(recall >= 0.99, `${storage} recall@10 ${recall}`);
    approx.forEach((list, qi) => {
      const truth = new Map(exact[qi]!.map((h) => [h.id, h.score]));
      for (const h of list) if (truth.has(h.id)) assert.equal(h.score, truth.get(h.id), `${storage}: rescored scores are the exact float32 ones`);
    });
    // One query at a time gives the same hits as the batch.
    assert.deepEqual(index.search(q.subarray(5 * d, 6 * d), 10)[0], approx[5]);
    // Scanning the float32 rows of the same folder is exact.
    assert.deepEqual((await FlatIndex.open(dir, { useCompressed: false, threads: 2 })).search(q.subarray(0, 10 * d), 10), exact.slice(0, 10));
  }
});
