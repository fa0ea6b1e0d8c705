/**
 * safetensors reader and writer against files written by the reference implementation: the fixture models
 * (transformers' save_pretrained) and test/fixtures/io/reference.safetensors (Python safetensors.torch.save_file,
 * see make.py), plus corrupt files that must fail with one line naming the file and the tensor.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSafetensors, writeSafetensors } from '../src/io/safetensors.js';
import { hostToFloat32, type HostDType, type HostTensor } from '../src/io/host-tensor.js';
import { fixturesDir, repoRoot, readJson, expectOneLineError } from './helpers.js';

const ioFixtures = join(repoRoot, 'test/fixtures/io');
const models = join(fixturesDir, 'models');
const TORCH_DTYPES: Record<string, HostDType> = {
  float32: 'float32', float16: 'float16', bfloat16: 'bfloat16', float64: 'float64', int64: 'int64', int32: 'int32',
  int16: 'int16', int8: 'int8', uint8: 'uint8', bool: 'bool',
};
interface Expected { dtype: string; shape: number[]; values: unknown[]; hex: string }

const tmp = mkdtempSync(join(tmpdir(), 'densekit-io-st-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));


test('reads the reference file written by Python safetensors: dtypes, shapes, bytes, metadata', () => {
  const expected = readJson<Record<string, Expected>>(join(ioFixtures, 'reference-safetensors.json'));
  const file = openSafetensors(join(ioFixtures, 'reference.safetensors'));
  assert.deepEqual(file.metadata, { format: 'pt' });
  assert.deepEqual([...file.keys()].sort(), Object.keys(expected).sort());
  for (const [key, exp] of Object.entries(expected)) {
    const t = file.get(key);
    assert.equal(t.dtype, TORCH_DTYPES[exp.dtype], key);
    assert.deepEqual(t.shape, exp.shape, key);
    assert.equal(Buffer.from(t.data).toString('hex'), exp.hex, key);
    if (['float32', 'float16', 'bfloat16'].includes(t.dtype)) assert.deepEqual([...hostToFloat32(t)], exp.values, key);
    assert.deepEqual(file.info(key), { dtype: t.dtype, shape: exp.shape });
  }
});

test('writer output is byte-identical to Python safetensors.torch.save_file (dtype-rank order, padding, metadata)', () => {
  const expected = readJson<Record<string, Expected>>(join(ioFixtures, 'reference-safetensors.json'));
  // Insert in an order unlike the reference's layout to check the writer orders tensors itself.
  const tensors = new Map<string, HostTensor>();
  for (const key of Object.keys(expected).sort().reverse()) {
    const e = expected[key]!;
    tensors.set(key, { dtype: TORCH_DTYPES[e.dtype]!, shape: e.shape, data: new Uint8Array(Buffer.from(e.hex, 'hex')) });
  }
  const out = join(tmp, 'ours.safetensors');
  writeSafetensors(out, tensors);
  assert.ok(readFileSync(out).equals(readFileSync(join(ioFixtures, 'reference.safetensors'))));
});

/** Header JSON and data area of a safetensors file. */
function split(bytes: Buffer): { header: unknown; data: Buffer } {
  const n = Number(bytes.readBigUInt64LE(0));
  return { header: JSON.parse(bytes.subarray(8, 8 + n).toString()), data: bytes.subarray(8 + n) };
}

test('re-writing each fixture model reproduces the same header entries and data area', () => {
  // These files come from an older safetensors that put __metadata__ last, so the header text differs in key
  // order only; the parsed header and the data bytes must be identical.
  for (const rel of ['gtr-t5-tiny-relu/model.safetensors', 'gtr-t5-tiny-relu/2_Dense/model.safetensors',
    'tasb-distilbert-tiny/model.safetensors', 'bert-tiny-mean/model.safetensors']) {
    const src = join(models, rel);
    const file = openSafetensors(src);
    const tensors = new Map(file.keys().map((k) => [k, file.get(k)]));
    const out = join(tmp, 'rewrite.safetensors');
    writeSafetensors(out, tensors, file.metadata);
    const ours = split(readFileSync(out));
    const theirs = split(readFileSync(src));
    assert.deepEqual(ours.header, theirs.header, rel);
    assert.ok(ours.data.equals(theirs.data), rel);
  }
});

test('fixture T5 model stores shared.weight only, float32 [vocab, d_model]', () => {
  const file = openSafetensors(join(models, 'gtr-t5-tiny-relu/model.safetensors'));
  assert.deepEqual(file.info('shared.weight'), { dtype: 'float32', shape: [256, 64] });
  assert.ok(!file.keys().includes('encoder.embed_tokens.weight'));
});

