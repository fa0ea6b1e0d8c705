import { test } from 'node:test';
import assert from 'node:assert/strict';
import { choosePrecision, parseCpuFlags } from '../src/tensor/cpu.js';

// Excerpts of real /proc/cpuinfo "flags" lines.
const ZEN4 = 'processor\t: 0\nflags\t\t: fpu sse2 avx2 fma avx512f avx512dq avx512_bf16 avx512_vnni\nbogomips\t: 5192.20\n';
const SPR = 'flags\t\t: fpu avx2 avx512f avx512_bf16 amx_bf16 amx_tile amx_int8\n';
const ICELAKE = 'flags\t\t: fpu avx2 fma avx512f avx512_vnni\n';

test('native bf16 is read from the avx512_bf16 / amx_bf16 flags', () => {
  assert.equal(parseCpuFlags(ZEN4).nativeBf16, true);
  assert.equal(parseCpuFlags(SPR).nativeBf16, true);
  assert.equal(parseCpuFlags(ICELAKE).nativeBf16, false);
  assert.equal(parseCpuFlags('').nativeBf16, false); // unknown (not Linux): no claim
  assert.ok(parseCpuFlags(ZEN4).flags.has('avx512_vnni'));
});

test('auto picks bf16 only on a CPU with native bf16; an explicit bf16 elsewhere warns; other requests are kept', () => {
  assert.deepEqual(choosePrecision('auto', 'cpu', parseCpuFlags(ZEN4)), { dtype: 'bf16', note: 'dtype auto: bf16 (this CPU has avx512_bf16)' });
  assert.equal(choosePrecision('auto', 'cpu', parseCpuFlags(SPR)).note, 'dtype auto: bf16 (this CPU has avx512_bf16, amx_bf16)');
  assert.equal(choosePrecision('auto', 'cpu', parseCpuFlags(ICELAKE)).dtype, 'fp32');
  assert.equal(choosePrecision('auto', 'cuda', parseCpuFlags(ZEN4)).dtype, 'fp32');
  const slow = choosePrecision('bf16', 'cpu', parseCpuFlags(ICELAKE));
  assert.equal(slow.dtype, 'bf16');
  assert.match(slow.warning!, /slower than fp32/);
  assert.equal(choosePrecision('bf16', 'cpu', parseCpuFlags(ZEN4)).warning, undefined);
  assert.equal(choosePrecision('fp32', 'cpu', parseCpuFlags(ZEN4)).dtype, 'fp32');
});
