/**
 * PyTorch checkpoint reader against files made by torch.save itself (test/fixtures/io/make.py) and the values
 * torch reported for them (expected.json): every storage dtype, strided views, shared storages, parameters,
 * the legacy format, deflated archives, and a malicious pickle that must be refused without running anything.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTorchStateDict } from '../src/io/torch-pickle.js';
import { hostToFloat32, type HostDType } from '../src/io/host-tensor.js';
import { repoRoot, readJson, expectOneLineError } from './helpers.js';

const ioFixtures = join(repoRoot, 'test/fixtures/io');
interface Expected { dtype: string; shape: number[]; values: unknown[]; hex: string }
const expected = readJson<Record<string, Expected>>(join(ioFixtures, 'expected.json'));
const TORCH_DTYPES: Record<string, HostDType> = {
  float32: 'float32', float16: 'float16', bfloat16: 'bfloat16', float64: 'float64', int64: 'int64', int32: 'int32',
  int16: 'int16', int8: 'int8', uint8: 'uint8', bool: 'bool',
};
const tmp = mkdtempSync(join(tmpdir(), 'densekit-io-pt-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));


for (const file of ['state.bin', 'state-legacy.bin', 'state-deflated.bin', 'state-zip64.bin', 'state-proto4.bin']) {
  test(`${file}: every tensor matches what torch reported (dtype, shape, C-order bytes, values, key order)`, () => {
    const sd = readTorchStateDict(join(ioFixtures, file));
    assert.deepEqual([...sd.keys()], Object.keys(expected));
    for (const [key, exp] of Object.entries(expected)) {
      const t = sd.get(key)!;
      assert.equal(t.dtype, TORCH_DTYPES[exp.dtype], key);
      assert.deepEqual(t.shape, exp.shape, key);
      assert.equal(Buffer.from(t.data).toString('hex'), exp.hex, key);
      if (['float32', 'float16', 'bfloat16', 'float64'].includes(t.dtype)) {
        const values = t.dtype === 'float64'
          ? [...new Float64Array(new Uint8Array(t.data).buffer)]
          : [...hostToFloat32(t)];
        assert.deepEqual(values, exp.values, key);
      }
    }
  });
}

test('int64 values beyond 2^32 and negative ints decode as torch wrote them', () => {
  const sd = readTorchStateDict(join(ioFixtures, 'state.bin'));
  const i64 = sd.get('i64')!;
  const values = [...new BigInt64Array(new Uint8Array(i64.data).buffer)].map(String);
  assert.deepEqual(values, (expected.i64!.values as number[]).map((v) => BigInt(v).toString()));
});

test('a pickle that calls os.system is refused before anything runs', () => {
  rmSync('/tmp/densekit-pwned', { force: true });
  expectOneLineError(() => readTorchStateDict(join(ioFixtures, 'evil.bin')), /evil\.bin/, /refusing to load global posix\.system/);
  assert.ok(!existsSync('/tmp/densekit-pwned'));
});

test('truncated and corrupted archives fail with one line naming the file', () => {
  const bytes = readFileSync(join(ioFixtures, 'state.bin'));
  const truncated = join(tmp, 'truncated.bin');
  writeFileSync(truncated, bytes.subarray(0, bytes.byteLength - 200));
  expectOneLineError(() => readTorchStateDict(truncated), /truncated\.bin/, /truncated/);

  // Flip a byte inside the f32.base storage: the CRC check must catch it.
  const corrupt = Buffer.from(bytes);
  const at = corrupt.indexOf(Buffer.from(expected['f32.base']!.hex.slice(8, 24), 'hex'));
  assert.ok(at > 0);
  corrupt[at]! ^= 0xff;
  const corruptPath = join(tmp, 'corrupt.bin');
  writeFileSync(corruptPath, corrupt);
  expectOneLineError(() => readTorchStateDict(corruptPath), /corrupt\.bin/, /CRC-32 mismatch/);

  const legacy = readFileSync(join(ioFixtures, 'state-legacy.bin'));
  const legacyTruncated = join(tmp, 'legacy-truncated.bin');
  writeFileSync(legacyTruncated, legacy.subarray(0, legacy.byteLength - 10));
  expectOneLineError(() => readTorchStateDict(legacyTruncated), /legacy-truncated\.bin/, /truncated/);

  const notCheckpoint = join(tmp, 'text.bin');
  writeFileSync(notCheckpoint, 'hello world');
  expectOneLineError(() => readTorchStateDict(notCheckpoint), /text\.bin/, /not a PyTorch checkpoint/);

  expectOneLineError(() => readTorchStateDict(join(tmp, 'absent.bin')), /absent\.bin/, /ENOENT/);
});
