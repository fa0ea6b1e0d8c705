/**
 * What checksums cost: the cheap check on open (a stat per recorded file) against opening a flat index of
 * BENCH_ROWS x 768 (default 200,000) without records, and the full hash `densekit verify` does (sha256 MB/s).
 * Writes go through AtomicWriter, which hashes as it writes; the build time is printed for reference.
 * Run: nice -n 10 node dist/bench/verify.js   (files are in the page cache, so opening is CPU-bound: the worst case for the check's share)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { buildFlatIndex, FlatIndex } from '../src/retrieval/index.js';
import { hashFileSync } from '../src/util/checksums.js';
import { seededRandom } from '../src/util/random.js';
import { DIM, writeEncodeDir } from './synthetic.js';

const n = Number(process.env.BENCH_ROWS ?? 200_000);
const tmp = mkdtempSync(join(tmpdir(), 'densekit-bench-verify-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const r = seededRandom(7);
const v = new Float32Array(n * DIM);
for (let i = 0; i < v.length; i++) v[i] = r() - 0.5;
writeEncodeDir(join(tmp, 'enc'), v, n);
let t = performance.now();
buildFlatIndex(join(tmp, 'enc'), join(tmp, 'flat'));
console.log(`build ${n} x ${DIM} flat (hashing as it writes): ${((performance.now() - t) / 1000).toFixed(2)} s`);

const metaFile = join(tmp, 'flat', 'index.json');
const withRecords = readFileSync(metaFile, 'utf8');
const meta = JSON.parse(withRecords) as Record<string, unknown>;
delete meta.files;
const without = JSON.stringify(meta, null, 1) + '\n';

async function openMs(): Promise<number> {
  const s = performance.now();
  await FlatIndex.open(join(tmp, 'flat'), { kernel: 'scan' });
  return performance.now() - s;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const times: Record<'with' | 'without', number[]> = { with: [], without: [] };
await openMs(); // warm the page cache and the module
for (let i = 0; i < 15; i++) {
  for (const kind of (i % 2 ? ['with', 'without'] : ['without', 'with']) as Array<'with' | 'without'>) {
    writeFileSync(metaFile, kind === 'with' ? withRecords : without);
    times[kind].push(await openMs());
  }
}
const a = median(times.with), b = median(times.without);
console.log(`open, median of 15: with size checks ${a.toFixed(1)} ms, without records ${b.toFixed(1)} ms: ${(100 * (a / b - 1)).toFixed(1)}% (load ${loadavg()[0]!.toFixed(2)})`);
t = performance.now();
const rec = hashFileSync(join(tmp, 'flat', 'vectors.f32'));
const s = (performance.now() - t) / 1000;
console.log(`sha256 of vectors.f32 (${(rec.bytes / 1e6).toFixed(0)} MB, page cache): ${s.toFixed(2)} s, ${(rec.bytes / 1e6 / s).toFixed(0)} MB/s`);
