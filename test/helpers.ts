/** Paths and small utilities shared by tests. */
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';

/** Repo root, whether tests run from test/ (tsx) or dist/test/ (compiled). */
export const repoRoot = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!JSON.parse(safeRead(resolve(dir, 'package.json')) ?? '{"name":""}').name?.startsWith?.('densekit')) {
    const up = dirname(dir);
    if (up === dir) throw new Error('repo root not found');
    dir = up;
  }
  return dir;
})();

function safeRead(p: string): string | undefined {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}

/** ../shared beside the checkout; DENSEKIT_SHARED names another copy (scripts/gpu-check.sh carries the fixtures it needs). */
export const sharedDir = resolve(repoRoot, process.env.DENSEKIT_SHARED ?? '../shared');
export const fixturesDir = resolve(sharedDir, 'fixtures');
export const datasetsDir = resolve(sharedDir, 'datasets');

export function readJson<T = unknown>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Asserts that fn throws an error whose message is one line matching every pattern (the bad-input rule). */
export function expectOneLineError(fn: () => unknown, ...parts: RegExp[]): void {
  assert.throws(fn, (e: Error) => {
    assert.ok(!e.message.includes('\n'), `multi-line message: ${e.message}`);
    for (const p of parts) assert.match(e.message, p);
    return true;
  });
}

/** Cosine similarity of two vectors (in float64). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}