test('f16 and bf16 files follow the format spec exactly', () => {
  // f16: 1.0 = 0x3c00, -2.0 = 0xc000; bf16: 1.0 = 0x3f80, 0.5 = 0x3f00 (little-endian on disk).
  const f16: HostTensor = { dtype: 'float16', shape: [2], data: new Uint8Array([0x00, 0x3c, 0x00, 0xc0]) };
  const bf16: HostTensor = { dtype: 'bfloat16', shape: [1, 2], data: new Uint8Array([0x80, 0x3f, 0x00, 0x3f]) };
  const out = join(tmp, 'half.safetensors');
  writeSafetensors(out, { 'x.half': f16, 'y.bf16': bf16 });
  const json = '{"__metadata__":{"format":"pt"},"y.bf16":{"dtype":"BF16","shape":[1,2],"data_offsets":[0,4]},' +
    '"x.half":{"dtype":"F16","shape":[2],"data_offsets":[4,8]}}';
  const padded = json + ' '.repeat((8 - (json.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(padded.length));
  const expected = Buffer.concat([len, Buffer.from(padded), Buffer.from(bf16.data), Buffer.from(f16.data)]);
  assert.ok(readFileSync(out).equals(expected));
  const back = openSafetensors(out);
  assert.deepEqual([...hostToFloat32(back.get('x.half'))], [1, -2]);
  assert.deepEqual([...hostToFloat32(back.get('y.bf16'))], [1, 0.5]);
});

test('a tensor named like an integer keeps the reference order; scalars and empty tensors round-trip', () => {
  const out = join(tmp, 'odd.safetensors');
  const t = (n: number): HostTensor => ({ dtype: 'float32', shape: [n], data: new Uint8Array(4 * n) });
  writeSafetensors(out, { b: t(1), '0': t(2), scalar: { dtype: 'int64', shape: [], data: new Uint8Array(8).fill(7) }, empty: { dtype: 'float32', shape: [0, 4], data: new Uint8Array(0) } });
  const file = openSafetensors(out);
  assert.deepEqual(file.keys(), ['scalar', '0', 'b', 'empty']);
  assert.deepEqual(file.get('scalar').shape, []);
  assert.equal(file.get('empty').data.byteLength, 0);
  const header = readFileSync(out).subarray(8).toString();
  assert.ok(header.indexOf('"scalar"') < header.indexOf('"0"') && header.indexOf('"0"') < header.indexOf('"b"'));
});

test('writer rejects data whose size does not match the shape', () => {
  expectOneLineError(() => writeSafetensors(join(tmp, 'bad.safetensors'), { w: { dtype: 'float32', shape: [3], data: new Uint8Array(8) } }), /'w'/, /expected 12/);
});

/** Writes a file with a hand-made header (offsets relative to the data area) and `dataBytes` of data. */
function craft(name: string, header: Record<string, unknown>, dataBytes: number): string {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const path = join(tmp, name);
  writeFileSync(path, Buffer.concat([len, json, Buffer.alloc(dataBytes)]));
  return path;
}

test('corrupt files fail with one line naming the file and the tensor', () => {
  const truncated = join(tmp, 'truncated.safetensors');
  copyFileSync(join(models, 'bert-tiny-mean/model.safetensors'), truncated);
  truncateSync(truncated, readFileSync(truncated).byteLength - 100);
  expectOneLineError(() => openSafetensors(truncated), /truncated\.safetensors/, /past the data area|truncated/);

  const lying = craft('lying.safetensors', { a: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 12] } }, 12);
  expectOneLineError(() => openSafetensors(lying), /lying\.safetensors/, /'a'/, /needs 16/);

  const overlap = craft('overlap.safetensors', {
    a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
    b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
  }, 12);
  expectOneLineError(() => openSafetensors(overlap), /overlap\.safetensors/, /'b'/, /overlap/);

  const gap = craft('gap.safetensors', { a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8);
  expectOneLineError(() => openSafetensors(gap), /gap\.safetensors/, /'a'/, /gap/);

  const beyond = craft('beyond.safetensors', { a: { dtype: 'U8', shape: [40], data_offsets: [0, 40] } }, 8);
  expectOneLineError(() => openSafetensors(beyond), /beyond\.safetensors/, /'a'/, /past the data area/);

  const trailing = craft('trailing.safetensors', { a: { dtype: 'U8', shape: [4], data_offsets: [0, 4] } }, 8);
  expectOneLineError(() => openSafetensors(trailing), /trailing\.safetensors/, /covers? 4|cover 4/);

  const dtype = craft('dtype.safetensors', { a: { dtype: 'F8_E4M3', shape: [4], data_offsets: [0, 4] } }, 4);
  expectOneLineError(() => openSafetensors(dtype), /dtype\.safetensors/, /'a'/, /unsupported dtype "F8_E4M3"/);

  const headerLen = join(tmp, 'headerlen.safetensors');
  const b = Buffer.alloc(64);
  b.writeBigUInt64LE(1000n);
  writeFileSync(headerLen, b);
  expectOneLineError(() => openSafetensors(headerLen), /headerlen\.safetensors/, /header length 1000 exceeds/);

  const notJson = join(tmp, 'notjson.safetensors');
  const nj = Buffer.alloc(16, 0x20);
  nj.writeBigUInt64LE(8n);
  nj.write('{oops', 8);
  writeFileSync(notJson, nj);
  expectOneLineError(() => openSafetensors(notJson), /notjson\.safetensors/, /not valid UTF-8 JSON/);

  expectOneLineError(() => openSafetensors(join(tmp, 'missing.safetensors')), /missing\.safetensors/, /ENOENT/);
});

test('a file truncated after opening fails on get with the tensor name', () => {
  const path = join(tmp, 'shrinks.safetensors');
  copyFileSync(join(models, 'bert-tiny-mean/model.safetensors'), path);
  const file = openSafetensors(path);
  const last = file.keys()[file.keys().length - 1]!;
  truncateSync(path, 64);
  expectOneLineError(() => file.get(last), /shrinks\.safetensors/, new RegExp(`'${last.replace(/\./g, '\\.')}'`), /truncated/);
  expectOneLineError(() => file.get('no.such.tensor'), /no tensor named 'no\.such\.tensor'/);
});
