/** resolveModelPath over a fake Hugging Face / sentence-transformers cache tree; never touches the network. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { hubCacheDir, resolveModelPath } from '../src/io/resolve.js';

const root = mkdtempSync(join(tmpdir(), 'densekit-io-resolve-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

function snapshot(hub: string, id: string, rev: string, mtimeSeconds?: number): string {
  const dir = join(hub, `models--${id.replace('/', '--')}`, 'snapshots', rev);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), '{}');
  if (mtimeSeconds !== undefined) utimesSync(dir, mtimeSeconds, mtimeSeconds);
  return dir;
}

const hub = join(root, 'hub');
const env = { HF_HUB_CACHE: hub, SENTENCE_TRANSFORMERS_HOME: join(root, 'st') };

test('an existing local folder wins, returned absolute', () => {
  const local = join(root, 'local-model');
  mkdirSync(local);
  assert.equal(resolveModelPath(local, env), local);
  assert.equal(resolveModelPath(relative(process.cwd(), local), env), local);
});

test('hub id resolves through refs/main', () => {
  snapshot(hub, 'acme/gtr', 'aaaa', 1_000_000);
  const main = snapshot(hub, 'acme/gtr', 'bbbb', 900_000);
  mkdirSync(join(hub, 'models--acme--gtr', 'refs'), { recursive: true });
  writeFileSync(join(hub, 'models--acme--gtr', 'refs', 'main'), 'bbbb\n');
  assert.equal(resolveModelPath('acme/gtr', env), main);
});

test('without refs/main the most recently modified snapshot is used', () => {
  snapshot(hub, 'acme/tasb', 'old', 1_000_000);
  const recent = snapshot(hub, 'acme/tasb', 'new', 2_000_000);
  assert.equal(resolveModelPath('acme/tasb', env), recent);
});

test('a bare name also tries the sentence-transformers organisation, as sentence-transformers does', () => {
  const dir = snapshot(hub, 'sentence-transformers/gtr-t5-base', 'cccc');
  assert.equal(resolveModelPath('gtr-t5-base', env), dir);
});

test('the sentence-transformers cache (org_name folders) is searched after the hub cache', () => {
  const dir = join(root, 'st', 'acme_colbert');
  mkdirSync(dir, { recursive: true });
  assert.equal(resolveModelPath('acme/colbert', env), dir);
});

test('HF_HOME/hub is the hub cache when HF_HUB_CACHE is unset', () => {
  assert.equal(hubCacheDir({ HF_HOME: '/x/hf' }), '/x/hf/hub');
  assert.equal(hubCacheDir({ HF_HUB_CACHE: '/y', HF_HOME: '/x/hf' }), '/y');
  const home = join(root, 'hfhome');
  const dir = snapshot(join(home, 'hub'), 'acme/bert', 'dddd');
  assert.equal(resolveModelPath('acme/bert', { HF_HOME: home, SENTENCE_TRANSFORMERS_HOME: join(root, 'st') }), dir);
});

test('a miss is one line listing every place looked', () => {
  assert.throws(() => resolveModelPath('acme/missing', env), (e: Error) => {
    assert.ok(!e.message.includes('\n'));
    assert.match(e.message, /^acme\/missing: not a local folder and not in the Hugging Face or sentence-transformers cache/);
    assert.ok(e.message.includes(join(hub, 'models--acme--missing', 'snapshots')));
    assert.ok(e.message.includes(join(root, 'st', 'acme_missing')));
    return true;
  });
  assert.throws(() => resolveModelPath('./no/such/dir', env), /\.\/no\/such\/dir: model folder does not exist/);
  assert.throws(() => resolveModelPath('/abs/none', env), /\/abs\/none: model folder does not exist/);
});
