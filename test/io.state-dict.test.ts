/** loadStateDict: file choice (safetensors first, then shards, then .bin), sharded indexes, and clear failures. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadStateDict } from '../src/io/state-dict.js';
import { openSafetensors, writeSafetensors } from '../src/io/safetensors.js';
import type { HostTensor } from '../src/io/host-tensor.js';
import { fixturesDir, repoRoot, readJson, expectOneLineError } from './helpers.js';

const models = join(fixturesDir, 'models');
const ioFixtures = join(repoRoot, 'test/fixtures/io');
const tmp = mkdtempSync(join(tmpdir(), 'densekit-io-sd-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => {
  const d = join(tmp, `m${n++}`);
  mkdirSync(d);
  return d;
};


function assertSameTensors(a: Map<string, HostTensor>, b: Map<string, HostTensor>): void {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  for (const [k, t] of a) {
    const u = b.get(k)!;
    assert.equal(t.dtype, u.dtype, k);
    assert.deepEqual(t.shape, u.shape, k);
    assert.ok(Buffer.from(t.data).equals(Buffer.from(u.data)), k);
  }
}

const gtrDir = join(models, 'gtr-t5-tiny-relu');
const gtrFile = openSafetensors(join(gtrDir, 'model.safetensors'));
const gtr = new Map(gtrFile.keys().map((k) => [k, gtrFile.get(k)]));

test('loads model.safetensors of the fixture models', () => {
  const sd = loadStateDict(gtrDir);
  assertSameTensors(sd, gtr);
});

test('loads sharded safetensors through model.safetensors.index.json', () => {
  const dir = freshDir();
  const keys = [...gtr.keys()];
  const half = Math.ceil(keys.length / 2);
  const shards = [keys.slice(0, half), keys.slice(half)];
  const weightMap: Record<string, string> = {};
  shards.forEach((part, i) => {
    const name = `model-0000${i + 1}-of-00002.safetensors`;
    writeSafetensors(join(dir, name), new Map(part.map((k) => [k, gtr.get(k)!])));
    for (const k of part) weightMap[k] = name;
  });
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
  assertSameTensors(loadStateDict(dir), gtr);

  // A shard file that is listed but absent, and a tensor that is listed but not in its shard.
  const missingShard = { ...weightMap, extra: 'model-00003-of-00002.safetensors' };
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: missingShard }));
  expectOneLineError(() => loadStateDict(dir), /model\.safetensors\.index\.json/, /shard 'model-00003-of-00002\.safetensors'.*does not exist/);
  const missingTensor = { ...weightMap, 'ghost.weight': 'model-00001-of-00002.safetensors' };
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: missingTensor }));
  expectOneLineError(() => loadStateDict(dir), /model-00001-of-00002\.safetensors/, /tensor 'ghost\.weight' is listed/);
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { a: '../x.safetensors' } }));
  expectOneLineError(() => loadStateDict(dir), /weight_map\["a"\] must be a shard file name/);
});

test('loads pytorch_model.bin and sharded .bin; safetensors wins when both exist', () => {
  const expected = readJson<Record<string, { hex: string; shape: number[] }>>(join(ioFixtures, 'expected.json'));
  const dir = freshDir();
  copyFileSync(join(ioFixtures, 'state.bin'), join(dir, 'pytorch_model.bin'));
  const sd = loadStateDict(dir);
  assert.deepEqual([...sd.keys()], Object.keys(expected));
  for (const [k, e] of Object.entries(expected)) assert.equal(Buffer.from(sd.get(k)!.data).toString('hex'), e.hex, k);

  writeSafetensors(join(dir, 'model.safetensors'), { only: gtr.get('shared.weight')! });
  assert.deepEqual([...loadStateDict(dir).keys()], ['only']);

  const sharded = freshDir();
  copyFileSync(join(ioFixtures, 'state-legacy.bin'), join(sharded, 'pytorch_model-00001-of-00001.bin'));
  writeFileSync(join(sharded, 'pytorch_model.bin.index.json'), JSON.stringify({
    weight_map: { 'f32.base': 'pytorch_model-00001-of-00001.bin', 'bf16': 'pytorch_model-00001-of-00001.bin' },
  }));
  const part = loadStateDict(sharded);
  assert.deepEqual([...part.keys()].sort(), ['bf16', 'f32.base']);
  assert.equal(Buffer.from(part.get('bf16')!.data).toString('hex'), expected.bf16!.hex);
});

test('no weights, a truncated file, and a malformed index fail with one line naming the file', () => {
  const empty = freshDir();
  expectOneLineError(() => loadStateDict(empty), new RegExp(`${empty}: no model weights found`), /model\.safetensors, model\.safetensors\.index\.json, pytorch_model\.bin/);

  const truncated = freshDir();
  copyFileSync(join(gtrDir, 'model.safetensors'), join(truncated, 'model.safetensors'));
  truncateSync(join(truncated, 'model.safetensors'), readFileSync(join(gtrDir, 'model.safetensors')).byteLength - 1);
  expectOneLineError(() => loadStateDict(truncated), /model\.safetensors/, /truncated/);

  const truncatedBin = freshDir();
  const bin = readFileSync(join(ioFixtures, 'state.bin'));
  writeFileSync(join(truncatedBin, 'pytorch_model.bin'), bin.subarray(0, bin.byteLength >> 1));
  expectOneLineError(() => loadStateDict(truncatedBin), /pytorch_model\.bin/, /truncated/);

  const badIndex = freshDir();
  writeFileSync(join(badIndex, 'model.safetensors.index.json'), '{"weight_map": 3}');
  expectOneLineError(() => loadStateDict(badIndex), /model\.safetensors\.index\.json: field "weight_map" must be an object/);
});
