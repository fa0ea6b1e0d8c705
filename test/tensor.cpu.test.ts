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

const ONEDNN = () => 'onednn';
const NONE = () => '';
const ZEN3 = 'flags\t\t: fpu avx2 fma\n';

test('auto picks bf16 only on a CPU with native bf16, never int8 (batch-dependent vectors), and names int8 where it would be faster', () => {
  assert.deepEqual(choosePrecision('auto', 'cpu', parseCpuFlags(ZEN4), ONEDNN), {
    dtype: 'bf16', note: 'dtype auto: bf16 (this CPU has avx512_bf16; --dtype int8 is faster here (avx512_vnni), with vectors that depend on their batch)',
  });
  // auto never asks libtorch (it must not load the addon): the note follows the CPU flags alone.
  const asked = () => assert.fail('auto asked libtorch for its int8 engine');
  assert.equal(choosePrecision('auto', 'cpu', parseCpuFlags(ZEN4), asked).dtype, 'bf16');
  assert.equal(choosePrecision('auto', 'cpu', parseCpuFlags(SPR), asked).note.startsWith('dtype auto: bf16 (this CPU has avx512_bf16, amx_bf16; '), true);
  assert.deepEqual(choosePrecision('auto', 'cpu', parseCpuFlags('flags : avx2 avx512_bf16\n'), asked), { dtype: 'bf16', note: 'dtype auto: bf16 (this CPU has avx512_bf16)' });
  assert.match(choosePrecision('auto', 'cpu', parseCpuFlags(SPR), () => 'fbgemm').note, /int8 is faster here \(amx_int8\)/);
  const icelake = choosePrecision('auto', 'cpu', parseCpuFlags(ICELAKE), ONEDNN);
  assert.equal(icelake.dtype, 'fp32');
  assert.match(icelake.note, /no avx512_bf16 or amx_bf16 on this CPU; --dtype int8 is faster here \(avx512_vnni\)/);
  assert.equal(choosePrecision('auto', 'cpu', parseCpuFlags(ZEN3), ONEDNN).note, 'dtype auto: fp32 (no avx512_bf16 or amx_bf16 on this CPU)');
  assert.equal(choosePrecision('auto', 'cuda', parseCpuFlags(ZEN4), ONEDNN).dtype, 'fp32');
  assert.equal(parseCpuFlags(ZEN3).int8Dot, false);
  assert.equal(parseCpuFlags(ZEN4).int8Dot, true);
  assert.equal(parseCpuFlags('flags : avx2 avx_vnni\n').int8Dot, true);
});

test('explicit requests are kept: bf16 without native bf16 and int8 without VNNI warn; int8 off the CPU or without an engine is refused', () => {
  const slow = choosePrecision('bf16', 'cpu', parseCpuFlags(ICELAKE));
  assert.equal(slow.dtype, 'bf16');
  assert.match(slow.warning!, /slower than fp32/);
  assert.equal(choosePrecision('bf16', 'cpu', parseCpuFlags(ZEN4)).warning, undefined);
  assert.equal(choosePrecision('fp32', 'cpu', parseCpuFlags(ZEN4)).dtype, 'fp32');
  assert.deepEqual(choosePrecision('int8', 'cpu', parseCpuFlags(ZEN4), ONEDNN), { dtype: 'int8', note: 'dtype int8 (onednn)' });
  assert.match(choosePrecision('int8', 'cpu', parseCpuFlags(ZEN3), ONEDNN).warning!, /without avx512_vnni, avx_vnni or amx_int8/);
  assert.throws(() => choosePrecision('int8', 'cuda', parseCpuFlags(ZEN4), ONEDNN), /CPU only/);
  assert.throws(() => choosePrecision('int8', 'cpu', parseCpuFlags(ZEN4), NONE), /no x86 int8 engine/);
});
